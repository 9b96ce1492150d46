// Builds the banner: src/main.js and its modules → static/consent.js (one minified, mangled
// IIFE) and src/consent.css → static/consent.css (minified), with esbuild. The built files are
// committed: the gateway and the wheel serve them, so a Python-only user needs no Node.
//
//   node gateway/banner/build.mjs           write static/consent.js and static/consent.css
//   node gateway/banner/build.mjs --check   fail if the committed build differs from the source
//
// The source's `__BANNER_CONFIG__` becomes the `/*@config*/null` placeholder that
// gateway/banner/routes.py replaces with the site's config.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "src");
const output = join(here, "static");
const PLACEHOLDER = "/*@config*/null";
const CONFIG_NAME = "__BANNER_CONFIG__";
// What the banner may use: ES2020, as every browser the banner supports runs.
const options = { bundle: true, minify: true, write: false, target: "es2020", legalComments: "none" };

const [script] = (
  await esbuild.build({ ...options, entryPoints: [join(source, "main.js")], format: "iife" })
).outputFiles;
const [stylesheet] = (await esbuild.build({ ...options, entryPoints: [join(source, "consent.css")] }))
  .outputFiles;

const parts = script.text.split(CONFIG_NAME);
if (parts.length !== 2) throw new Error(`expected ${CONFIG_NAME} once in the build, found ${parts.length - 1}`);
const built = {
  "consent.js": parts.join(PLACEHOLDER),
  "consent.css": stylesheet.text,
};

const stale = [];
for (const [name, text] of Object.entries(built)) {
  const path = join(output, name);
  if (!process.argv.includes("--check")) writeFileSync(path, text);
  else if (readFileSync(path, "utf8") !== text) stale.push(relative(process.cwd(), path));
}
if (stale.length) {
  console.error(`${stale.join(", ")}: not built from gateway/banner/src; run \`make banner\` and commit`);
  process.exit(1);
}
