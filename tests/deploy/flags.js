// Asks a real binary whether it understands a command line: absl parses every
// flag (names and values) before acting on --helpfull, so appending it checks
// the flags without starting anything. Returns null or the error text.
"use strict";
const path = require("path");
const { spawnSync } = require("child_process");

function flagError(binDir, argv) {
  const r = spawnSync(path.join(binDir, argv[0]), [...argv.slice(1), "--helpfull"], { encoding: "utf8", timeout: 10000 });
  if (r.error) return String(r.error);
  const errors = (r.stderr || "").split("\n").filter((l) => /ERROR|Unknown command line flag|Illegal value/.test(l));
  return errors.length ? errors.join("; ") : null;
}

module.exports = { flagError };
