/**
 * Blocked elements: `<script type="text/plain" data-consent>` and any `[data-consent]
 * [data-src]` stay inert until their vendor (data-vendor, when it names one) or else their
 * category (data-consent) is allowed, then are activated exactly once. A blocked `<iframe>`
 * or `<div>` embed shows a placeholder meanwhile, which keeps the embed's size: an iframe gets
 * it inside its own still-empty document (nothing on the page moves), a div as its child
 * (size the div like the embed). "Load once" activates just that one; "Always allow" grants
 * that vendor (or category) only, on top of what is allowed now.
 */

import { choose } from "./choices.js";
import { categoryOf, config, gpc, MARKETING, vendors } from "./config.js";
import { all, button, element } from "./dom.js";
import { choiceFrom } from "./preferences.js";
import { ready } from "./ready.js";
import { allowed } from "./state.js";
import { language, loadDetails, text } from "./texts.js";

const BLOCKED = 'script[type="text/plain"][data-consent],[data-consent][data-src]';
/** @type {WeakSet<HTMLElement>} */
const withPlaceholder = new WeakSet();

/**
 * The vendor an element waits for, when it names a known one; else its category.
 * @param {HTMLElement} blocked
 */
const awaited = (blocked) => {
  const { vendor = "", consent = "" } = blocked.dataset;
  return vendors[vendor] ? vendor : consent;
};

/**
 * A vendor's name, or a category's (a detail text).
 * @param {string} id
 */
const nameOf = (id) => (vendors[id] ? vendors[id].name : text("category_" + id));

/**
 * Activate `blocked` if what it waits for is allowed (or `once`: "Load once"), else give an
 * embed its placeholder.
 * @param {HTMLElement} blocked
 * @param {boolean} [once]
 */
const activate = (blocked, once) => {
  const { src = "", title, type } = blocked.dataset;
  const tag = blocked.tagName;
  if (!blocked.isConnected) return;
  if (!once && !allowed(awaited(blocked))) {
    if (!withPlaceholder.has(blocked) && (tag === "IFRAME" || tag === "DIV"))
      showPlaceholder(blocked);
    return;
  }
  blocked.removeAttribute("data-src");
  if (tag === "DIV")
    blocked.replaceChildren(
      element("iframe", "cg-if", "", { src, title: title || nameOf(awaited(blocked)) }),
    );
  // An <iframe> is replaced by a copy that has its src from the start: setting src on one the
  // parser is still attaching can lose to its first about:blank load.
  else if (tag === "IFRAME") blocked.replaceWith(Object.assign(blocked.cloneNode(), { src }));
  else if (tag !== "SCRIPT") blocked.setAttribute("src", src);
  else {
    const script = document.createElement("script");
    for (const attribute of blocked.attributes)
      if (attribute.name !== "type") script.setAttribute(attribute.name, attribute.value);
    script.type = type || "text/javascript";
    script.nonce = blocked.nonce || "";
    if (src) script.src = src;
    if (script.src) script.async = blocked.hasAttribute("async");
    else script.text = blocked.textContent || "";
    blocked.replaceWith(script);
  }
};

/**
 * Activate (or hold with a placeholder) `node` and every blocked element in it.
 * @param {Node} node
 */
export const activateBlocked = (node) => {
  const isElement = node instanceof Element;
  if (isElement && node.matches(BLOCKED)) activate(/** @type {HTMLElement} */ (node));
  if (isElement || node === document)
    all(BLOCKED, /** @type {ParentNode} */ (node)).forEach((blocked) => activate(blocked));
};

/** @param {HTMLElement} blocked  an `<iframe>` or a `<div>` */
const showPlaceholder = (blocked) => {
  const frame = blocked instanceof HTMLIFrameElement ? blocked : null;
  const id = awaited(blocked);
  const fill = () => {
    const doc = frame ? frame.contentDocument : document;
    if (!doc || !blocked.dataset.src || all(".cg-e", frame ? doc : blocked)[0]) return;
    const name = nameOf(id);
    const box = element("div", "cg cg-e", "", { lang: language, role: "group", "aria-label": name });
    const buttons = element("div", "cg-b");
    button(buttons, text("load_once"), () => activate(blocked, true));
    if (!(gpc && categoryOf(id) === MARKETING))
      button(buttons, text("always_allow").replace("%s", name), () =>
        choose(choiceFrom((other) => other === id || categoryOf(other) === id || allowed(other))),
      );
    box.append(element("p", "cg-t", name), element("p", "cg-x", text("embed").replace("%s", name)), buttons);
    if (frame) {
      doc.head.append(element("link", "", "", { rel: "stylesheet", href: config.cssUrl }));
      doc.body.className = "cg-eb";
    }
    (frame ? doc.body : blocked).append(box);
  };
  withPlaceholder.add(blocked);
  // The empty document an <iframe> starts with may be replaced when it "loads": fill again.
  if (frame) frame.addEventListener("load", fill);
  // A category's embed (no known vendor) is named by its category, a text of the details.
  (vendors[id] ? ready : loadDetails()).then(fill, () => {});
};
