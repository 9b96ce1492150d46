/**
 * Blocked elements: `<script type="text/plain" data-consent>` and any `[data-consent]
 * [data-src]` stay inert until their vendor (data-vendor, when it names one) or else their
 * category (data-consent) is allowed, then are activated exactly once. A blocked `<iframe>`
 * or `<div>` embed shows a placeholder meanwhile (placeholders.js, loaded lazily).
 */

import { vendors } from "./config.js";
import { all, element } from "./dom.js";
import { loadLazy } from "./load-lazy.js";
import { allowed } from "./state.js";
import { text } from "./texts.js";

const BLOCKED = 'script[type="text/plain"][data-consent],[data-consent][data-src]';
/** @type {WeakSet<HTMLElement>} */
const withPlaceholder = new WeakSet();

/**
 * The vendor an element waits for, when it names a known one; else its category.
 * @param {HTMLElement} blocked
 */
export const awaited = (blocked) => {
  const { vendor = "", consent = "" } = blocked.dataset;
  return vendors[vendor] ? vendor : consent;
};

/**
 * A vendor's name, or a category's (a detail text).
 * @param {string} id
 */
export const nameOf = (id) => (vendors[id] ? vendors[id].name : text("category_" + id));

/**
 * Activate `blocked` if what it waits for is allowed (or `once`: "Load once"), else give an
 * embed its placeholder.
 * @param {HTMLElement} blocked
 * @param {boolean} [once]
 */
export const activate = (blocked, once) => {
  const { src = "", title, type } = blocked.dataset;
  const tag = blocked.tagName;
  if (!blocked.isConnected) return;
  if (!once && !allowed(awaited(blocked))) {
    if (!withPlaceholder.has(blocked) && (tag === "IFRAME" || tag === "DIV")) {
      withPlaceholder.add(blocked);
      loadLazy().then((lazy) => lazy.showPlaceholder(blocked), () => {});
    }
    return;
  }
  blocked.removeAttribute("data-src");
  if (tag === "DIV")
    blocked.replaceChildren(
      element("iframe", "cg-if", "", { src, title: title || nameOf(awaited(blocked)) }),
    );
  // An <iframe> is replaced by a copy that has its src from the start: setting src on one the
  // parser is still attaching can lose to its first about:blank load.
  else if (tag === "IFRAME") blocked.replaceWith(Object.assign(blocked.cloneNode(), { src }));
  else if (tag !== "SCRIPT") blocked.setAttribute("src", src);
  else {
    const script = document.createElement("script");
    for (const attribute of blocked.attributes)
      if (attribute.name !== "type") script.setAttribute(attribute.name, attribute.value);
    script.type = type || "text/javascript";
    script.nonce = blocked.nonce || "";
    if (src) script.src = src;
    if (script.src) script.async = blocked.hasAttribute("async");
    else script.text = blocked.textContent || "";
    blocked.replaceWith(script);
  }
};

/**
 * Activate (or hold with a placeholder) `node` and every blocked element in it.
 * @param {Node} node
 */
export const activateBlocked = (node) => {
  const isElement = node instanceof Element;
  if (isElement && node.matches(BLOCKED)) activate(/** @type {HTMLElement} */ (node));
  if (isElement || node === document)
    all(BLOCKED, /** @type {ParentNode} */ (node)).forEach((blocked) => activate(blocked));
};
