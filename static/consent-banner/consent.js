/**
 * consent-gateway banner: one <script> first in <head>, no dependencies, no build step.
 * The gateway serves it as /consent.js with the site's config in place of the placeholder
 * below (built by gateway/banner/config.py). CSP-clean: no eval, no inline styles, text only
 * through textContent; all state is classes on one root element, styled by /consent.css.
 * The gateway drops whole-line comments and indentation when serving: so no code line may
 * start with "//", "/*" or "*".
 *
 * @typedef {{id: string, name: string, category: string, policyUrl: string,
 *   cookies: string[], description?: string}} Vendor  cookies may hold one "*" wildcard
 * @typedef {object} BannerConfig
 * @property {number} revision  policy revision; a choice made under another one is asked again
 * @property {string} endpoint  gateway base URL, no trailing slash
 * @property {string} cssUrl  the stylesheet this script links
 * @property {string} cookieName  the signed consent cookie (read here, verified by the server)
 * @property {string} policyUrl  privacy policy; "" shows no link
 * @property {string[]} categories  in display order, "necessary" first and always on
 * @property {Vendor[]} vendors
 * @property {Record<string, Record<string, string>>} texts  language → key → text
 * @property {Record<string, string[]>} consentMode  category → Google Consent Mode signals
 * @property {boolean} floatingButton  a button to reopen the preferences after a choice
 *
 * @typedef {{id: string, revision: number, granted: string[], denied: string[],
 *   chosen_at: string, gpc: boolean}} ConsentState  the shape of GET/POST /consent "consent"
 */
((w, d) => {
  "use strict";
  /** @type {BannerConfig} */
  const C = /*@config*/null;
  if (!C || w.consentGateway) return;
  const NEC = "necessary";
  const MKT = "marketing";
  const gpc = navigator.globalPrivacyControl === true;
  const optional = C.categories.filter((c) => c !== NEC);

  // Google Consent Mode v2: everything denied but security, before any tag can run.
  const dl = (w.dataLayer = w.dataLayer || []);
  const gtag = w.gtag || (w.gtag = function () { dl.push(arguments); });
  /** @param {string[]} granted */
  const signals = (granted) => {
    /** @type {Record<string, string>} */
    const s = {};
    const all = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
      "functionality_storage", "personalization_storage"];
    for (const x of all.concat(...Object.values(C.consentMode))) s[x] = "denied";
    for (const c of granted) for (const x of C.consentMode[c] || []) s[x] = "granted";
    s.security_storage = "granted";
    return s;
  };
  gtag("consent", "default", signals([]));

  /** @type {ConsentState | null} */
  let state = null;
  /** @type {Record<string, Function[]>} */
  const handlers = {};
  /** @param {string} name @param {unknown} detail */
  const emit = (name, detail) => {
    for (const fn of handlers[name] || []) {
      try { fn(detail); } catch (e) { console.error(e); }
    }
    if (name === "change") d.dispatchEvent(new CustomEvent("consent:change", { detail }));
  };
  const get = () => state && { ...state, granted: [...state.granted], denied: [...state.denied] };
  /** @param {string | undefined} c */
  const allowed = (c) => c === NEC || (!!state && state.granted.includes(c || ""));

  /** @param {ConsentState | null} s */
  const apply = (s) => {
    // GPC is an opt-out of marketing that no earlier choice overrides.
    state = s && { ...s, granted: s.granted.filter((c) => !(gpc && c === MKT)) };
    if (state) state.denied = optional.filter((c) => !allowed(c));
    gtag("consent", "update", signals(optional.filter(allowed)));
    scan(d);
    if (root) root.classList.toggle("cg--has", !!state);
    emit("change", get());
  };

  /** The choice in the cookie, if readable and made under the current revision. */
  const fromCookie = () => {
    const raw = d.cookie.split("; ").find((c) => c.startsWith(C.cookieName + "="));
    if (!raw) return null;
    try {
      const b64 = raw.slice(C.cookieName.length + 1).split(".")[0];
      const p = JSON.parse(atob(b64.replace(/-/g, "+").replace(/_/g, "/")));
      if (p.r !== C.revision || !Array.isArray(p.g)) return null;
      return ({ id: p.i, revision: p.r, granted: p.g, denied: [],
        chosen_at: new Date(p.t * 1000).toISOString(), gpc: !!p.p });
    } catch { return null; }
  };

  // Blocked elements: inert until their category is granted, then activated exactly once.
  const SEL = 'script[type="text/plain"][data-consent],[data-consent][data-src]';
  /** @param {Element} el */
  const activate = (el) => {
    const e = /** @type {HTMLElement} */ (el);
    if (!e.isConnected || !allowed(e.dataset.consent)) return;
    const src = e.dataset.src;
    if (e.tagName !== "SCRIPT") {
      if (e.dataset.srcset) e.setAttribute("srcset", e.dataset.srcset);
      e.removeAttribute("data-src");
      e.setAttribute("src", src || "");
      return;
    }
    const s = d.createElement("script");
    for (const a of e.attributes) if (a.name !== "type" && a.name !== "data-src") s.setAttribute(a.name, a.value);
    s.type = e.dataset.type || "text/javascript";
    s.nonce = e.nonce || "";
    if (src) s.src = src;
    if (s.src) s.async = e.hasAttribute("async");
    else s.text = e.textContent || "";
    e.replaceWith(s);
  };
  /** @param {Node} n */
  const scan = (n) => {
    if (n instanceof Element && n.matches(SEL)) activate(n);
    if (n instanceof Element || n instanceof Document) n.querySelectorAll(SEL).forEach(activate);
  };
  new MutationObserver((records) => {
    for (const r of records) r.addedNodes.forEach(scan);
  }).observe(d.documentElement, { childList: true, subtree: true });

  /** @param {string} method @param {object} [body] */
  const api = (method, body) => fetch(C.endpoint + "/consent", {
    method, credentials: "include",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body && JSON.stringify(body),
  }).then((r) => { if (!r.ok) throw new Error(method + " " + r.status); return r.json(); });

  const lang = [d.documentElement.lang, ...(navigator.languages || [])]
    .map((l) => (l || "").toLowerCase().split(/[-_]/)[0])
    .find((l) => C.texts[l]) || "en";
  /** @param {string} k */
  const t = (k) => (C.texts[lang] || {})[k] ?? (C.texts.en || {})[k] ?? k;

  /**
   * @param {string} tag @param {string} [cls] @param {string} [text]
   * @param {Record<string, string>} [attrs]
   */
  const h = (tag, cls, text, attrs = {}) => {
    const e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  };

  /** @type {HTMLElement | undefined} */
  let root;
  /** @type {HTMLElement} */
  let box, title, desc, msg, note, third;
  /** @type {Element | null} */
  let back = null;
  let prefs = false;
  let busy = false;

  const build = () => {
    root = h("div", "cg" + (gpc ? " cg--gpc" : ""), "", { lang });
    box = h("div", "cg-d", "", { role: "dialog", "aria-modal": "true", tabindex: "-1",
      "aria-labelledby": "cg-t", "aria-describedby": "cg-x" });
    title = h("h2", "cg-t", "", { id: "cg-t" });
    desc = h("span");
    const p = h("p", "cg-x", "", { id: "cg-x" });
    p.append(desc);
    if (C.policyUrl) p.append(" ", h("a", "", t("policy_link"), { href: C.policyUrl }));
    const close = h("button", "cg-c", "×", { type: "button", "aria-label": t("close") });
    close.onclick = () => hide();
    box.append(close, title, p);
    if (gpc) box.append(h("p", "cg-g", t("gpc_notice")));
    const list = h("div", "cg-p");
    for (const c of C.categories) list.append(category(c));
    msg = h("p", "cg-m", "", { role: "status" });
    const row = h("div", "cg-b");
    /** @param {string} k @param {() => unknown} fn */
    const button = (k, fn) => {
      const b = h("button", "cg-btn", t(k), { type: "button" });
      b.onclick = () => Promise.resolve(fn()).catch(() => {});
      row.append(b);
      return b;
    };
    button("accept_all", () => choose({ action: "accept_all" }));
    button("reject_all", () => choose({ action: "reject_all" }));
    third = button("customise", () => prefs ? choose({ granted: checked() }) : open(true));
    const withdrawButton = h("button", "cg-w", t("withdraw"), { type: "button" });
    withdrawButton.onclick = () => withdraw().catch(() => {});
    box.append(list, msg, row, withdrawButton);
    box.onkeydown = keys;
    const overlay = h("div", "cg-o");
    overlay.append(box);
    note = h("div", "cg-a", "", { role: "status" });
    root.append(overlay, note);
    if (C.floatingButton) {
      const fab = h("button", "cg-f", "", { type: "button", "aria-label": t("settings"), title: t("settings") });
      fab.onclick = () => open(true);
      root.append(fab);
    }
    root.classList.toggle("cg--has", !!state);
    d.body.append(root);
  };

  /** @param {string} c */
  const category = (c) => {
    const id = "cg-c-" + c;
    const row = h("div", "cg-r");
    const head = h("div", "cg-h");
    const input = h("input", "cg-s", "", { type: "checkbox",
      role: "switch", id, value: c, "aria-describedby": id + "-d" });
    input.disabled = c === NEC || (gpc && c === MKT);
    input.checked = c === NEC;
    head.append(h("label", "cg-l", t("category_" + c), { for: id }));
    if (c === NEC) head.append(h("span", "cg-on", t("always_on")));
    head.append(input);
    row.append(head, h("p", "cg-cd", t("category_" + c + "_description"), { id: id + "-d" }));
    const vendors = C.vendors.filter((v) => v.category === c);
    if (vendors.length) {
      const more = h("details", "cg-v");
      const ul = h("ul");
      more.append(h("summary", "", t("vendors") + " (" + vendors.length + ")"), ul);
      for (const v of vendors) {
        const li = h("li");
        li.append(h("a", "", v.name, { href: v.policyUrl, target: "_blank", rel: "noopener" }));
        if (v.description) li.append(h("span", "cg-k", v.description));
        if (v.cookies.length) li.append(h("span", "cg-k", t("cookies") + ": " + v.cookies.join(", ")));
        ul.append(li);
      }
      row.append(more);
    }
    return row;
  };

  const checked = () => [...box.querySelectorAll("input.cg-s:checked:enabled")]
    .map((i) => i.value);

  /** @param {boolean} layer2  the preferences layer, else the first layer */
  const open = (layer2) => {
    if (!root) build();
    prefs = layer2;
    root.classList.toggle("cg--p", prefs);
    title.textContent = t(prefs ? "preferences_title" : "title");
    desc.textContent = t(prefs ? "preferences_description" : "description");
    third.textContent = t(prefs ? "save" : "customise");
    note.textContent = "";
    for (const i of box.querySelectorAll("input.cg-s:enabled")) {
      i.checked = !!state && allowed(i.value);
    }
    if (!root.classList.contains("cg--open")) {
      back = d.activeElement;
      root.classList.add("cg--open");
      emit("show", prefs ? "preferences" : "banner");
    }
    box.focus();
  };

  const hide = () => {
    if (!root || !root.classList.contains("cg--open")) return;
    root.classList.remove("cg--open");
    msg.textContent = "";
    const fab = root.querySelector(".cg-f");
    const target = back && back.isConnected && back !== d.body ? back : state && fab;
    if (target) target.focus();
    emit("hide", null);
  };

  /** Focus stays in the dialog; Escape goes back a layer or closes once a choice exists. */
  /** @param {KeyboardEvent} e */
  const keys = (e) => {
    if (e.key === "Escape") {
      if (state) hide();
      else if (prefs) open(false);
      return;
    }
    if (e.key !== "Tab") return;
    const f = [...box.querySelectorAll("a[href],button,input:enabled,summary")]
      .filter((x) => x.getClientRects().length);
    const first = f[0];
    const last = f[f.length - 1];
    const at = d.activeElement;
    if (e.shiftKey ? at === first || at === box : at === last) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  };
  d.addEventListener("focusin", (e) => {
    if (root && root.classList.contains("cg--open") && !box.contains(e.target)) box.focus();
  });
  d.addEventListener("click", (e) => {
    const link = e.target instanceof Element && e.target.closest("[data-consent-open]");
    if (link) { e.preventDefault(); show(); }
  });

  /** @param {{action?: string, granted?: string[]}} choice */
  const choose = async (choice) => {
    if (busy) throw new Error("busy");
    /** @type {{action?: string, granted?: string[]}} */
    let body = choice;
    if (choice.granted) body = { granted: choice.granted.filter((c) => optional.includes(c)) };
    // GPC: marketing is never granted, so "accept all" becomes every other category.
    if (gpc && body.action === "accept_all") body = { granted: optional };
    if (gpc && body.granted) body = { granted: body.granted.filter((c) => c !== MKT) };
    busy = true;
    try {
      const r = await api("POST", { ...body, language: lang, page: location.pathname });
      apply(r.consent);
      hide();
      if (note) note.textContent = t("saved");
      return get();
    } catch (error) {
      if (root) msg.textContent = t("error");
      throw error;
    } finally {
      busy = false;
    }
  };

  /** @param {string} pattern @param {string} name */
  const matches = (pattern, name) => {
    const [head, tail] = pattern.split("*");
    return tail === undefined ? pattern === name
      : name.length > pattern.length - 1 && name.startsWith(head) && name.endsWith(tail);
  };
  /** Expire matching cookies host-only and on every parent domain, at path /. */
  /** @param {string[]} patterns */
  const deleteCookies = (patterns) => {
    const labels = location.hostname.split(".");
    for (const c of d.cookie.split("; ")) {
      const name = c.split("=")[0];
      if (!name || !patterns.some((p) => matches(p, name))) continue;
      d.cookie = name + "=; Max-Age=0; Path=/";
      for (let i = 0; i < labels.length - 1; i++) {
        d.cookie = name + "=; Max-Age=0; Path=/; Domain=" + labels.slice(i).join(".");
      }
    }
  };

  const withdraw = async () => {
    let names = C.vendors.flatMap((v) => v.cookies).concat(C.cookieName);
    /** @type {unknown} */
    let failure = null;
    try {
      names = names.concat((await api("DELETE")).delete_cookies || []);
    } catch (error) { failure = error; }
    // Cookies go and tracking stops even if the server could not record the withdrawal.
    deleteCookies(names);
    apply(null);
    await ready;
    open(false);
    msg.textContent = t(failure ? "error" : "withdrawn");
    if (failure) throw failure;
  };

  const ready = Promise.all([
    new Promise((done) => {
      const link = h("link", "", "", { rel: "stylesheet", href: C.cssUrl });
      link.onload = link.onerror = done;
      setTimeout(done, 3000);
      d.head.append(link);
    }),
    new Promise((done) => {
      if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", done);
      else done(null);
    }),
  ]);
  const show = () => ready.then(() => open(!!state));

  w.consentGateway = {
    show,
    get,
    /** @param {string[]} [categories]  all when omitted */
    accept: (categories) => choose(categories ? { granted: categories } : { action: "accept_all" }),
    reject: () => choose({ action: "reject_all" }),
    withdraw,
    /** @param {"change" | "show" | "hide"} event @param {Function} fn @returns {() => void} */
    on: (event, fn) => {
      (handlers[event] = handlers[event] || []).push(fn);
      return () => { handlers[event] = handlers[event].filter((f) => f !== fn); };
    },
  };

  const saved = fromCookie();
  if (saved) apply(saved);
  // Without a readable cookie (it may be host-only on the gateway), ask the gateway.
  const known = saved ? null : api("GET")
    .then((r) => { if (r.consent && r.consent.revision === C.revision) apply(r.consent); })
    .catch(() => {});
  Promise.all([known, ready]).then(() => {
    if (!root) build();
    if (!state) open(false);
  });
})(window, document);
