// consent-forms.js: records what a consent form showed and what the person ticked.
//
// Markup:  <form data-consent-form="contact">
//            <input type="email" name="email" data-consent-subject="email">
//            <label><input type="checkbox" data-consent-purpose="newsletter"> Send me …</label>
//          </form>
// On submit the form's boxes (the label text as shown, its language, ticked or not, ticked in
// the HTML before the person acted) go to POST /consent/forms. The site's own submit is never
// held up or stopped: the record is sent with `keepalive`, and a record the gateway could not
// take (offline, 5xx) waits in localStorage and is sent again on the next page.
// CSP: no eval, no inline styles; `connect-src` must name the gateway (as for the banner).
(() => {
  "use strict";
  /** @type {{endpoint: string, revision: number}} */
  const config = CG_FORMS; // eslint-disable-line no-undef -- prepended by the gateway
  const SPOOL_KEY = "cg_form_spool";
  const MAX_SPOOLED = 20;
  const HONEYPOT = "data-consent-honeypot";

  const squash = (text) => text.replace(/\s+/g, " ").trim();

  function labelOf(box) {
    const label = (box.labels && box.labels[0]) || box.closest("label");
    return label ? squash(label.textContent || "") : "";
  }

  function languageOf(element) {
    const owner = element.closest("[lang]");
    return (owner && owner.lang) || document.documentElement.lang || navigator.language || "en";
  }

  function honeypotOf(form) {
    let trap = form.querySelector(`[${HONEYPOT}]`);
    if (!trap) {
      // Hidden from people and from assistive technology, unnamed so the site never gets it.
      trap = document.createElement("input");
      trap.type = "text";
      trap.hidden = true;
      trap.tabIndex = -1;
      trap.autocomplete = "off";
      trap.setAttribute("aria-hidden", "true");
      trap.setAttribute(HONEYPOT, "");
      form.appendChild(trap);
    }
    return trap;
  }

  function submissionOf(form) {
    const address = form.querySelector('[data-consent-subject="email"]');
    const boxes = form.querySelectorAll('input[type="checkbox"][data-consent-purpose]');
    return {
      form: form.getAttribute("data-consent-form") || "",
      page: location.pathname,
      policy_revision: config.revision,
      language: languageOf(form),
      email: address ? address.value : "",
      honeypot: honeypotOf(form).value,
      purposes: Array.from(boxes, (box) => ({
        purpose: box.getAttribute("data-consent-purpose") || "",
        label: labelOf(box),
        language: languageOf(box),
        ticked: box.checked,
        initially_checked: box.defaultChecked,
      })),
    };
  }

  function spool(body) {
    try {
      const waiting = JSON.parse(localStorage.getItem(SPOOL_KEY) || "[]");
      waiting.push(body);
      localStorage.setItem(SPOOL_KEY, JSON.stringify(waiting.slice(-MAX_SPOOLED)));
    } catch (error) {
      // storage is off or full: the record is lost, the site works on
    }
  }

  function send(body) {
    return fetch(config.endpoint, {
      method: "POST",
      credentials: "include",
      keepalive: true,
      headers: { "Content-Type": "application/json" },
      body,
    }).then(
      (answer) => {
        if (answer.status >= 500) {
          spool(body);
        } else if (!answer.ok) {
          // A form the gateway refuses (a pre-ticked box, an unknown purpose) is the site's
          // bug: say so where its developer looks.
          answer.json().then(
            (problem) => console.error(`consent-gateway: ${problem.error}: ${problem.detail}`),
            () => console.error(`consent-gateway: form consent refused (${answer.status})`),
          );
        }
        return answer;
      },
      () => spool(body),
    );
  }

  function replaySpool() {
    let waiting = [];
    try {
      waiting = JSON.parse(localStorage.getItem(SPOOL_KEY) || "[]");
      localStorage.removeItem(SPOOL_KEY);
    } catch (error) {
      return;
    }
    for (const body of waiting) send(body);
  }

  function onSubmit(event) {
    try {
      const form = event.target instanceof Element && event.target.closest("form[data-consent-form]");
      if (form) send(JSON.stringify(submissionOf(form)));
    } catch (error) {
      console.error("consent-gateway: form consent not recorded", error);
    }
  }

  // Loaded twice (the site's own tag and the banner's), it still records each form once.
  if (window.consentForms) return;
  window.consentForms = { version: 1 };
  // Capture phase: seen even when the site's own handler stops the event or sends by fetch.
  document.addEventListener("submit", onSubmit, true);
  for (const form of document.querySelectorAll("form[data-consent-form]")) honeypotOf(form);
  replaySpool();
})();
