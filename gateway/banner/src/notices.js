/**
 * Vendors' notices (reCAPTCHA's, to show when its badge is hidden), in the banner's language
 * (loaded lazily, see lazy.js).
 */

import { language, loadDetails, vendors } from "./core.js";
import { externalLink } from "./dom.js";

/**
 * The notice of vendor `id` as text, once the details (which carry notices) are here; into
 * `target` too if given, its [marked] parts as links to the vendor's policy, then its terms.
 * @param {string} id
 * @param {HTMLElement} [target]
 */
export const notice = (id, target) =>
  loadDetails().then(() => {
    const vendor = vendors[id];
    const parts = vendor?.notice
      ? (vendor.notice[language] || vendor.notice.en).split(/\[(.*?)\]/)
      : [];
    target?.replaceChildren(
      ...parts.map((part, i) =>
        i % 2 ? externalLink(part, i > 1 ? vendor.terms : vendor.policyUrl) : part,
      ),
    );
    return parts.join("");
  });
