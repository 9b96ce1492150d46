/**
 * The preferences layer's list (loaded lazily, see lazy.js): per category a switch, its
 * description and its vendors, each optional vendor with its own switch. The category switch
 * sets all its vendors; vendor switches make it on (all), mixed (some: unchecked and
 * indeterminate, so that a click turns them all on) or off (none).
 */

import {
  categoryOf,
  config,
  gpc,
  optionalCategories,
  text,
  vendors,
  vendorsOf,
} from "./core.js";
import { MARKETING, NECESSARY } from "./categories.js";
import { element, externalLink } from "./dom.js";
import { switchOf } from "./preferences.js";

/**
 * A label with its switch; "necessary" gets a disabled, checked one and says "always on".
 * @param {string} label
 * @param {string} id  a category or a vendor
 */
const labelledSwitch = (label, id) => {
  const row = element("div", "cg-h");
  const input = element("input", "cg-s", "", { type: "checkbox", id: "cg-i-" + id, value: id });
  input.disabled = id === NECESSARY || (gpc && categoryOf(id) === MARKETING);
  input.checked = id === NECESSARY;
  row.append(element("label", "cg-l", label, { for: input.id }));
  if (id === NECESSARY) row.append(element("span", "cg-on", text("always_on")));
  row.append(input);
  return row;
};

/**
 * One category's row: its switch and description, then its vendors with their details.
 * @param {string} category
 */
const categoryRow = (category) => {
  const row = element("div", "cg-r");
  const members = vendorsOf(category);
  row.append(
    labelledSwitch(text("category_" + category), category),
    element("p", "cg-cd", text("category_" + category + "_description")),
  );
  if (!members.length) return row;
  const disclosure = element("details", "cg-v");
  const list = element("ul");
  disclosure.append(element("summary", "", text("vendors") + " (" + members.length + ")"), list);
  for (const vendor of members) {
    const item = element("li");
    const links = element("span", "cg-k");
    const cookies = vendor.cookies || [];
    item.append(
      category === NECESSARY
        ? element("b", "cg-l", vendor.name)
        : labelledSwitch(vendor.name, vendor.id),
    );
    if (vendor.description) item.append(element("span", "cg-k", vendor.description));
    // Where it processes data, and the safeguard of a transfer out of the home region.
    if (vendor.processedIn) item.append(element("span", "cg-k", vendor.processedIn));
    if (cookies.length)
      item.append(element("span", "cg-k", text("cookies") + ": " + cookies.join(", ")));
    links.append(externalLink(text("policy_link"), vendor.policyUrl));
    if (vendor.terms) links.append(" · ", externalLink(text("terms"), vendor.terms));
    item.append(links);
    list.append(item);
  }
  row.append(disclosure);
  return row;
};

/** Each category switch from its vendors' switches: on, mixed or off. */
export const syncCategorySwitches = () => {
  for (const category of optionalCategories) {
    const states = vendorsOf(category).map((vendor) => switchOf(vendor.id)?.checked);
    const on = states.filter(Boolean).length;
    const categorySwitch = switchOf(category);
    if (states.length && categorySwitch) {
      categorySwitch.checked = on === states.length;
      categorySwitch.indeterminate = on > 0 && on < states.length;
    }
  }
};

/**
 * A switch changed: a category's sets all its vendors; then the categories follow.
 * @param {Event} event
 */
const onSwitchChange = (event) => {
  const changed = /** @type {HTMLInputElement} */ (event.target);
  if (!vendors[changed.value])
    for (const vendor of vendorsOf(changed.value)) {
      const vendorSwitch = switchOf(vendor.id);
      if (vendorSwitch) vendorSwitch.checked = changed.checked;
    }
  syncCategorySwitches();
};

/**
 * Fill the preferences layer's `list`, once; its switches follow each other from then on.
 * @param {HTMLElement} list
 */
export const fillPreferences = (list) => {
  for (const category of config.categories) list.append(categoryRow(category));
  list.onchange = onSwitchChange;
};
