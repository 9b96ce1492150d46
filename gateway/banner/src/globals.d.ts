// What the banner reads from its surroundings, for `tsc --noEmit` (see jsconfig.json).

/** Replaced by the site's config when served (build.mjs, gateway/banner/routes.py). */
declare const __BANNER_CONFIG__: import("./config.js").BannerConfig;

interface Navigator {
  /** Global Privacy Control (https://privacycg.github.io/gpc-spec/), where the browser has it. */
  readonly globalPrivacyControl?: boolean;
}

interface Window {
  dataLayer?: unknown[];
  gtag?: (...args: unknown[]) => void;
  consentGateway?: import("./page-api.js").PageApi;
  /** The handshake with the lazy part while it loads (load-lazy.js, lazy.js). */
  __consentGateway?: {
    core: ReturnType<typeof import("./core.js").core>;
    loaded: (lazy: import("./lazy.js").Lazy) => void;
  };
}
