/** The banner's language and texts; the preferences layer's come from the gateway. */

import { request } from "./api.js";
import { config, vendors } from "./config.js";

/** The page's language if there are texts for it, else the browser's first, else English. */
export const language =
  [document.documentElement.lang, ...navigator.languages]
    .map((tag) => (tag || "").toLowerCase().split(/[-_]/)[0])
    .find((code) => config.texts[code]) || "en";

/**
 * A text in the banner's language (its key until the details bring it).
 * @param {string} key
 */
export const text = (key) => config.texts[language][key] ?? key;

/** @type {Promise<void> | undefined} */
let details;

/**
 * The preferences layer's texts and the vendors' descriptions, links, cookies and notices
 * (GET /consent/details): fetched once, when first needed, and again after a failure.
 */
export const loadDetails = () =>
  (details ||= request("GET", undefined, "/details?lang=" + language).then(
    (answer) => {
      Object.assign(config.texts[language], answer.texts);
      for (const id in answer.vendors) Object.assign(vendors[id], answer.vendors[id]);
    },
    (error) => {
      details = undefined;
      throw error;
    },
  ));
