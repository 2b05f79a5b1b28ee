// SkewfreeFeatureDrift through a real Prometheus: the real server serves
// traffic with beta1 shifted to [0, 8] (training: [-5, 5]) while Debian's
// prometheus scrapes it and evaluates the shipped rules. The rule's
// `for: 15m` is rewritten to `for: 2s` in a test copy of
// k8s/base/monitoring/skewfree-rules.yaml (nothing else changes), so the
// alert must fire within seconds, for beta1 only (beta2 is in distribution).
// Helpers: harness.js. Usage: node drift_alert_e2e.js BIN_DIR
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { repoRoot, Checker } = require("./lib");
const { children, elapsedSeconds, freePort, httpGet, log, pollQuery, promApi, query, run, setWorkDir, sleep, start, startPrometheus, stopAll, values, waitForLog } = require("./harness");

const c = new Checker("drift_alert_e2e");
const binDir = path.resolve(process.argv[2] || path.join(repoRoot, "build", "bin"));
const kDeadlineMs = 90000;
let tmp = null;


function writeConfig(serverMetrics) {
  const shipped = path.join(repoRoot, "k8s", "base", "monitoring", "skewfree-rules.yaml");
  const text = fs.readFileSync(shipped, "utf8");
  const re = /(- alert: SkewfreeFeatureDrift[\s\S]*?\n\s*for: )15m/;
  if (!re.test(text)) throw new Error(`no 'for: 15m' under SkewfreeFeatureDrift in ${shipped}`);
  const rules = path.join(tmp, "rules.yaml");
  fs.writeFileSync(rules, text.replace(re, "$12s"));
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "900ms", evaluation_interval: "1s" },
    rule_files: [rules],
    scrape_configs: [{ job_name: "skewfree-server", static_configs: [{ targets: [serverMetrics] }] }],
  };
  const file = path.join(tmp, "prometheus.yml");
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

function shiftedCsv(rows) {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let text = "beta1,beta2,hour,weekday\n";
  for (let i = 0; i < rows; i++) {
    text += `${(8 * rand()).toFixed(6)},${(10 * rand() - 5).toFixed(6)},${Math.floor(24 * rand())},${Math.floor(7 * rand())}\n`;
  }
  const file = path.join(tmp, "shifted.csv");
  fs.writeFileSync(file, text);
  return file;
}

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "skewfree-drift-alert-"));
  setWorkDir(tmp);
  const bin = (b) => path.join(binDir, b);
  run(bin("skewfree-simulate"), ["--rows=20000", "--seed=1", `--out=${path.join(tmp, "train.csv")}`], 30000);
  run(bin("skewfree-simulate"), ["--rows=2000", "--seed=2", `--out=${path.join(tmp, "eval.csv")}`], 30000);
  run(bin("skewfree-train"), ["--train=train.csv", "--eval=eval.csv", "--optimizer=exact", "--metrics_port=-1",
    "--model_dir=ckpt", "--export_dir=repo/humidity"], 30000);
  const server = start("skewfree-server", bin("skewfree-server"), ["--model_repository=repo", "--address=127.0.0.1",
    "--port=0", "--metrics_port=0", "--http_port=0", "--poll_interval=1s"]);
  const grpc = (await waitForLog(server, /grpc listening on (\S+:\d+)/, 15000))[1];
  const metrics = (await waitForLog(server, /metrics listening on (\S+:\d+)/, 15000))[1];
  await waitForLog(server, /version 1 loaded/, 15000);
  run(bin("skewfree-client"), [`--target=${grpc}`, "predict", `--csv=${shiftedCsv(5000)}`, "--out=predicted.csv"], 30000);
  const prom = await startPrometheus(writeConfig(metrics));
  log(`prometheus ready at ${prom}`);
  const firing = async () => (await promApi(prom, "/api/v1/alerts")).alerts
    .filter((a) => a.labels.alertname === "SkewfreeFeatureDrift" && a.state === "firing");
  const until = Date.now() + 40000;
  let alerts = [];
  while (Date.now() < until && (alerts = await firing()).length === 0) await sleep(500);
  c.expect(alerts.length > 0, "SkewfreeFeatureDrift never fired");
  await sleep(3000);  // Would beta2 follow? It must not.
  const features = (await firing()).map((a) => a.labels.feature).sort();
  c.expect(JSON.stringify(features) === '["beta1"]', `firing for ${JSON.stringify(features)}, want ["beta1"]`);
  c.expect((await firing()).every((a) => a.labels.model === "humidity" && a.labels.version === "1"),
    "alert labels model=humidity version=1");
}

async function cleanup(failed) {
  await stopAll();
  if (failed && tmp) {
    for (const p of children) {
      const text = fs.existsSync(p.logFile) ? fs.readFileSync(p.logFile, "utf8") : "";
      console.error(`--- ${p.name} (exit ${p.exited}) last output:\n${text.split("\n").slice(-15).join("\n")}`);
    }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    c.fail(`interrupted by ${sig}`);
    await cleanup(true);
    c.finish();
  });
}
const watchdog = setTimeout(async () => {
  c.fail(`took longer than ${kDeadlineMs} ms`);
  await cleanup(true);
  c.finish();
}, kDeadlineMs);

main()
  .catch((e) => c.fail(e.stack || String(e)))
  .then(async () => {
    clearTimeout(watchdog);
    await cleanup(c.failures.length > 0);
    log(`done in ${elapsedSeconds().toFixed(1)} s`);
    c.finish();
  });
