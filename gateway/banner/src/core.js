/**
 * What the lazily loaded part of the banner (lazy.js and the modules it imports) may use of
 * the first layer's script. The lazy part imports these names from here; its build
 * (build.mjs) reads them from `core()`, the object load-lazy.js hands over, so that both
 * parts share one state, one config and one copy of the details. (Modules without state,
 * dom.js and categories.js, the lazy part imports and bundles itself.)
 */

import { choose } from "./choices.js";
import {
  categoryOf,
  config,
  gpc,
  lazyStylesheet,
  optionalCategories,
  vendorList,
  vendors,
  vendorsOf,
} from "./config.js";
import { activate, awaited, nameOf } from "./embeds.js";
import { allowed } from "./state.js";
import { language, loadDetails, text } from "./texts.js";

export {
  activate,
  allowed,
  awaited,
  categoryOf,
  choose,
  config,
  gpc,
  language,
  lazyStylesheet,
  loadDetails,
  nameOf,
  optionalCategories,
  text,
  vendorList,
  vendors,
  vendorsOf,
};

/**
 * Every name above, as the object handed over. Made when the lazy part loads, once every
 * module of the first layer has run (this module and load-lazy.js import each other).
 * @returns {Omit<typeof import("./core.js"), "core">}
 */
export const core = () => ({
  activate,
  allowed,
  awaited,
  categoryOf,
  choose,
  config,
  gpc,
  language,
  lazyStylesheet,
  loadDetails,
  nameOf,
  optionalCategories,
  text,
  vendorList,
  vendors,
  vendorsOf,
});
