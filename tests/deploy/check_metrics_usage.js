// Checks that the Grafana dashboard and the alert rules use only metrics the
// programs export (exported_metrics.txt), that every PromQL expression in the
// dashboard parses (promtool check rules on a generated rules file), and that
// the dashboard has the panels the README promises. With --scrape
// PROGRAM=FILE (the text of a real /metrics scrape), it also checks that the
// program exports every metric listed for it, with the listed type.
// Usage: node check_metrics_usage.js [--scrape server=FILE] [--scrape train=FILE]
//        [--dashboard FILE] [--rules FILE]
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const { repoRoot, Checker, loadYamlFile } = require("./lib");

const c = new Checker("check_metrics_usage");
function argValue(flag, fallback) {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const dashboardFile = argValue("--dashboard", path.join(repoRoot, "k8s", "base", "grafana", "skewfree-dashboard.json"));
const rulesFile = argValue("--rules", path.join(repoRoot, "k8s", "base", "monitoring", "skewfree-rules.yaml"));

// name -> {type, program}
function exportedMetrics() {
  const out = new Map();
  const text = fs.readFileSync(path.join(__dirname, "exported_metrics.txt"), "utf8");
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const [name, type, program] = line.trim().split(/\s+/);
    out.set(name, { type, program });
  }
  return out;
}

// Series names a metric family produces (histograms: _bucket/_sum/_count).
function seriesNames(metrics, { external }) {
  const names = new Set();
  for (const [name, m] of metrics) {
    if (m.program === "external" && !external) continue;
    names.add(name);
    if (m.type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
  }
  return names;
}

const kKeywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
  "offset", "bool", "inf", "nan", "atan2", "le"]);

// Metric names in a PromQL expression: identifiers that are not functions,
// keywords, label names or label values.
function metricNames(expr) {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ")
    // Numbers and durations ("0.99", "30m", "1h30m").
    .replace(/(?<![A-Za-z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?(ms|[smhdwy])*/g, " ");
  const out = new Set();
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = e.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    if (kKeywords.has(m[0].toLowerCase())) continue;
    if (/^\s*(by|without)\b/.test(rest)) continue; // "sum without (...)" style
    out.add(m[0]);
  }
  return out;
}

function dashboardQueries(dash) {
  const out = [];
  const visit = (panels) => {
    for (const p of panels || []) {
      for (const t of p.targets || []) if (t.expr) out.push({ panel: p.title, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(dash.panels);
  return out;
}

// promtool parses every dashboard query as a recording rule.
function checkPromqlParses(queries) {
  const rules = queries.map((q, i) => ({
    record: `dashboard:query_${i}`,
    expr: q.expr.replace(/\$__rate_interval|\$__interval/g, "1m").replace(/\$__range/g, "1h"),
  }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "skewfree-dash-"));
  const file = path.join(dir, "dashboard-rules.json");
  // JSON is YAML, so promtool reads it.
  fs.writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
  try {
    execFileSync("promtool", ["check", "rules", file], { encoding: "utf8", stdio: "pipe" });
    c.expect(true, "");
  } catch (e) {
    c.fail(`promtool rejects a dashboard query: ${e.stdout}${e.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function checkDashboard(known) {
  const dash = JSON.parse(fs.readFileSync(dashboardFile, "utf8"));
  const queries = dashboardQueries(dash);
  c.expect(queries.length >= 8, `dashboard has queries (${queries.length})`);
  const used = new Set();
  for (const q of queries) {
    const names = metricNames(q.expr);
    c.expect(names.size > 0, `panel "${q.panel}": query names no metric: ${q.expr}`);
    for (const n of names) {
      used.add(n);
      c.expect(known.has(n), `panel "${q.panel}": ${n} is not a metric skewfree exports (${q.expr})`);
    }
  }
  const all = queries.map((q) => q.expr).join("\n");
  const titles = queries.map((q) => q.panel.toLowerCase()).join("\n");
  const wanted = {
    "request rate": /rate\(skewfree_requests_total/,
    "error ratio": /skewfree_requests_total\{code!="OK"\}/,
    "p50 latency": /histogram_quantile\(0\.5,.*skewfree_request_duration_seconds_bucket/,
    "p99 latency": /histogram_quantile\(0\.99,.*skewfree_request_duration_seconds_bucket/,
    "model version per pod": /by \(pod[^)]*\) \(skewfree_model_loaded_version\)/,
    "rows per second": /rate\(skewfree_inference_rows_total/,
    "training loss": /skewfree_training_loss/,
    "eval RMSE": /skewfree_eval_rmse/,
  };
  for (const [what, re] of Object.entries(wanted)) c.expect(re.test(all), `dashboard shows ${what}`);
  c.expect(/loss/.test(titles) && /rmse/.test(titles) && /latency/.test(titles), "panel titles name what they show");
  c.expect(dash.templating.list.some((v) => v.type === "datasource" && v.query === "prometheus"), "dashboard has a Prometheus datasource variable");
  for (const q of queries) c.expect(!/\$\{?DS_/.test(JSON.stringify(dash)), "no unresolved import placeholders");
  checkPromqlParses(queries);
  checkLayout(dash);
  return used;
}

// Unique panel ids, every panel inside the 24-column grid, none overlapping,
// every query on the dashboard's data source variable.
function checkLayout(dash) {
  const panels = [];
  const visit = (ps) => (ps || []).forEach((p) => { panels.push(p); visit(p.panels); });
  visit(dash.panels);
  const ids = panels.map((p) => p.id);
  c.expect(new Set(ids).size === ids.length, `panel ids are unique: ${ids}`);
  c.expect(dash.uid && dash.title && Number.isInteger(dash.schemaVersion), "dashboard has uid, title, schemaVersion");
  for (const p of panels) {
    const g = p.gridPos || {};
    c.expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.y >= 0 && g.h > 0, `panel "${p.title}" fits the 24-column grid`);
    if (p.type !== "row") {
      c.expect(p.datasource && p.datasource.uid === "${datasource}", `panel "${p.title}" uses the $datasource variable`);
      const refs = (p.targets || []).map((t) => t.refId);
      c.expect(refs.length > 0 && new Set(refs).size === refs.length, `panel "${p.title}" has targets with unique refIds`);
    }
  }
  for (let i = 0; i < panels.length; i++) {
    for (let j = i + 1; j < panels.length; j++) {
      const a = panels[i].gridPos;
      const b = panels[j].gridPos;
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      c.expect(!overlap, `panels "${panels[i].title}" and "${panels[j].title}" overlap`);
    }
  }
}

function checkRules(knownWithExternal) {
  const [rules] = loadYamlFile(rulesFile);
  for (const g of rules.groups) {
    for (const r of g.rules) {
      for (const n of metricNames(r.expr)) {
        c.expect(knownWithExternal.has(n), `alert ${r.alert || r.record}: ${n} is neither exported by skewfree nor a listed external metric`);
      }
    }
  }
}

// name -> type from "# TYPE name type" lines of a scrape.
function scrapedTypes(text) {
  const out = new Map();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

function checkScrapes(metrics) {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "--scrape") continue;
    const [program, file] = args[++i].split("=");
    const types = scrapedTypes(fs.readFileSync(file, "utf8"));
    for (const [name, m] of metrics) {
      if (m.program !== program) continue;
      c.expect(types.get(name) === m.type, `${program} /metrics: ${name} should be a ${m.type}, scrape has ${types.get(name) || "nothing"}`);
    }
    for (const [name] of types) {
      if (name.startsWith("skewfree_")) c.expect(metrics.has(name), `${program} exports ${name}, which exported_metrics.txt does not list`);
    }
  }
}

function main() {
  const metrics = exportedMetrics();
  checkDashboard(seriesNames(metrics, { external: false }));
  checkRules(seriesNames(metrics, { external: true }));
  checkScrapes(metrics);
  c.finish();
}

try {
  main();
} catch (e) {
  c.fail(e.stack || String(e));
  c.finish();
}
