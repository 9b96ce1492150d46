// Builds the banner with esbuild, from gateway/banner/src into gateway/banner/static:
//   main.js and its modules → consent.js       the first layer: one minified, mangled IIFE
//   lazy.js and its modules → consent-lazy.js  what the first layer does not need, loaded
//                                              when first wanted (see src/load-lazy.js)
//   consent.css             → consent.css      the first layer's styles, minified
//   consent-lazy.css        → consent-lazy.css the lazy part's styles, minified
// The built files are committed: the gateway and the wheel serve them, so a Python-only user
// needs no Node.
//
//   node gateway/banner/build.mjs           write the built files
//   node gateway/banner/build.mjs --check   fail if the committed build differs from the source
//
// consent.js: the source's `__BANNER_CONFIG__` becomes the `/*@config*/null` placeholder that
// gateway/banner/routes.py replaces with the site's config. consent-lazy.js: its imports of
// ./core.js read the object the first layer hands over, so both share one state and config.
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "src");
const output = join(here, "static");
const PLACEHOLDER = "/*@config*/null";
const CONFIG_NAME = "__BANNER_CONFIG__";
// ES2020: what every browser the banner supports runs.
const options = {
  bundle: true,
  minify: true,
  write: false,
  metafile: true,
  target: "es2020",
  charset: "utf8", // the gateway serves UTF-8: "×" as is, not "\xD7"
  legalComments: "none",
};

/** The lazy part's imports of ./core.js: the first layer's object, not a second copy. */
const coreFromFirstLayer = {
  name: "core-from-first-layer",
  setup(build) {
    build.onResolve({ filter: /^\.\/core\.js$/ }, () => ({ path: "core", namespace: "core" }));
    build.onLoad({ filter: /.*/, namespace: "core" }, () => ({
      contents: "module.exports = window.__consentGateway.core",
      loader: "js",
    }));
  },
};

const build = async (entry, extra = {}) => {
  const result = await esbuild.build({ ...options, entryPoints: [join(source, entry)], ...extra });
  return { text: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
};

const first = await build("main.js", { format: "iife" });
const lazy = await build("lazy.js", { format: "iife", plugins: [coreFromFirstLayer] });
const stylesheet = await build("consent.css");
const lazyStylesheet = await build("consent-lazy.css");

const fail = (message) => {
  console.error(`gateway/banner/build.mjs: ${message}`);
  process.exit(1);
};
const parts = first.text.split(CONFIG_NAME);
if (parts.length !== 2) fail(`expected ${CONFIG_NAME} once in consent.js, found ${parts.length - 1}`);
// A module with state is in one part only, or the two would hold two states; modules
// without any may be in both.
const STATELESS = new Set(["dom.js", "categories.js"]);
const lazyModules = lazy.inputs.filter((path) => path !== "core:core").map((p) => basename(p));
const shared = lazyModules.filter(
  (name) => !STATELESS.has(name) && first.inputs.some((path) => basename(path) === name),
);
if (shared.length) fail(`${shared.join(", ")} in both parts: the lazy part imports them from ./core.js`);

const built = {
  "consent.js": parts.join(PLACEHOLDER),
  "consent-lazy.js": lazy.text,
  "consent.css": stylesheet.text,
  "consent-lazy.css": lazyStylesheet.text,
};
const stale = [];
for (const [name, text] of Object.entries(built)) {
  const path = join(output, name);
  if (!process.argv.includes("--check")) writeFileSync(path, text);
  else if (readFileSync(path, "utf8") !== text) stale.push(relative(process.cwd(), path));
}
if (stale.length) fail(`${stale.join(", ")}: not built from gateway/banner/src; run \`make banner\` and commit`);
