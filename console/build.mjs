// Builds the console's front end into pinflow/console/static (or the folder given with --outdir):
// console.js and console.css bundled and minified by esbuild, ELK's layout worker and index.html copied.
// The output depends only on the sources and the locked packages, so CI can rebuild and compare.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--outdir");
const outdir = resolve(flag >= 0 ? process.argv[flag + 1] : join(here, "..", "pinflow", "console", "static"));
mkdirSync(outdir, { recursive: true });

await build({
  entryPoints: { console: join(here, "src", "main.tsx") },
  outdir,
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  charset: "utf8",
  logLevel: "warning",
});
copyFileSync(join(here, "node_modules", "elkjs", "lib", "elk-worker.min.js"), join(outdir, "elk-worker.min.js"));
copyFileSync(join(here, "index.html"), join(outdir, "index.html"));
// The licences of what the bundle and the worker contain.
const notices = [["preact", "LICENSE"], ["elkjs", "LICENSE.md"]].map(([name, file]) => {
  const manifest = JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
  const text = readFileSync(join(here, "node_modules", name, file), "utf8").trim();
  return `${name} ${manifest.version} (${manifest.license})\n${"=".repeat(40)}\n${text}\n`;
});
writeFileSync(join(outdir, "THIRD-PARTY-NOTICES.txt"), notices.join("\n"));
console.log(`built the console into ${outdir}`);
