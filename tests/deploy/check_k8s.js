// Renders k8s/ (kubectl kustomize when present, else render_kustomization.js,
// and both must agree when both run), validates every object against the
// Kubernetes / Prometheus Operator schemas (kubernetes-models) with unknown
// fields rejected (strict_fields.js), then checks
// what the schemas cannot: probes, hardening, claims, selectors, drain
// timeout vs grace period, rules and dashboard identical to their sources.
// Overlays (--overlay DIR, repeatable) are rendered, schema-validated and
// their command lines (probes included) checked the same way. Custom resources
// (the MPIJob of k8s/overlays/mpi) validate against their CRD's schema
// (--crd FILE, repeatable; crd_schema.js), and an MPIJob gets the checks of
// mpijob_checks.js against the base's Job.
// Usage: node check_k8s.js [BASE_DIR] [--overlay DIR]... [--crd FILE]... [--binaries BIN_DIR]
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { repoRoot, requireTool, Checker, loadYamlDocs, loadYamlFile } = require("./lib");
const { render, walk } = require("./render_kustomization");
const { flagError } = require("./flags");
const { unknownFields } = require("./strict_fields");
const { loadCrd } = require("./crd_schema");
const { checkMpiJob, mpiJobPods } = require("./mpijob_checks");

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && !["--binaries", "--overlay", "--crd"].includes(all[i - 1]));
const overlays = process.argv.slice(2).filter((a, i, all) => all[i - 1] === "--overlay").map((d) => path.resolve(d));
const crds = process.argv.slice(2).filter((a, i, all) => all[i - 1] === "--crd").map((f) => loadCrd(path.resolve(f)));
const k8sDir = path.resolve(positional[0] || path.join(repoRoot, "k8s", "base"));
const binariesArg = process.argv.indexOf("--binaries");
// With --binaries DIR, every container's command line is parsed by the real binary.
const binDir = binariesArg > 0 ? process.argv[binariesArg + 1] : null;
const c = new Checker("check_k8s");
const kBinaries = new Set(["skewfree-server", "skewfree-train", "skewfree-simulate", "skewfree-client"]);

function kubectlRender(dir) {
  // SKEWFREE_NO_KUBECTL=1 exercises the fallback renderer alone.
  if (process.env.SKEWFREE_NO_KUBECTL === "1") return null;
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
  } catch {
    return null;
  }
  const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  return loadYamlDocs(out, "kubectl kustomize output");
}

// JSON with sorted keys: kubectl reorders keys, the meaning stays.
function canon(v) {
  return JSON.stringify(v, (k, x) => (x && typeof x === "object" && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((kk) => [kk, x[kk]])) : x));
}

// Generated ConfigMap names carry a content hash; compare without it.
function stripHash(name) {
  return name.replace(/-[a-z0-9]{10}$/, "");
}

function normalized(objects) {
  const copy = JSON.parse(JSON.stringify(objects));
  walk(copy, (node, key, parent) => {
    if (typeof node === "string" && key === "name" && /-[a-z0-9]{10}$/.test(node) && node.startsWith("skewfree-config")) {
      parent[key] = stripHash(node);
    }
  });
  const key = (o) => `${o.kind}/${o.metadata.name}`;
  return Object.fromEntries(copy.map((o) => [key(o), o]));
}

function compareRenderers(kubectlObjs, ownObjs) {
  const a = normalized(kubectlObjs);
  const b = normalized(ownObjs);
  c.expect(JSON.stringify(Object.keys(a).sort()) === JSON.stringify(Object.keys(b).sort()),
    `kubectl kustomize and render_kustomization.js render different objects: ${Object.keys(a).sort()} vs ${Object.keys(b).sort()}`);
  for (const k of Object.keys(a)) {
    if (b[k]) c.expect(canon(a[k]) === canon(b[k]), `${k}: kubectl kustomize and render_kustomization.js disagree`);
  }
}

function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return requireTool(`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`)[kind];
  }
  const mod = group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  return requireTool(mod)[kind];
}

function validateSchemas(objects) {
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata && o.metadata.name}`;
    const crd = crds.find((d) => d.kind === o.kind && String(o.apiVersion).startsWith(`${d.group}/`));
    if (crd) {
      const errors = crd.validate(o);
      c.expect(errors.length === 0, `${id}: CRD schema: ${errors.join("; ")}`);
      continue;
    }
    let Model;
    try {
      Model = modelClass(o.apiVersion, o.kind);
    } catch (e) {
      c.fail(`${id}: no schema for ${o.apiVersion} ${o.kind} (${e.message.split("\n")[0]})`);
      continue;
    }
    try {
      new Model(o).validate();
      c.expect(true, "");
    } catch (e) {
      c.fail(`${id}: schema: ${e.message}`);
    }
    // The schemas accept unknown fields; the API server (strict) does not.
    const unknown = unknownFields(o);
    c.expect(unknown.length === 0, `${id}: ${unknown.join("; ")}`);
  }
}

function find(objects, kind, name) {
  const o = objects.find((x) => x.kind === kind && (name === undefined || stripHash(x.metadata.name) === name));
  c.expect(o, `missing ${kind}${name ? "/" + name : ""}`);
  return o;
}

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
}

// "20s", "1m30s", "500ms" -> seconds.
function durationSeconds(s) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m;
  let consumed = "";
  while ((m = re.exec(s))) {
    total += Number(m[1]) * units[m[2]];
    consumed += m[0];
  }
  if (consumed !== s) throw new Error(`bad duration ${s}`);
  return total;
}

// The variables a container sees: skewfree-config (envFrom) and its own env
// (a downward-API value becomes a sample value).
function envOf(c0, configEnv) {
  const env = { ...configEnv };
  for (const e of c0.env || []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom && e.valueFrom.fieldRef) env[e.name] = "sample-" + e.valueFrom.fieldRef.fieldPath.replace(/\W+/g, "-");
    else env[e.name] = "sample";
  }
  return env;
}

// Expands $(VAR); unknown variables are failures (Kubernetes would leave the
// text "$(VAR)" in the flag).
function expand(arg, env, where) {
  return arg.replace(/\$\(([A-Z0-9_]+)\)/g, (_, v) => {
    c.expect(v in env, `${where}: $(${v}) is defined neither in skewfree-config nor in the container's env`);
    return env[v] || "";
  });
}

function flagValue(args, flag) {
  const a = args.find((x) => x.startsWith(`--${flag}=`));
  return a === undefined ? undefined : a.slice(flag.length + 3);
}

function checkFlags(c0, configEnv, where) {
  if (!binDir) return;
  const env = envOf(c0, configEnv);
  const argv = [...c0.command, ...(c0.args || [])].map((a) => expand(a, env, where));
  const err = flagError(binDir, argv);
  c.expect(!err, `${where}: ${argv.join(" ")}: ${err}`);
  // Exec probes run our binaries too; Kubernetes does not expand $(VAR) there.
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const cmd = c0[probe] && c0[probe].exec && c0[probe].exec.command;
    if (!cmd) continue;
    c.expect(kBinaries.has(cmd[0]), `${where}: ${probe} runs one of the four binaries, got ${cmd[0]}`);
    const perr = flagError(binDir, cmd);
    c.expect(!perr, `${where}: ${probe}: ${cmd.join(" ")}: ${perr}`);
  }
}

function checkHardening(spec, c0, where) {
  const ps = spec.securityContext || {};
  const sc = c0.securityContext || {};
  c.expect(ps.runAsNonRoot === true || sc.runAsNonRoot === true, `${where}: runAsNonRoot`);
  c.expect((sc.runAsUser ?? ps.runAsUser) > 0, `${where}: runAsUser must be a non-zero uid`);
  c.expect(sc.readOnlyRootFilesystem === true, `${where}: readOnlyRootFilesystem`);
  c.expect(sc.allowPrivilegeEscalation === false, `${where}: allowPrivilegeEscalation false`);
  c.expect(sc.capabilities && (sc.capabilities.drop || []).includes("ALL"), `${where}: capabilities drop ALL`);
  c.expect(spec.automountServiceAccountToken === false, `${where}: automountServiceAccountToken false`);
  for (const kind of ["requests", "limits"]) {
    const r = (c0.resources || {})[kind] || {};
    c.expect(r.cpu && r.memory, `${where}: resources.${kind} cpu and memory`);
  }
  c.expect(/^[^:]+:[^:]+$/.test(c0.image) && !c0.image.endsWith(":latest"), `${where}: image ${c0.image} has a pinned tag`);
  for (const ic of spec.initContainers || []) {
    const isc = ic.securityContext || {};
    const iw = `${where} init ${ic.name}`;
    c.expect(isc.readOnlyRootFilesystem === true && isc.allowPrivilegeEscalation === false &&
      isc.capabilities && (isc.capabilities.drop || []).includes("ALL"), `${iw}: hardened securityContext`);
    c.expect(ic.resources && ic.resources.limits && ic.resources.requests, `${iw}: requests and limits`);
  }
}

// Returns the mount of the claim `claim` in a pod: {mount, volume}.
function claimMount(spec, c0, claim) {
  const vol = (spec.volumes || []).find((v) => v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === claim);
  if (!vol) return {};
  return { volume: vol, mount: (c0.volumeMounts || []).find((m) => m.name === vol.name) };
}

function checkServer(objects, env) {
  const d = find(objects, "Deployment", "skewfree-server");
  if (!d) return null;
  const spec = d.spec.template.spec;
  const c0 = spec.containers[0];
  const where = "Deployment/skewfree-server";
  c.expect(d.spec.replicas === 2, `${where}: 2 replicas`);
  c.expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${where}: selector matches pod labels`);
  checkHardening(spec, c0, where);
  const grpcPort = (c0.ports || []).find((p) => p.name === "grpc");
  const metricsPort = (c0.ports || []).find((p) => p.name === "metrics");
  c.expect(grpcPort && grpcPort.containerPort === 8001, `${where}: grpc port 8001`);
  c.expect(metricsPort && metricsPort.containerPort === 8002, `${where}: metrics port 8002`);
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const p = c0[probe];
    c.expect(p && p.grpc && p.grpc.port === 8001, `${where}: ${probe} is a native gRPC probe on 8001`);
  }
  if (c0.startupProbe) {
    const budget = c0.startupProbe.periodSeconds * c0.startupProbe.failureThreshold;
    c.expect(budget >= 60, `${where}: startupProbe allows at least 60 s for the first model load, got ${budget}`);
  }
  checkFlags(c0, env, where);
  c.expect(kBinaries.has((c0.command || [])[0]), `${where}: command runs one of the four binaries, got ${c0.command}`);
  const args = (c0.args || []).map((a) => expand(a, env, where));
  c.expect(c0.command[0] === "skewfree-server", `${where}: runs skewfree-server`);
  c.expect(flagValue(args, "port") === "8001" && flagValue(args, "metrics-port") === "8002", `${where}: --port=8001 --metrics-port=8002`);
  const drain = durationSeconds(flagValue(args, "drain-timeout") || "30s");
  const preStop = (((c0.lifecycle || {}).preStop || {}).exec || {}).command || [];
  const preStopSeconds = preStop[0] === "sleep" ? Number(preStop[1]) : 0;
  c.expect(spec.terminationGracePeriodSeconds > drain + preStopSeconds,
    `${where}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} must exceed drain ${drain}s + preStop ${preStopSeconds}s`);
  const { volume, mount } = claimMount(spec, c0, "skewfree-models");
  c.expect(volume && volume.persistentVolumeClaim.readOnly === true, `${where}: claim skewfree-models attached read-only`);
  c.expect(mount && mount.readOnly === true, `${where}: model repository mounted read-only`);
  c.expect(mount && mount.mountPath === flagValue(args, "model-repository"), `${where}: --model-repository is the claim's mount path`);
  const ann = d.spec.template.metadata.annotations || {};
  c.expect(ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] === "8002", `${where}: scrape annotations for port 8002`);
  return { deployment: d, subPath: mount ? mount.subPath || "" : null, podLabels: d.spec.template.metadata.labels };
}

// Job and CronJob: trainer pods writing checkpoints and exports to the claim.
function checkTrainer(jobSpec, where, env, server) {
  c.expect(Number.isInteger(jobSpec.activeDeadlineSeconds) && jobSpec.activeDeadlineSeconds > 0, `${where}: activeDeadlineSeconds`);
  c.expect(Number.isInteger(jobSpec.backoffLimit) && jobSpec.backoffLimit > 0, `${where}: backoffLimit`);
  const spec = jobSpec.template.spec;
  const c0 = spec.containers[0];
  checkHardening(spec, c0, where);
  c.expect(c0.command[0] === "skewfree-train", `${where}: runs skewfree-train`);
  checkFlags(c0, env, where);
  const args = (c0.args || []).map((a) => expand(a, envOf(c0, env), where));
  // Retries of one Job share their save points; the next Job starts afresh.
  const jobVars = (c0.env || []).filter((e) => e.valueFrom && e.valueFrom.fieldRef &&
    /^metadata\.labels\['(batch\.kubernetes\.io\/)?job-name'\]$/.test(e.valueFrom.fieldRef.fieldPath)).map((e) => e.name);
  const rawModelDir = (c0.args || []).find((a) => a.startsWith("--model-dir="));
  c.expect(rawModelDir && jobVars.some((v) => rawModelDir.includes(`$(${v})`)),
    `${where}: --model-dir is per Job (a variable from the pod's job-name label), got ${rawModelDir}`);
  const { volume, mount } = claimMount(spec, c0, "skewfree-models");
  if (!c.expect(volume && mount && !mount.readOnly, `${where}: claim skewfree-models mounted read-write`)) return;
  const underClaim = (p) => p && p.startsWith(mount.mountPath + "/") ? p.slice(mount.mountPath.length + 1) : null;
  const modelDir = underClaim(flagValue(args, "model-dir"));
  const exportDir = underClaim(flagValue(args, "export-dir"));
  c.expect(modelDir, `${where}: --model-dir (save points) is on the claim so a rescheduled pod resumes`);
  c.expect(exportDir, `${where}: --export-dir is on the claim`);
  if (server && exportDir) {
    c.expect(exportDir === `${server.subPath}/${env.MODEL_NAME}`,
      `${where}: exports to claim path ${exportDir}, but the server reads ${server.subPath}/${env.MODEL_NAME}`);
  }
  c.expect(modelDir && exportDir && !modelDir.startsWith(exportDir) && !exportDir.startsWith(modelDir), `${where}: checkpoints and exports are separate folders`);
  // The server's read-only subPath mount needs the folder before any export.
  if (server && server.subPath) {
    const want = `${mount.mountPath}/${server.subPath}`;
    const creates = (spec.initContainers || []).some((ic) => ic.command && ic.command[0] === "mkdir" &&
      ic.command.some((a) => expand(a, env, where) === `${want}/${env.MODEL_NAME}`));
    c.expect(creates, `${where}: an init container creates ${want}/${env.MODEL_NAME} (the server mounts subPath ${server.subPath} read-only)`);
  }
  const metrics = (c0.ports || []).find((p) => p.name === "metrics");
  c.expect(metrics && String(metrics.containerPort) === flagValue(args, "metrics-port"), `${where}: metrics port matches --metrics-port`);
  const ann = jobSpec.template.metadata.annotations || {};
  c.expect(ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] === flagValue(args, "metrics-port"), `${where}: scrape annotations`);
  return jobSpec.template.metadata.labels;
}

function checkNetworking(objects, server, trainerLabels) {
  const svc = find(objects, "Service", "skewfree-server");
  if (svc && server) {
    c.expect(matches(svc.spec.selector, server.podLabels), "Service/skewfree-server selects the server pods");
    const ports = Object.fromEntries(svc.spec.ports.map((p) => [p.name, p]));
    c.expect(ports.grpc && ports.grpc.port === 8001, "Service: grpc 8001");
    c.expect(ports.metrics && ports.metrics.port === 8002, "Service: metrics 8002");
  }
  const hpa = find(objects, "HorizontalPodAutoscaler", "skewfree-server");
  if (hpa) {
    c.expect(hpa.spec.scaleTargetRef.kind === "Deployment" && hpa.spec.scaleTargetRef.name === "skewfree-server", "HPA targets the server Deployment");
    c.expect(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas >= hpa.spec.minReplicas, "HPA keeps at least 2 replicas");
  }
  const pdb = find(objects, "PodDisruptionBudget", "skewfree-server");
  if (pdb && server) {
    c.expect(matches(pdb.spec.selector.matchLabels, server.podLabels), "PDB selects the server pods");
    c.expect(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < server.deployment.spec.replicas, "PDB minAvailable in [1, replicas)");
  }
  const sm = find(objects, "ServiceMonitor", "skewfree-server");
  if (sm && svc) {
    c.expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels), "ServiceMonitor selects the Service");
    for (const e of sm.spec.endpoints) c.expect(svc.spec.ports.some((p) => p.name === e.port), `ServiceMonitor port ${e.port} is a Service port`);
  }
  const pm = find(objects, "PodMonitor", "skewfree-trainer");
  if (pm && trainerLabels) {
    c.expect(matches(pm.spec.selector.matchLabels, trainerLabels), "PodMonitor selects the trainer pods");
  }
}

function checkMonitoringSources(objects) {
  const pr = find(objects, "PrometheusRule", "skewfree");
  const [rulesFile] = loadYamlFile(path.join(k8sDir, "monitoring", "skewfree-rules.yaml"));
  if (pr) {
    c.expect(canon(pr.spec.groups) === canon(rulesFile.groups),
      "PrometheusRule spec.groups differ from monitoring/skewfree-rules.yaml (the file promtool tests)");
  }
  const rulesCm = find(objects, "ConfigMap", "skewfree-prometheus-rules");
  if (rulesCm) {
    const [fromCm] = loadYamlDocs(Object.values(rulesCm.data)[0], "rules ConfigMap");
    c.expect(canon(fromCm) === canon(rulesFile), "skewfree-prometheus-rules ConfigMap holds the rules file");
  }
  const dash = find(objects, "ConfigMap", "skewfree-grafana-dashboard");
  if (dash) {
    c.expect(dash.metadata.labels && dash.metadata.labels.grafana_dashboard === "1", "dashboard ConfigMap has label grafana_dashboard=1");
    const file = fs.readFileSync(path.join(k8sDir, "grafana", "skewfree-dashboard.json"), "utf8");
    c.expect(dash.data["skewfree.json"] === file, "dashboard ConfigMap holds grafana/skewfree-dashboard.json");
  }
}

function checkNoSecrets(objects) {
  c.expect(!objects.some((o) => o.kind === "Secret"), "no Secret objects in the manifests");
  walk(objects, (node, key) => {
    // secretName / secretKeyRef reference a Secret; they hold no secret.
    if (typeof key === "string" && /password|token|secret|private.?key/i.test(key) && !/Name$|Ref$/.test(key) && typeof node === "string") {
      c.fail(`a value under key ${key} looks like a secret`);
    }
  });
}

// Every YAML file under k8s/ is rendered (a resource or a generator input):
// nothing escapes validation.
function checkNoOrphans() {
  const [k] = loadYamlFile(path.join(k8sDir, "kustomization.yaml"));
  const used = new Set(["kustomization.yaml", ...(k.resources || [])]);
  for (const g of k.configMapGenerator || []) for (const f of g.files || []) used.add(f.split("=").pop());
  const files = [];
  const visit = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        // Overlays have their own kustomization and are rendered separately.
        if (!fs.existsSync(path.join(p, "kustomization.yaml"))) visit(p);
      } else if (/\.(ya?ml|json)$/.test(e.name)) files.push(path.relative(k8sDir, p));
    }
  };
  visit(k8sDir);
  for (const f of files) c.expect(used.has(f), `${f} is not referenced by kustomization.yaml, so it is never validated`);
}

function renderBoth(dir) {
  const own = render(dir);
  const fromKubectl = kubectlRender(dir);
  if (fromKubectl) compareRenderers(fromKubectl, own);
  else console.log("check_k8s: kubectl not found, rendering with render_kustomization.js only");
  const objects = fromKubectl || own;
  console.log(`check_k8s: ${path.relative(repoRoot, dir)}: ${objects.length} objects: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return objects;
}

function pods(objects) {
  const out = [];
  for (const o of objects) {
    if (o.kind === "Deployment" || o.kind === "Job") out.push([o, o.spec.template.spec]);
    if (o.kind === "CronJob") out.push([o, o.spec.jobTemplate.spec.template.spec]);
    if (o.kind === "MPIJob") for (const [, spec] of mpiJobPods(o)) out.push([o, spec]);
  }
  return out;
}

// Every ConfigMap a pod names is rendered under that name: kustomize renames
// references to generated ConfigMaps only where it knows the field (a custom
// resource needs a nameReference configuration).
function checkConfigMapRefs(objects, where) {
  const names = new Set(objects.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name));
  walk(objects, (node, key) => {
    if (!["configMapRef", "configMapKeyRef", "configMap"].includes(key) || !node || typeof node !== "object") return;
    c.expect(names.has(node.name), `${where}: a pod names ConfigMap ${node.name}, which is not rendered (${[...names].join(", ")})`);
  });
}

function checkOverlay(dir, baseJob) {
  const objects = renderBoth(dir);
  validateSchemas(objects);
  checkNoSecrets(objects);
  const cm = objects.find((o) => o.kind === "ConfigMap" && stripHash(o.metadata.name) === "skewfree-config");
  const env = cm ? cm.data : {};
  for (const [o, spec] of pods(objects)) {
    for (const c0 of spec.containers) {
      const where = `${path.basename(dir)}: ${o.kind}/${o.metadata.name}`;
      checkHardening(spec, c0, where);
      // An MPIJob's command lines are mpirun and sshd: checkMpiJob reads them.
      if (o.kind !== "MPIJob") checkFlags(c0, env, where);
      for (const m of c0.volumeMounts || []) {
        c.expect((spec.volumes || []).some((v) => v.name === m.name), `${where}: mount ${m.name} has a volume`);
      }
    }
  }
  checkConfigMapRefs(objects, path.basename(dir));
  const root = path.resolve(dir, "..", "..", "..");
  for (const job of objects.filter((o) => o.kind === "MPIJob")) {
    checkMpiJob(c, job, objects, { overlayDir: dir, root, dockerfile: path.join(root, "Dockerfile"), baseJob, env, binDir, flagError, expand, envOf });
  }
}

function main() {
  const objects = renderBoth(k8sDir);
  validateSchemas(objects);
  const cm = find(objects, "ConfigMap", "skewfree-config");
  const env = cm ? cm.data : {};
  const pvc = find(objects, "PersistentVolumeClaim", "skewfree-models");
  if (pvc) c.expect((pvc.spec.accessModes || []).includes("ReadWriteMany"), "skewfree-models claim is ReadWriteMany (replicas on several nodes)");
  const server = checkServer(objects, env);
  const job = find(objects, "Job", "skewfree-train");
  const trainerLabels = job ? checkTrainer(job.spec, "Job/skewfree-train", env, server) : null;
  const cron = find(objects, "CronJob");
  if (cron) {
    c.expect(cron.spec.concurrencyPolicy === "Forbid", "CronJob: concurrencyPolicy Forbid (one trainer writes the checkpoints)");
    checkTrainer(cron.spec.jobTemplate.spec, `CronJob/${cron.metadata.name}`, env, server);
  }
  checkNetworking(objects, server, trainerLabels);
  checkMonitoringSources(objects);
  checkNoSecrets(objects);
  checkNoOrphans();
  for (const o of overlays) checkOverlay(o, job);
  c.finish();
}

try {
  main();
} catch (e) {
  c.fail(e.stack || String(e));
  c.finish();
}
