/**
 * Loading the lazy part of the banner once: its script (lazy.js, served as /consent-lazy.js)
 * and its stylesheet (consent-lazy.css, /consent-lazy.css), both from the gateway.
 */

import { config, lazyStylesheet } from "./config.js";
import { core } from "./core.js";
import { element } from "./dom.js";

/** @type {Promise<import("./lazy.js").Lazy> | undefined} */
let lazy;

/**
 * A promise that `element` loads (rejected if it fails), once it is appended to <head>.
 * @param {HTMLScriptElement | HTMLLinkElement} loading
 * @returns {Promise<unknown>}
 */
const loaded = (loading) =>
  new Promise((resolve, reject) => {
    loading.onload = resolve;
    loading.onerror = reject;
    document.head.append(loading);
  });

/** The lazy part, loaded on first use (again after a failure). */
export const loadLazy = () =>
  (lazy ||= Promise.all([
    new Promise((resolve, reject) => {
      window.__consentGateway = { core: core(), loaded: resolve };
      loaded(element("script", "", "", { src: config.endpoint + "/consent-lazy.js" })).catch(reject);
    }),
    loaded(element("link", "", "", { rel: "stylesheet", href: lazyStylesheet })),
  ]).then(
    ([part]) => /** @type {import("./lazy.js").Lazy} */ (part),
    (error) => {
      lazy = undefined;
      throw error;
    },
  ));
