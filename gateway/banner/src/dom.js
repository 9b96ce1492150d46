/**
 * Building the banner's elements: text always as text, never markup. No state: both parts of
 * the banner (see lazy.js) may bundle this module.
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [content]  set as textContent
 * @param {Record<string, string>} [attributes]
 * @returns {HTMLElementTagNameMap[K]}
 */
export const element = (tag, className = "", content = "", attributes = {}) => {
  const created = document.createElement(tag);
  created.className = className;
  created.textContent = content;
  for (const name in attributes) created.setAttribute(name, attributes[name]);
  return created;
};

/**
 * A link that opens in a new tab (a vendor's policy or terms).
 * @param {string} content
 * @param {string | undefined} href
 */
export const externalLink = (content, href) =>
  element("a", "", content, { href: href || "", target: "_blank" });

/**
 * A button appended to `parent`; a failure of `action` is the caller's to show.
 * @param {HTMLElement} parent
 * @param {string} label
 * @param {() => unknown} action
 */
export const button = (parent, label, action, className = "cg-btn") => {
  const created = element("button", className, label, { type: "button" });
  created.onclick = () => Promise.resolve(action()).catch(() => {});
  parent.append(created);
  return created;
};

/**
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {NodeListOf<HTMLElement>}
 */
export const all = (selector, root = document) => root.querySelectorAll(selector);
