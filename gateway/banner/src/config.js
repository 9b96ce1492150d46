/**
 * The site's config, as the gateway embeds it in /consent.js, and what follows from it.
 *
 * gateway/banner/config.py builds the config; gateway/banner/routes.py keeps in the script
 * only what the first layer needs (this `BannerConfig`) and serves the rest, per language,
 * from GET /consent/details when the preferences layer first opens (see texts.js).
 *
 * @typedef {object} Vendor  one tag rule (tag_rules/<id>.toml) as the banner knows it
 * @property {string} id
 * @property {string} name  its id until the details bring its name
 * @property {string} category  "necessary" ones are disclosed only: no switch, never blocked
 * @property {string[]} [cookies]  may hold one "*" wildcard each; these come with the details
 * @property {string} [description]  from the details
 * @property {string} [processedIn]  from the details: "Processed in: Russia (standard contractual clauses)"
 * @property {string} [policyUrl]  from the details
 * @property {string} [terms]  from the details
 * @property {Record<string, string>} [notice]  language → text, its policy and terms links
 *   marked [like this]; from the details
 *
 * @typedef {object} BannerConfig
 * @property {number} revision  policy revision; a choice made under another one is asked again
 * @property {string} endpoint  gateway base URL, no trailing slash
 * @property {string} cssUrl  the stylesheet this script links
 * @property {string} cookieName  the signed consent cookie (read here, verified by the server)
 * @property {string} policyUrl  privacy policy; "" shows no link
 * @property {string[]} categories  in display order, "necessary" first and always on
 * @property {Record<string, string>} vendors  id → category
 * @property {Record<string, Record<string, string>>} texts  language → key → first-layer text
 * @property {Record<string, string[]>} consentMode  category → Google Consent Mode signals
 * @property {boolean} floatingButton  a button to reopen the preferences after a choice
 * @property {boolean} reload  reload the page after a withdrawal or a narrower choice
 */

import { NECESSARY } from "./categories.js";

/**
 * The gateway writes the config here when it serves the script (the build turns this name
 * into the `/*@config*\/null` placeholder that gateway/banner/routes.py replaces).
 * @type {BannerConfig}
 */
export const config = __BANNER_CONFIG__;

/** The lazy part's stylesheet (see load-lazy.js); also linked by embeds' placeholders. */
export const lazyStylesheet = config.endpoint + "/consent-lazy.css";


/** Global Privacy Control: an opt-out of marketing that no earlier choice overrides. */
export const gpc = navigator.globalPrivacyControl === true;

/** The categories a visitor chooses, in display order. */
export const optionalCategories = config.categories.filter((c) => c !== NECESSARY);

/** @type {Record<string, Vendor>} */
export const vendors = {};
for (const id in config.vendors) vendors[id] = { id, name: id, category: config.vendors[id] };
export const vendorList = Object.values(vendors);

/**
 * The category of a vendor; a category id stands for itself.
 * @param {string} id  a vendor or a category
 */
export const categoryOf = (id) => (vendors[id] ? vendors[id].category : id);

/** @param {string} category */
export const vendorsOf = (category) => vendorList.filter((v) => v.category === category);
