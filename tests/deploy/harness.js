// Processes, HTTP and Prometheus queries for the end-to-end deploy tests
// (prometheus_e2e.js, drift_alert_e2e.js): one copy of the plumbing. Each
// test is its own node process, so the state here is that test's.
"use strict";
const fs = require("fs");
const net = require("net");
const path = require("path");
const http = require("http");
const { spawn, execFileSync } = require("child_process");

const started = Date.now();
const children = [];
let tmp = null;  // The test's work directory: setWorkDir().

function setWorkDir(dir) {
  tmp = dir;
}

function elapsedSeconds() {
  return (Date.now() - started) / 1000;
}

function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts a program; its output goes to tmp/<name>.log (and is shown on failure).
function start(name, cmd, args) {
  const logFile = path.join(tmp, `${name}.log`);
  const out = fs.openSync(logFile, "w");
  const p = spawn(cmd, args, { stdio: ["ignore", out, out], cwd: tmp });
  fs.closeSync(out);
  p.name = name;
  p.logFile = logFile;
  p.exited = null;
  p.on("exit", (code, sig) => { p.exited = sig || code; });
  p.on("error", (e) => { p.exited = String(e); });
  children.push(p);
  log(`started ${name}: ${cmd} ${args.join(" ")}`);
  return p;
}

async function stopAll() {
  for (const p of children) if (p.exited === null) p.kill("SIGTERM");
  const until = Date.now() + 5000;
  while (children.some((p) => p.exited === null) && Date.now() < until) await sleep(50);
  for (const p of children) if (p.exited === null) p.kill("SIGKILL");
}

// Waits until the log of p matches re; returns the match.
async function waitForLog(p, re, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const m = re.exec(fs.readFileSync(p.logFile, "utf8"));
    if (m) return m;
    if (p.exited !== null) throw new Error(`${p.name} exited (${p.exited}) before printing ${re}`);
    if (Date.now() > until) throw new Error(`${p.name} did not print ${re} in ${ms} ms`);
    await sleep(50);
  }
}

function run(cmd, args, ms) {
  log(`run ${path.basename(cmd)} ${args.join(" ")}`);
  return execFileSync(cmd, args, { cwd: tmp, timeout: ms, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

async function promApi(promUrl, pathAndQuery) {
  const r = await httpGet(`${promUrl}${pathAndQuery}`);
  const j = JSON.parse(r.body);
  if (j.status !== "success") throw new Error(`${pathAndQuery}: ${r.body}`);
  return j.data;
}

async function query(promUrl, expr) {
  return (await promApi(promUrl, `/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
}

// Polls expr until check(result) holds; returns the last result.
async function pollQuery(promUrl, expr, check, ms) {
  const until = Date.now() + ms;
  let result = [];
  for (;;) {
    result = await query(promUrl, expr);
    if (check(result)) return result;
    if (Date.now() > until) return result;
    await sleep(500);
  }
}

const values = (result) => result.map((r) => Number(r.value[1]));
async function startPrometheus(configFile) {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const p = start(`prometheus-${attempt}`, process.env.SKEWFREE_PROMETHEUS || "prometheus", [
      `--config.file=${configFile}`, `--storage.tsdb.path=${path.join(tmp, `tsdb-${attempt}`)}`,
      `--web.listen-address=127.0.0.1:${port}`, "--storage.tsdb.retention.time=1h", "--log.level=warn"]);
    const url = `http://127.0.0.1:${port}`;
    const until = Date.now() + 20000;
    while (Date.now() < until && p.exited === null) {
      try {
        if ((await httpGet(`${url}/-/ready`)).status === 200) return url;
      } catch { /* not up yet */ }
      await sleep(200);
    }
    // Another process may have taken the port between probe and bind.
    if (attempt === 2) throw new Error(`prometheus did not start: ${fs.readFileSync(p.logFile, "utf8")}`);
    if (p.exited === null) p.kill("SIGKILL");
  }
}

module.exports = {
  children, elapsedSeconds, freePort, httpGet, log, pollQuery, promApi, query, run, setWorkDir,
  sleep, start, startPrometheus, stopAll, values, waitForLog,
};
