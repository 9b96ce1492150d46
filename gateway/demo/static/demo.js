// The demo page's own script (strictly necessary, so never blocked): it shows the visitor's
// consent as the banner's JS API reports it, and which of the page's blocked tags have run.
(() => {
  "use strict";
  const t = JSON.parse(document.getElementById("demo-texts").textContent);
  const $ = (id) => document.getElementById(id);
  const gateway = window.consentGateway;
  const order = ["necessary", "preferences", "analytics", "marketing"];
  const rank = (c) => (order.includes(c) ? order.indexOf(c) : order.length);
  const names = (list) =>
    list.length ? [...list].sort((a, b) => rank(a) - rank(b)).map((c) => t[c] || c).join(", ")
      : t.nothing;

  const showConsent = (state) => {
    $("consent-status").textContent = state ? t.saved : t.none;
    $("consent-allowed").textContent = state ? names(state.granted) : t.nothing;
    $("consent-refused").textContent = state ? names(state.denied) : t.nothing;
    $("consent-id").textContent = state ? state.id : t.nothing;
    $("consent-time").textContent = state
      ? new Date(state.chosen_at).toLocaleString(document.documentElement.lang)
      : t.nothing;
    $("consent-gpc").textContent = navigator.globalPrivacyControl === true ? t.on : t.off;
    document.body.classList.toggle("has-choice", !!state);
  };

  const setStatus = (tag, key) => {
    const row = document.querySelector(`[data-tag="${tag}"]`);
    row.querySelector(".status").textContent = t[key];
    row.classList.toggle("on", key !== "blocked");
  };
  const showTags = () => {
    const runs = window.demoTags || {};
    if (runs.analytics) setStatus("analytics", "ran");
    if (runs.marketing) setStatus("marketing", "ran");
    const video = $("video");
    if (video.hasAttribute("src")) setStatus("video", "loaded");
    const pixel = $("pixel");
    if (pixel.hasAttribute("src") && pixel.complete && pixel.naturalWidth) {
      setStatus("pixel", "loaded");
    }
    $("offer").hidden = !runs.marketing;
  };
  $("pixel").addEventListener("load", showTags);
  document.addEventListener("demo:tag", showTags);
  document.addEventListener("consent:change", (event) => {
    showConsent(event.detail);
    showTags();
  });

  // A hit sent by hand shows the gateway's decision, as its X-Consent-Decision header says.
  const tryHit = async (url) => {
    const out = $("decision");
    out.textContent = t.sending;
    try {
      const response = await fetch(url, { method: "POST", redirect: "manual" });
      const outcome = response.type === "opaqueredirect"
        ? "redirect"
        : (response.headers.get("X-Consent-Decision") || "").split(";")[0];
      out.textContent = `${url.split("?")[0]} → ${outcome}: ${t[outcome] || outcome}`;
      out.dataset.outcome = outcome;
    } catch {
      out.textContent = t.error;
    }
  };
  $("test-analytics").addEventListener("click", () =>
    tryHit("/t/ga4?v=2&tid=G-XXXXXXXXXX&en=demo_button&dl=" + encodeURIComponent(location.href)));
  $("test-marketing").addEventListener("click", () => tryHit("/t/meta_pixel?id=DEMO&ev=Lead"));

  showConsent(gateway ? gateway.get() : null);
  showTags();
})();
