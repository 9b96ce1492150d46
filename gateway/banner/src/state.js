/**
 * The visitor's consent as the page sees it, and what it allows.
 *
 * @typedef {object} ConsentState  the shape of GET/POST /consent "consent"
 * @property {string} id
 * @property {number} revision
 * @property {string[]} granted
 * @property {string[]} denied
 * @property {string} chosen_at
 * @property {boolean} gpc
 * @property {string[]} refused_vendors  vendors refused inside granted categories
 */

import { MARKETING, NECESSARY } from "./categories.js";
import { categoryOf, config, gpc, optionalCategories, vendors, vendorsOf } from "./config.js";
import { signalConsentMode } from "./consent-mode.js";

/** @type {ConsentState | null} the current choice; null: none under this policy revision */
export let state = null;

/**
 * Dispatch `consent:<name>` on document (what sites listen to).
 * @param {string} name
 * @param {unknown} [detail]
 */
export const emit = (name, detail) =>
  document.dispatchEvent(new CustomEvent("consent:" + name, { detail }));

/** A copy of the state, for the page: changing it changes nothing here. */
export const currentState = () =>
  /** @type {ConsentState | null} */ (state && JSON.parse(JSON.stringify(state)));

/**
 * Whether a category or a vendor may run now. A vendor: its category granted and itself not
 * refused. A category: granted with none of its vendors refused, so that an element or a
 * site's check naming only a category fails closed when some vendor in it was refused (it
 * may be that vendor's).
 * @param {string} id
 * @returns {boolean}
 */
export const allowed = (id) =>
  categoryOf(id) === NECESSARY ||
  (!!state &&
    state.granted.includes(categoryOf(id)) &&
    (vendors[id]
      ? !state.refused_vendors.includes(id)
      : vendorsOf(id).every((vendor) => allowed(vendor.id))));

/** Every category and vendor allowed now: what a new choice may take away. */
export const allowedNow = () => [...optionalCategories, ...Object.keys(vendors)].filter(allowed);

/**
 * Make `next` the current choice (GPC removes marketing from it), tell Consent Mode and
 * dispatch consent:change with the state as `get()` returns it.
 * @param {ConsentState | null} next
 */
export const setState = (next) => {
  if (next) {
    const granted = next.granted.filter((c) => !(gpc && c === MARKETING));
    const denied = optionalCategories.filter((c) => !granted.includes(c));
    state = { ...next, granted, denied, refused_vendors: next.refused_vendors || [] };
  } else state = null;
  signalConsentMode("update", allowed);
  emit("change", currentState());
};

/**
 * The choice in the consent cookie, when the page can read it (it may be host-only on the
 * gateway) and it was made under the current policy revision. The banner only reads the
 * payload; the gateway verifies the signature of every token it is sent.
 * @returns {ConsentState | null}
 */
export const stateFromCookie = () => {
  try {
    const token = ("; " + document.cookie).split("; " + config.cookieName + "=")[1];
    const payload = JSON.parse(atob(token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/")));
    if (payload.r === config.revision && Array.isArray(payload.g))
      return {
        id: payload.i,
        revision: payload.r,
        granted: payload.g,
        denied: [],
        chosen_at: new Date(payload.t * 1e3).toISOString(),
        gpc: !!payload.p,
        refused_vendors: payload.v || [],
      };
  } catch {
    // no cookie, or not one this banner can read: ask the gateway
  }
  return null;
};
