// A stand-in marketing tag, blocked until "marketing" is granted: it sets an ad cookie like
// Meta's pixel does, and the demo page then shows a "personalised" offer.
(() => {
  "use strict";
  const runs = (window.demoTags = window.demoTags || {});
  runs.marketing = (runs.marketing || 0) + 1;
  const id = "fb.1." + Date.now() + "." + Math.floor(Math.random() * 1e9);
  document.cookie = `_fbp=${id}; Path=/; Max-Age=7776000; SameSite=Lax`;
  document.dispatchEvent(new CustomEvent("demo:tag", { detail: "marketing" }));
})();
