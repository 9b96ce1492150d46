/**
 * The dialog: a first layer (title, text, Accept all / Reject all / Customise) and the
 * preferences layer (the same box with the category list, Save and Withdraw). Everything is
 * classes on one root (cg--open, cg--p for the preferences layer, cg--has once a choice
 * exists), styled by /consent.css. Focus stays in the dialog while it is open.
 *
 * @typedef {object} DialogActions  what the buttons do (page-api.js)
 * @property {() => Promise<unknown>} accept
 * @property {() => Promise<unknown>} reject
 * @property {() => Promise<unknown>} save  record what the switches say
 * @property {() => Promise<unknown>} withdraw
 */

import { config, gpc } from "./config.js";
import { all, button, element } from "./dom.js";
import { loadLazy } from "./load-lazy.js";
import { allowed, emit, state } from "./state.js";
import { language, loadDetails, text } from "./texts.js";

/** @type {DialogActions} */
let actions;
/** @type {HTMLElement | undefined} */
let root;
/** @type {HTMLElement} */
let dialog;
/** @type {HTMLElement} */
let title;
/** @type {HTMLElement} */
let description;
/** @type {HTMLElement} the dialog's status line */
let message;
/** @type {HTMLElement} a status line only screen readers see */
let announcer;
/** @type {HTMLElement} Customise, or Save in the preferences layer */
let thirdButton;
/** @type {HTMLElement} the preferences layer's list, built when first opened */
let categoryList;
/** @type {HTMLElement | null} where focus was before the dialog opened */
let focusedBefore;
let preferencesShown = false;
let open = false;

/** @param {DialogActions} dialogActions */
export const useActions = (dialogActions) => {
  actions = dialogActions;
};

const build = () => {
  const paragraph = element("p", "cg-x", "", { id: "cg-x" });
  const buttons = element("div", "cg-b");
  const overlay = element("div", "cg-o");
  root = element("div", "cg", "", { lang: language });
  dialog = element("div", "cg-d", "", {
    role: "dialog",
    "aria-modal": "true",
    tabindex: "-1",
    "aria-labelledby": "cg-t",
    "aria-describedby": "cg-x",
  });
  title = element("h2", "cg-t", "", { id: "cg-t" });
  description = element("span");
  paragraph.append(description);
  if (config.policyUrl)
    paragraph.append(" ", element("a", "", text("policy_link"), { href: config.policyUrl }));
  button(dialog, "×", hide, "cg-c").setAttribute("aria-label", text("close"));
  dialog.append(title, paragraph);
  if (gpc) dialog.append(element("p", "cg-g", text("gpc_notice")));
  categoryList = element("div", "cg-p");
  message = element("p", "cg-m", "", { role: "status" });
  dialog.append(categoryList, message, buttons);
  button(buttons, text("accept_all"), actions.accept);
  button(buttons, text("reject_all"), actions.reject);
  thirdButton = button(buttons, "", () => (preferencesShown ? actions.save() : openPreferences()));
  dialog.onkeydown = onKey;
  overlay.append(dialog);
  announcer = element("div", "cg-a", "", { role: "status" });
  root.append(overlay, announcer);
  if (config.floatingButton)
    button(root, "", openPreferences, "cg-f").setAttribute("aria-label", text("settings"));
  markChoice();
  document.body.append(root);
};

/** Whether the banner is drawn (then `say` and `announce` have somewhere to write). */
export const drawn = () => !!root;

/** Draw the banner, closed, if it is not yet (once the page is ready). */
export const draw = () => root || build();

/** The root says whether a choice exists (the floating button and the close button show). */
export const markChoice = () => root?.classList.toggle("cg--has", !!state);

/**
 * @param {HTMLElement} target
 * @param {string} key
 */
const setText = (target, key) => {
  target.textContent = text(key);
};

/**
 * Open the dialog on the first layer, or with `lazy` (the lazy part) the preferences layer;
 * the switches say what the state allows.
 * @param {import("./lazy.js").Lazy} [lazy]
 */
export const openLayer = (lazy) => {
  const preferences = !!lazy;
  draw();
  preferencesShown = preferences;
  /** @type {HTMLElement} */ (root).classList.toggle("cg--p", preferences);
  setText(title, preferences ? "preferences_title" : "title");
  setText(description, preferences ? "preferences_description" : "description");
  setText(thirdButton, preferences ? "save" : "customise");
  announcer.textContent = "";
  if (lazy && !categoryList.firstChild) {
    lazy.fillPreferences(categoryList);
    button(dialog, text("withdraw"), actions.withdraw, "cg-w");
  }
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (all("input:enabled", dialog)))
    input.checked = allowed(input.value);
  lazy?.syncCategorySwitches();
  if (!open) {
    focusedBefore = /** @type {HTMLElement | null} */ (document.activeElement);
    /** @type {HTMLElement} */ (root).classList.add("cg--open");
    open = true;
    emit("show", { layer: preferences ? "preferences" : "first" });
  }
  dialog.focus();
};

/** The preferences layer, once its texts are here; else the layer shown now, saying so. */
export const openPreferences = () =>
  Promise.all([loadLazy(), loadDetails()]).then(
    ([lazy]) => openLayer(lazy),
    () => {
      openLayer();
      say("error");
    },
  );

/** Close the dialog; focus goes back where it was, else to the floating button. */
export const hide = () => {
  if (!open) return;
  /** @type {HTMLElement} */ (root).classList.remove("cg--open");
  open = false;
  message.textContent = "";
  const back =
    focusedBefore?.isConnected && focusedBefore !== document.body
      ? focusedBefore
      : state && /** @type {HTMLElement | null} */ (root?.querySelector(".cg-f"));
  back?.focus();
  emit("hide");
};

/**
 * A message in the dialog (an error, "Consent withdrawn"), when it is drawn.
 * @param {string} key
 */
export const say = (key) => root && setText(message, key);

/**
 * A message for screen readers only ("Choices saved"), when the banner is drawn.
 * @param {string} key
 */
export const announce = (key) => root && setText(announcer, key);

/**
 * Escape goes back a layer, or closes once a choice exists; Tab cycles inside the dialog.
 * @param {KeyboardEvent} event
 */
const onKey = (event) => {
  if (event.key === "Escape") return state ? hide() : preferencesShown && openLayer();
  if (event.key !== "Tab") return;
  const focusable = [...all("a[href],button,input:enabled,summary", dialog)].filter(
    (candidate) => candidate.getClientRects().length,
  );
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const active = document.activeElement;
  if (event.shiftKey ? active === first || active === dialog : active === last) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
};

/** Keep focus in the dialog while it is open. */
export const trapFocus = () =>
  document.addEventListener("focusin", (event) => {
    if (open && !dialog.contains(/** @type {Node} */ (event.target))) dialog.focus();
  });
