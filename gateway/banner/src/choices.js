/**
 * Recording a choice or a withdrawal with the gateway, and making it take effect on the page:
 * the cookies of vendors no longer allowed go, and the page reloads (config.reload) when
 * something that was allowed no longer is, so that scripts which already ran stop.
 */

import { request } from "./api.js";
import { MARKETING, NECESSARY } from "./categories.js";
import { config, gpc, optionalCategories, vendorList } from "./config.js";
import { deleteCookies } from "./cookies.js";
import { announce, hide, openLayer, say } from "./dialog.js";
import { ready } from "./ready.js";
import { allowed, allowedNow, currentState, setState } from "./state.js";
import { language, loadDetails } from "./texts.js";

/**
 * @typedef {{action: "accept_all" | "reject_all"} | {granted: string[], refused_vendors?: string[]}} Choice
 *   the body of POST /consent, less the language and page the banner adds
 */

/** Where the dialog's message waits for the reload a withdrawal triggers. */
const MESSAGE_KEY = "cg-message";
let busy = false;

/**
 * Delete the cookies matching `patterns`; reload if something in `allowedBefore` is no longer
 * allowed, keeping the dialog's `message` (if any) for the reloaded page.
 * @param {string[]} patterns
 * @param {string[]} allowedBefore
 * @param {string} [message]
 */
const takeEffect = (patterns, allowedBefore, message) => {
  deleteCookies(patterns);
  if (!config.reload || allowedBefore.every(allowed)) return;
  try {
    if (message) sessionStorage.setItem(MESSAGE_KEY, message);
  } catch {
    // storage refused (a sandboxed frame, a browser setting): the message is lost, nothing else
  }
  location.reload();
};

/** The dialog's message from before a reload this banner triggered, once; else nothing. */
export const messageFromBeforeReload = () => {
  try {
    const message = sessionStorage.getItem(MESSAGE_KEY);
    sessionStorage.removeItem(MESSAGE_KEY);
    return message;
  } catch {
    // storage refused: there is no message
  }
};

/**
 * Record `choice` (POST /consent); the new state, as get() returns it.
 * @param {Choice} choice
 */
export const choose = async (choice) => {
  if (busy) throw Error("busy");
  // Under GPC marketing is never granted: "accept all" becomes every other category.
  if (gpc && "action" in choice && choice.action === "accept_all") choice = { granted: optionalCategories };
  if (gpc && "granted" in choice)
    choice = { ...choice, granted: choice.granted.filter((c) => c !== MARKETING) };
  busy = true;
  const allowedBefore = allowedNow();
  try {
    const answer = await request("POST", { ...choice, language, page: location.pathname });
    setState(answer.consent);
    hide();
    announce("saved");
    takeEffect(answer.delete_cookies || [], allowedBefore);
    return currentState();
  } catch (error) {
    say("error");
    throw error;
  } finally {
    busy = false;
  }
};

/**
 * Withdraw (DELETE /consent). Cookies go and tracking stops even when the gateway could not
 * record it; then the first layer shows, saying what happened (after the reload, if any).
 */
export const withdraw = async () => {
  const allowedBefore = allowedNow();
  /** @type {string[]} */
  let patterns;
  let failure;
  try {
    patterns = (await request("DELETE")).delete_cookies || [];
  } catch (error) {
    failure = error;
    // Without the gateway's list, the cookies the details name (fetched now if the
    // preferences layer never was), never a necessary vendor's.
    await loadDetails().catch(() => {});
    patterns = vendorList.flatMap((v) => (v.category !== NECESSARY && v.cookies) || []);
  }
  const message = failure ? "error" : "withdrawn";
  setState(null);
  takeEffect([config.cookieName, ...patterns], allowedBefore, message);
  await ready;
  await loadDetails().catch(() => {});
  openLayer();
  say(message);
  if (failure) throw failure;
};
