/**
 * Choices as the body of POST /consent: what the preferences layer's switches say, or what
 * an embed's "Always allow" adds (loaded lazily, see lazy.js).
 */

import { optionalCategories, vendorList, vendorsOf } from "./core.js";

/**
 * The switch of a category or a vendor, once the list is built.
 * @param {string} id
 */
export const switchOf = (id) =>
  /** @type {HTMLInputElement | null} */ (document.getElementById("cg-i-" + id));

/**
 * The body of POST /consent for what `isAllowed` allows: a category with any vendor allowed
 * is granted, and its other vendors are refused.
 * @param {(id: string) => boolean | undefined} isAllowed  a category or a vendor
 */
export const choiceFrom = (isAllowed) => {
  const granted = optionalCategories.filter(
    (category) => isAllowed(category) || vendorsOf(category).some((v) => isAllowed(v.id)),
  );
  const refused = vendorList.filter((v) => granted.includes(v.category) && !isAllowed(v.id));
  return { granted, refused_vendors: refused.map((v) => v.id) };
};

/** What the preferences layer's switches say. */
export const choiceFromSwitches = () => choiceFrom((id) => switchOf(id)?.checked);
