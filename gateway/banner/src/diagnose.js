/**
 * Why a call to the gateway got no answer, for the site's operator (loaded lazily, see
 * lazy.js, which loads as a plain script even when the gateway refuses the page's origin).
 */

import { config } from "./core.js";

let diagnosed = false;

/**
 * A call that got no answer failed on the network, or the gateway refused this page's origin
 * (CORS: GATEWAY_ALLOWED_ORIGINS does not list it). When the gateway answers a no-cors request
 * but not a CORS one, it is the second: say so once, naming the setting and the origin.
 */
export const diagnose = () => {
  const url = config.endpoint + "/consent";
  fetch(url, { mode: "no-cors" }).then(
    () =>
      fetch(url, { credentials: "include" }).catch(() => {
        if (diagnosed) return;
        diagnosed = true;
        console.error(
          `consent-gateway: ${config.endpoint} refuses this page's origin ${location.origin}:` +
            " add it to the gateway's GATEWAY_ALLOWED_ORIGINS setting",
        );
      }),
    () => {},
  );
};
