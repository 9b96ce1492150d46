/**
 * What the lazily loaded part of the banner (lazy.js and the modules it imports) may use of
 * the first layer's script. The lazy part imports these names from here; its build
 * (build.mjs) reads them from `core`, the object load-lazy.js hands over, so that both parts
 * share one state, one config and one copy of the details.
 */

import { choose } from "./choices.js";
import {
  categoryOf,
  config,
  gpc,
  lazyStylesheet,
  MARKETING,
  NECESSARY,
  optionalCategories,
  vendors,
  vendorsOf,
} from "./config.js";
import { all, button, element, externalLink } from "./dom.js";
import { activate, awaited, nameOf } from "./embeds.js";
import { choiceFrom, switchOf } from "./preferences.js";
import { allowed } from "./state.js";
import { language, loadDetails, text } from "./texts.js";

export {
  activate,
  all,
  allowed,
  awaited,
  button,
  categoryOf,
  choiceFrom,
  choose,
  config,
  element,
  externalLink,
  gpc,
  language,
  lazyStylesheet,
  loadDetails,
  MARKETING,
  nameOf,
  NECESSARY,
  optionalCategories,
  switchOf,
  text,
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
  all,
  allowed,
  awaited,
  button,
  categoryOf,
  choiceFrom,
  choose,
  config,
  element,
  externalLink,
  gpc,
  language,
  lazyStylesheet,
  loadDetails,
  MARKETING,
  nameOf,
  NECESSARY,
  optionalCategories,
  switchOf,
  text,
  vendors,
  vendorsOf,
});
