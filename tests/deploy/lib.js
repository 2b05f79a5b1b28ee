// Shared helpers of the deploy checks: the npm tools installed by
// scripts/install-deploy-tools.sh, YAML loading, failure reporting.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const repoRoot = path.resolve(__dirname, "..", "..");
// Resolve packages from tests/deploy/tools/node_modules.
const toolsRequire = createRequire(path.join(__dirname, "tools", "package.json"));

function requireTool(name) {
  try {
    return toolsRequire(name);
  } catch (e) {
    throw new Error(`cannot load npm package ${name}: run scripts/install-deploy-tools.sh (${e.message})`);
  }
}

// Collects failures so one run reports all of them; exit code 1 if any.
class Checker {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.passed = 0;
  }
  // Records a failure unless cond holds.
  expect(cond, what) {
    if (cond) this.passed++;
    else this.failures.push(what);
    return Boolean(cond);
  }
  fail(what) {
    this.failures.push(what);
  }
  finish() {
    for (const f of this.failures) console.error(`FAIL ${this.name}: ${f}`);
    console.log(`${this.name}: ${this.passed} checks passed, ${this.failures.length} failed`);
    process.exit(this.failures.length ? 1 : 0);
  }
}

// Parses every document of a YAML stream; throws with the file name on error.
function loadYamlDocs(text, where) {
  const YAML = requireTool("yaml");
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${where}: ${d.errors.map(String).join("; ")}`);
    const v = d.toJS({ maxAliasCount: 0 });
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function loadYamlFile(file) {
  return loadYamlDocs(fs.readFileSync(file, "utf8"), path.relative(repoRoot, file));
}

module.exports = { repoRoot, requireTool, Checker, loadYamlDocs, loadYamlFile };
