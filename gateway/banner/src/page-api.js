/**
 * `window.consentGateway`, the page's API (documented in docs/banner-development.md):
 * show(), get(), allowed(id), notice(id), accept([categories]), reject(), withdraw().
 *
 * @typedef {object} PageApi
 * @property {() => Promise<unknown>} show  open the dialog: the first layer, or the
 *   preferences once a choice exists
 * @property {() => import("./state.js").ConsentState | null} get  a copy of the state
 * @property {(id: string) => boolean} allowed  a category ("analytics") or a vendor ("youtube")
 * @property {(id: string) => Promise<string>} notice  that vendor's notice, as text
 * @property {(categories?: string[]) => Promise<unknown>} accept  all, or these categories
 * @property {() => Promise<unknown>} reject
 * @property {() => Promise<void>} withdraw
 */

import { choose, withdraw } from "./choices.js";
import { openLayer, openPreferences } from "./dialog.js";
import { loadLazy } from "./load-lazy.js";
import { ready } from "./ready.js";
import { allowed, currentState, state } from "./state.js";

/** @type {PageApi} */
export const pageApi = {
  show: () => ready.then(() => (state ? openPreferences() : openLayer())),
  get: currentState,
  allowed,
  notice: (id) => loadLazy().then((lazy) => lazy.notice(id)),
  accept: (categories) => choose(categories ? { granted: categories } : { action: "accept_all" }),
  reject: () => choose({ action: "reject_all" }),
  withdraw,
};
