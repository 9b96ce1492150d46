/**
 * consent-gateway banner: one <script> first in <head>, no dependency. The gateway serves the
 * build of these modules (one minified IIFE, gateway/banner/build.mjs) as /consent.js with the
 * site's config in it. CSP-clean: no eval, no inline styles, text only through textContent;
 * all state is classes on one root element, styled by /consent.css.
 */

import { request } from "./api.js";
import { choose, messageFromBeforeReload } from "./choices.js";
import { config } from "./config.js";
import { signalConsentMode } from "./consent-mode.js";
import { draw, markChoice, openLayer, say, trapFocus, useActions } from "./dialog.js";
import { all } from "./dom.js";
import { activateBlocked } from "./embeds.js";
import { loadLazy } from "./load-lazy.js";
import { pageApi } from "./page-api.js";
import { prepare, ready } from "./ready.js";
import { setState, state, stateFromCookie } from "./state.js";
import { loadDetails } from "./texts.js";

const start = () => {
  // Consent Mode: everything denied but security, before any tag can run.
  signalConsentMode("default", () => false);
  useActions({
    accept: () => pageApi.accept(),
    reject: pageApi.reject,
    save: () => loadLazy().then((lazy) => choose(lazy.choiceFromSwitches())),
    withdraw: pageApi.withdraw,
  });
  document.addEventListener("consent:change", () => {
    activateBlocked(document);
    markChoice();
  });
  new MutationObserver((records) => {
    for (const record of records) record.addedNodes.forEach(activateBlocked);
  }).observe(document.documentElement, { childList: true, subtree: true });
  trapFocus();
  document.addEventListener("click", (event) => {
    if (/** @type {Element} */ (event.target).closest?.("[data-consent-open]")) {
      event.preventDefault();
      pageApi.show();
    }
  });
  prepare();
  window.consentGateway = pageApi;

  const fromCookie = stateFromCookie();
  if (fromCookie) setState(fromCookie);
  const message = messageFromBeforeReload();
  const known =
    fromCookie ||
    request("GET").then(
      (answer) => answer.consent?.revision === config.revision && setState(answer.consent),
      () => {},
    );
  Promise.all([known, ready]).then(() => {
    // Elements marked data-consent-notice="<vendor id>" show that vendor's notice.
    for (const target of all("[data-consent-notice]"))
      loadLazy()
        .then((lazy) => lazy.notice(target.dataset.consentNotice || "", target))
        .catch(() => {});
    activateBlocked(document);
    draw();
    if (!state) openLayer();
    // What the dialog said before the reload it triggered (a withdrawal), said once more.
    if (message) loadDetails().then(() => say(message), () => say(message));
  });
};

// A second copy of the script on the page does nothing.
if (!window.consentGateway) start();
