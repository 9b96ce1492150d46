/**
 * Form consent (gateway/forms, docs/forms.md): a page with a `<form data-consent-form>` gets
 * the form script, /consent-forms.js, loaded once the page is parsed. Pages without such a
 * form never load it, so the first layer stays within its budget. A site that includes the
 * script itself as well is fine: the script records each form once however often it runs.
 */

import { config } from "./config.js";
import { element } from "./dom.js";

export const loadFormScript = () => {
  if (document.querySelector("form[data-consent-form]"))
    document.head.append(element("script", "", "", { src: config.endpoint + "/consent-forms.js" }));
};
