// A stand-in analytics tag, blocked until "analytics" is granted. Like a real one it sets its
// cookie and sends a page-view beacon — here through the gateway, as Plausible's script would
// with data-api="https://consent.example.com/t/plausible".
(() => {
  "use strict";
  const runs = (window.demoTags = window.demoTags || {});
  runs.analytics = (runs.analytics || 0) + 1;
  const id = Math.floor(Math.random() * 1e9) + "." + Math.floor(Date.now() / 1000);
  document.cookie = `_ga=GA1.1.${id}; Path=/; Max-Age=34560000; SameSite=Lax`;
  fetch("/t/plausible", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      n: "pageview",
      u: location.origin + location.pathname,
      d: location.hostname,
      r: document.referrer || null,
    }),
    keepalive: true,
  }).catch(() => {});
  document.dispatchEvent(new CustomEvent("demo:tag", { detail: "analytics" }));
})();
