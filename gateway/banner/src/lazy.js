/**
 * The lazy part of the banner, /consent-lazy.js: what the first layer does not need, loaded
 * by load-lazy.js the first time a visitor opens the preferences, a page shows a blocked
 * embed or asks for a vendor's notice. Most visitors never download it.
 *
 * @typedef {object} Lazy
 * @property {(list: HTMLElement) => void} fillPreferences
 * @property {() => void} syncCategorySwitches
 * @property {(blocked: HTMLElement) => void} showPlaceholder
 * @property {(id: string, target?: HTMLElement) => Promise<string>} notice
 * @property {() => import("./choices.js").Choice} choiceFromSwitches
 * @property {() => void} diagnose  see diagnose.js
 */

import { notice } from "./notices.js";
import { diagnose } from "./diagnose.js";
import { showPlaceholder } from "./placeholders.js";
import { choiceFromSwitches } from "./preferences.js";
import { fillPreferences, syncCategorySwitches } from "./preferences-list.js";

window.__consentGateway?.loaded({
  fillPreferences,
  syncCategorySwitches,
  choiceFromSwitches,
  showPlaceholder,
  notice,
  diagnose,
});
