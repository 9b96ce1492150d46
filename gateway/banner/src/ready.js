/** When the banner may draw: its stylesheet loaded (or given up on) and the body parsed. */

import { config, gpc } from "./config.js";
import { element } from "./dom.js";
import { loadDetails } from "./texts.js";

/** @type {Promise<unknown>} set by `prepare`, before anything waits on it */
export let ready;

/** Link the stylesheet and start waiting; the first layer under GPC shows a detail text. */
export const prepare = () => {
  ready = Promise.all([
    new Promise((done) => {
      const stylesheet = element("link", "", "", { rel: "stylesheet", href: config.cssUrl });
      stylesheet.onload = stylesheet.onerror = done;
      setTimeout(done, 3e3);
      document.head.append(stylesheet);
    }),
    new Promise((done) =>
      document.readyState === "loading"
        ? document.addEventListener("DOMContentLoaded", done)
        : done(undefined),
    ),
    gpc && loadDetails().catch(() => {}),
  ]);
};
