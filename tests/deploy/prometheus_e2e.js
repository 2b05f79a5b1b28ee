// End to end through a real Prometheus: Debian's prometheus scrapes a running
// skewfree-server under load (skewfree-client bench) and a running
// skewfree-train (Adam), with the alert rules of k8s/ loaded. The test then
// asks the Prometheus HTTP API for the request-duration histogram, the
// training loss and the loaded version, runs every dashboard query, checks
// every alert rule evaluates without error, and compares each program's real
// /metrics with tests/deploy/exported_metrics.txt. Everything runs on
// 127.0.0.1 with ephemeral ports and is always stopped.
// Usage: node prometheus_e2e.js BIN_DIR
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const { repoRoot, Checker } = require("./lib");
const { children, elapsedSeconds, freePort, httpGet, log, pollQuery, promApi, query, run, setWorkDir, sleep, start, startPrometheus, stopAll, values, waitForLog } = require("./harness");

const c = new Checker("prometheus_e2e");
const binDir = path.resolve(process.argv[2] || path.join(repoRoot, "build", "bin"));
const kDeadlineMs = 75000;
let tmp = null;

function writePrometheusConfig(serverMetrics, trainMetrics) {
  const rules = path.join(repoRoot, "k8s", "base", "monitoring", "skewfree-rules.yaml");
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "900ms", evaluation_interval: "1s" },
    rule_files: [rules],
    scrape_configs: [
      { job_name: "skewfree-server", static_configs: [{ targets: [serverMetrics] }] },
      { job_name: "skewfree-train", static_configs: [{ targets: [trainMetrics] }] },
    ],
  };
  const file = path.join(tmp, "prometheus.yml");
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

async function startServing() {
  const bin = (b) => path.join(binDir, b);
  run(bin("skewfree-simulate"), ["--rows=20000", "--seed=1", `--out=${path.join(tmp, "train.csv")}`], 30000);
  run(bin("skewfree-simulate"), ["--rows=2000", "--seed=2", `--out=${path.join(tmp, "eval.csv")}`], 30000);
  // A first version for the server, with the fast exact solver.
  run(bin("skewfree-train"), ["--train=train.csv", "--eval=eval.csv", "--optimizer=exact", "--metrics_port=-1",
    "--model_dir=exact-ckpt", "--export_dir=repo/humidity"], 30000);
  const server = start("skewfree-server", bin("skewfree-server"), ["--model_repository=repo", "--model=humidity",
    "--address=127.0.0.1", "--port=0", "--metrics_port=0", "--http_port=0", "--poll_interval=1s",
    "--drain_timeout=1s"]);
  const grpc = (await waitForLog(server, /grpc listening on (\S+:\d+)/, 15000))[1];
  const metrics = (await waitForLog(server, /metrics listening on (\S+:\d+)/, 15000))[1];
  // A long Adam run whose gauges Prometheus scrapes while it trains.
  const train = start("skewfree-train", bin("skewfree-train"), ["--train=train.csv", "--eval=eval.csv",
    "--optimizer=adam", "--batch_size=100", "--max_steps=100000000", "--eval_every=20", "--checkpoint_every=200",
    "--metrics_address=127.0.0.1", "--metrics_port=0", "--model_dir=adam-ckpt", "--export_dir=adam-export/humidity"]);
  const trainMetrics = (await waitForLog(train, /metrics listening on (\S+:\d+)/, 15000))[1];
  return { grpc, metrics, trainMetrics, train };
}

async function waitHealthy(grpc) {
  const until = Date.now() + 15000;
  for (;;) {
    try {
      run(path.join(binDir, "skewfree-client"), [`--target=${grpc}`, "health"], 5000);
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`server never became healthy: ${e.stderr || e.message}`);
      await sleep(200);
    }
  }
}


async function checkScrapedSeries(prom) {
  const up = await pollQuery(prom, "up", (r) => r.length === 2 && values(r).every((v) => v === 1), 15000);
  c.expect(up.length === 2 && values(up).every((v) => v === 1), `both targets up: ${JSON.stringify(up.map((r) => [r.metric.job, r.value[1]]))}`);

  const count = await pollQuery(prom, "sum(skewfree_request_duration_seconds_count)", (r) => r.length && values(r)[0] > 100, 15000);
  c.expect(count.length && values(count)[0] > 100, `Prometheus holds the request-duration histogram with requests counted: ${JSON.stringify(count)}`);
  const p99Expr = "histogram_quantile(0.99, sum by (le) (rate(skewfree_request_duration_seconds_bucket[5s])))";
  const p99 = await pollQuery(prom, p99Expr, (r) => r.length && values(r)[0] > 0 && Number.isFinite(values(r)[0]), 10000);
  c.expect(p99.length && values(p99)[0] > 0 && values(p99)[0] < 10, `p99 latency from the histogram is a real duration: ${JSON.stringify(p99)}`);
  if (p99.length) log(`p99 latency under bench: ${(values(p99)[0] * 1000).toFixed(3)} ms`);
  const buckets = await query(prom, "count(skewfree_request_duration_seconds_bucket)");
  c.expect(buckets.length && values(buckets)[0] >= 5, `histogram buckets scraped: ${JSON.stringify(buckets)}`);

  const version = await query(prom, 'skewfree_model_loaded_version{model="humidity"}');
  c.expect(version.length === 1 && values(version)[0] >= 1, `loaded version >= 1: ${JSON.stringify(version)}`);
  const rows = await query(prom, "sum(skewfree_inference_rows_total)");
  c.expect(rows.length && values(rows)[0] > 0, `rows predicted: ${JSON.stringify(rows)}`);

  const loss = await pollQuery(prom, "skewfree_training_loss", (r) => r.length && Number.isFinite(values(r)[0]) && values(r)[0] > 0, 15000);
  c.expect(loss.length === 1 && Number.isFinite(values(loss)[0]) && values(loss)[0] > 0, `training loss scraped: ${JSON.stringify(loss)}`);
  if (loss.length) log(`training loss: ${values(loss)[0]}`);
  // The trainer keeps a core busy; give Prometheus time for several scrapes.
  const lossSamples = await pollQuery(prom, "count_over_time(skewfree_training_loss[1m])", (r) => r.length && values(r)[0] >= 2, 15000);
  c.expect(lossSamples.length && values(lossSamples)[0] >= 2, `training loss over time (several scrapes): ${JSON.stringify(lossSamples)}`);
  const rmse = await pollQuery(prom, "skewfree_eval_rmse", (r) => r.length && values(r)[0] > 0, 10000);
  c.expect(rmse.length && values(rmse)[0] > 0, `eval RMSE scraped: ${JSON.stringify(rmse)}`);
}

// Every dashboard query runs on the real data; all but the error ratio (no
// request failed) must return series.
async function checkDashboardQueries(prom) {
  const dash = JSON.parse(fs.readFileSync(path.join(repoRoot, "k8s", "base", "grafana", "skewfree-dashboard.json"), "utf8"));
  const targets = [];
  const visit = (panels) => (panels || []).forEach((p) => { (p.targets || []).forEach((t) => targets.push({ panel: p.title, expr: t.expr })); visit(p.panels); });
  visit(dash.panels);
  const until = Date.now() + 15000;
  for (const t of targets) {
    const expr = t.expr.replace(/\$__rate_interval|\$__interval/g, "10s").replace(/\$__range/g, "1m");
    const errorRatio = /code!="OK"/.test(expr);
    let result;
    try {
      result = await pollQuery(prom, expr, (r) => errorRatio || r.length > 0, Math.max(0, until - Date.now()));
    } catch (e) {
      c.fail(`dashboard panel "${t.panel}": Prometheus rejects ${expr}: ${e.message}`);
      continue;
    }
    if (!errorRatio) c.expect(result.length > 0, `dashboard panel "${t.panel}" shows data: ${expr}`);
  }
}

async function checkRulesEvaluate(prom) {
  const data = await promApi(prom, "/api/v1/rules");
  const rules = data.groups.flatMap((g) => g.rules);
  c.expect(rules.length >= 7, `Prometheus loaded the alert rules (${rules.length})`);
  const until = Date.now() + 5000;
  let pending = rules;
  while (Date.now() < until) {
    const now = (await promApi(prom, "/api/v1/rules")).groups.flatMap((g) => g.rules);
    pending = now.filter((r) => r.health !== "ok");
    if (!pending.length) break;
    await sleep(500);
  }
  for (const r of pending) c.fail(`rule ${r.name} health ${r.health}: ${r.lastError || ""}`);
  const firing = (await promApi(prom, "/api/v1/alerts")).alerts.filter((a) => a.state !== "inactive");
  c.expect(!firing.some((a) => /NoModelLoaded|HighErrorRatio|ModelLoadFailures/.test(a.labels.alertname)),
    `no serving alert on a healthy server: ${JSON.stringify(firing.map((a) => a.labels.alertname))}`);
}

// Each program's real /metrics against exported_metrics.txt.
async function checkExportedLists(serverMetrics, trainMetrics) {
  const files = {};
  for (const [prog, addr] of [["server", serverMetrics], ["train", trainMetrics]]) {
    const r = await httpGet(`http://${addr}/metrics`);
    files[prog] = path.join(tmp, `${prog}.metrics.txt`);
    fs.writeFileSync(files[prog], r.body);
  }
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, "check_metrics_usage.js"),
      "--scrape", `server=${files.server}`, "--scrape", `train=${files.train}`], { encoding: "utf8", stdio: "pipe" });
    c.expect(true, "");
    log(out.trim());
  } catch (e) {
    c.fail(`real /metrics differ from exported_metrics.txt:\n${e.stdout}${e.stderr}`);
  }
}

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "skewfree-prom-e2e-"));
  setWorkDir(tmp);
  for (const b of ["skewfree-server", "skewfree-train", "skewfree-simulate", "skewfree-client"]) {
    if (!fs.existsSync(path.join(binDir, b))) throw new Error(`${b} not built in ${binDir}`);
  }
  const s = await startServing();
  await waitHealthy(s.grpc);
  const prom = await startPrometheus(writePrometheusConfig(s.metrics, s.trainMetrics));
  log(`prometheus ready at ${prom}`);
  // Load while Prometheus scrapes every second.
  start("bench", path.join(binDir, "skewfree-client"), [`--target=${s.grpc}`, "bench", "--duration=6s", "--concurrency=4", "--batch=10"]);
  await sleep(4000);
  await checkScrapedSeries(prom);
  await checkDashboardQueries(prom);
  await checkRulesEvaluate(prom);
  await checkExportedLists(s.metrics, s.trainMetrics);
  c.expect(s.train.exited === null, `the trainer was still training while scraped (exited: ${s.train.exited})`);
  if (c.failures.length) await logScrapeHealth(prom);
}

// Scrape health over the run, to explain a failure.
async function logScrapeHealth(prom) {
  try {
    const all = await query(prom, "count_over_time(up[2m])");
    const ok = await query(prom, "sum_over_time(up[2m])");
    log(`scrapes: ${JSON.stringify(all.map((x) => [x.metric.job, x.value[1]]))}, successful: ${JSON.stringify(ok.map((x) => [x.metric.job, x.value[1]]))}`);
    const d = await query(prom, "scrape_duration_seconds");
    log(`last scrape durations: ${JSON.stringify(d.map((x) => [x.metric.job, x.value[1]]))}`);
  } catch (e) {
    log(`cannot read scrape health: ${e.message}`);
  }
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
