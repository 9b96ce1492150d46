/** Calls to the gateway's consent API. */

import { config } from "./config.js";
import { loadLazy } from "./load-lazy.js";

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
      // No answer: a network fault, or this page's origin refused (see diagnose.js).
      loadLazy().then((lazy) => lazy.diagnose(), () => {});
      throw error;
    },
  );
