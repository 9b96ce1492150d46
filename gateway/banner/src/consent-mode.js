/** Google Consent Mode v2, kept in step with the visitor's choice. */

import { config } from "./config.js";

const SIGNALS = [
  "ad_storage",
  "ad_user_data",
  "ad_personalization",
  "analytics_storage",
  "functionality_storage",
  "personalization_storage",
];

/**
 * Send gtag("consent", `command`, …): every signal denied except those of the categories
 * `allowed` allows, and security_storage always granted. The page's own gtag is used if it
 * has one; else a stub queues the command in dataLayer for gtag.js to read later.
 * @param {"default" | "update"} command
 * @param {(category: string) => boolean} allowed
 */
export const signalConsentMode = (command, allowed) => {
  /** @type {Record<string, string>} */
  const signals = {};
  for (const signal of SIGNALS) signals[signal] = "denied";
  for (const category in config.consentMode)
    for (const signal of config.consentMode[category])
      if (allowed(category)) signals[signal] = "granted";
  signals.security_storage = "granted";
  const dataLayer = (window.dataLayer ||= []);
  // gtag.js reads the arguments object itself, as Google's snippet pushes it.
  (window.gtag ||= function () {
    dataLayer.push(arguments);
  })("consent", command, signals);
};
