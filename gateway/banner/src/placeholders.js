/**
 * The placeholder of a blocked embed (loaded lazily, see lazy.js). It keeps the embed's size:
 * an `<iframe>` gets it inside its own still-empty document (nothing on the page moves), a
 * `<div>` as its child (size the div like the embed). "Load once" activates just that one;
 * "Always allow" grants that vendor (or category) only, on top of what is allowed now.
 */

import {
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
  text,
} from "./core.js";
import { MARKETING } from "./categories.js";
import { all, button, element } from "./dom.js";
import { choiceFrom } from "./preferences.js";

/** @param {HTMLElement} blocked  an `<iframe>` or a `<div>` */
export const showPlaceholder = (blocked) => {
  const frame = blocked instanceof HTMLIFrameElement ? blocked : null;
  const id = awaited(blocked);
  const fill = () => {
    const doc = frame ? frame.contentDocument : document;
    if (!doc || !blocked.dataset.src || all(".cg-e", frame ? doc : blocked)[0]) return;
    const name = nameOf(id);
    const box = element("div", "cg cg-e", "", { lang: language, role: "group", "aria-label": name });
    const buttons = element("div", "cg-b");
    button(buttons, text("load_once"), () => activate(blocked, true));
    if (!(gpc && categoryOf(id) === MARKETING))
      button(buttons, text("always_allow").replace("%s", name), () =>
        choose(choiceFrom((other) => other === id || categoryOf(other) === id || allowed(other))),
      );
    box.append(element("p", "cg-t", name), element("p", "cg-x", text("embed").replace("%s", name)), buttons);
    if (frame) {
      for (const href of [config.cssUrl, lazyStylesheet])
        doc.head.append(element("link", "", "", { rel: "stylesheet", href }));
      doc.body.className = "cg-eb";
    }
    (frame ? doc.body : blocked).append(box);
  };
  // The empty document an <iframe> starts with may be replaced when it "loads": fill again.
  if (frame) frame.addEventListener("load", fill);
  // Its texts come with the details.
  loadDetails().then(fill, () => {});
};
