/**
 * The preferences layer's choice: what its switches say, as the body of POST /consent.
 * The list itself (preferences-list.js) is loaded with the lazy part of the banner.
 */

import { optionalCategories, vendorList, vendorsOf } from "./config.js";

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
