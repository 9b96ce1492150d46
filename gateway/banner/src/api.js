/** Calls to the gateway's consent API, and the one diagnosis a site's operator needs. */

import { config } from "./config.js";

/**
 * `method` on /consent`path` with the visitor's cookies: the JSON answer, or a rejection
 * (with the Response when the gateway answered with an error status).
 * @param {string} method
 * @param {object} [body]  sent as JSON
 * @param {string} [path]  after /consent
 * @returns {Promise<any>}
 */
export const request = (method, body, path = "") =>
  fetch(config.endpoint + "/consent" + path, {
    method,
    credentials: "include",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body && JSON.stringify(body),
  }).then(
    (response) => {
      if (!response.ok) throw response;
      return response.json();
    },
    (error) => {
      diagnose();
      throw error;
    },
  );

let diagnosed = false;

/**
 * A call that got no answer failed on the network, or the gateway refused this page's origin
 * (CORS: GATEWAY_ALLOWED_ORIGINS does not list it). When the gateway answers a no-cors request
 * but not a CORS one, it is the second: say so once, naming the setting and the origin.
 */
const diagnose = () => {
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
