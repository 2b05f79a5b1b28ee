// The deploy checkers must fail on the mistakes they exist for: for each
// checker, a copy of the real files gets all of its planted mistakes (each in
// a different place; the checkers report every failure, not just the first),
// and the checker must exit non-zero with a message naming each mistake.
// Usage: node checkers_selftest.js [BIN_DIR] [--crd MPIJOB_CRD] [--mpi-module FILE]
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");
const { repoRoot, Checker } = require("./lib");

const c = new Checker("checkers_selftest");
function option(flag) {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : null;
}
const binDir = process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && !["--crd", "--mpi-module"].includes(all[i - 1])) || null;
const haveBinaries = binDir && fs.existsSync(path.join(binDir, "skewfree-server"));
// The MPIJob CRD (../shared/schemas/mpi-operator/, read in place) and the built
// Open MPI module.
const crdFile = option("--crd");
const mpiModule = option("--mpi-module");
const haveMpiModule = mpiModule && fs.existsSync(mpiModule);

// Each case: file (relative to the repo), text to find, its replacement, the
// checker, and a pattern its output must contain. needsBinaries: only with BIN_DIR.
const kCases = [
  // Manifests.
  { file: "k8s/base/server-deployment.yaml", from: "readOnlyRootFilesystem: true", to: "readOnlyRootFileSystem: true", checker: "k8s", expect: /readOnlyRootFileSystem: unknown field/ },
  { file: "k8s/base/server-deployment.yaml", from: "allowPrivilegeEscalation: false", to: "allowPrivilegeEscalation: true", checker: "k8s", expect: /allowPrivilegeEscalation false/ },
  { file: "k8s/base/server-deployment.yaml", from: "replicas: 2", to: "replicas: two", checker: "k8s", expect: /replicas must be integer/ },
  { file: "k8s/base/server-deployment.yaml", from: "terminationGracePeriodSeconds: 45", to: "terminationGracePeriodSeconds: 20", checker: "k8s", expect: /must exceed drain/ },
  { file: "k8s/base/server-deployment.yaml", from: "            grpc:\n              port: 8001\n            periodSeconds: 5\n            timeoutSeconds: 2\n            failureThreshold: 2", to: "            tcpSocket:\n              port: 8001\n            periodSeconds: 5\n            timeoutSeconds: 2\n            failureThreshold: 2", checker: "k8s", expect: /readinessProbe is a native gRPC probe/ },
  { file: "k8s/base/server-deployment.yaml", from: "              readOnly: true\n            - name: tmp", to: "            - name: tmp", checker: "k8s", expect: /model repository mounted read-only/ },
  { file: "k8s/base/server-deployment.yaml", from: "--poll-interval=", to: "--poll-intervall=", checker: "k8s", expect: /Unknown command line flag 'poll_intervall'/, needsBinaries: true },
  { file: "k8s/base/train-job.yaml", from: "--model-dir=/store/checkpoints", to: "--model-dir=/tmp/checkpoints", checker: "k8s", expect: /save points\) is on the claim/ },
  { file: "k8s/base/train-job.yaml", from: "--export-dir=/store/repository/", to: "--export-dir=/store/exports/", checker: "k8s", expect: /but the server reads repository\/humidity/ },
  { file: "k8s/base/train-job.yaml", from: "  backoffLimit: 3\n", to: "", checker: "k8s", expect: /Job\/skewfree-train: backoffLimit/ },
  { file: "k8s/base/train-cronjob.yaml", from: "/$(JOB_NAME)", to: "", checker: "k8s", expect: /--model-dir is per Job/ },
  { file: "k8s/base/train-job.yaml", from: "\"/store/repository/$(MODEL_NAME)\", ", to: "", checker: "k8s", expect: /an init container creates \/store\/repository\/humidity/ },
  { file: "k8s/base/server-service.yaml", from: "    app.kubernetes.io/component: server\n  ports:", to: "    app.kubernetes.io/component: api\n  ports:", checker: "k8s", expect: /Service\/skewfree-server selects the server pods/ },
  { file: "k8s/base/monitoring/servicemonitor.yaml", from: "interval: 15s", to: "interval: 15 seconds", checker: "k8s", expect: /interval must match pattern/ },
  { file: "k8s/base/monitoring/prometheusrule.yaml", from: "> 0.25", to: "> 0.5", checker: "k8s", expect: /PrometheusRule spec.groups differ/ },
  { file: "k8s/base/kustomization.yaml", from: "  - server-pdb.yaml\n", to: "", checker: "k8s", expect: /server-pdb.yaml is not referenced/ },
  { file: "k8s/overlays/tls/server-tls-patch.yaml", from: "--tls_server_name=", to: "--tls_servername=", checker: "k8s", expect: /Unknown command line flag 'tls_servername'/, needsBinaries: true },
  // The MPIJob overlay (validated against the MPI Operator's CRD).
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "slotsPerWorker: 1", to: "slotsPerWorkers: 1", checker: "k8s", expect: /MPIJob\/skewfree-train-mpi\.spec\.slotsPerWorkers: unknown field/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "mpiImplementation: OpenMPI", to: "mpiImplementation: OpenMpi", checker: "k8s", expect: /spec\.mpiImplementation: must be equal to one of the allowed values/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "readOnlyRootFilesystem: true", to: "readOnlyRootFileSystem: true", checker: "k8s", expect: /Launcher\.template\.spec\.initContainers\[0\]\.securityContext\.readOnlyRootFileSystem: unknown field/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "command: [\"/usr/sbin/sshd\", \"-De\", \"-f\", \"/etc/skewfree/mpi/sshd_config\"]", to: "command: [\"sleep\", \"infinity\"]", checker: "k8s", expect: /Worker runs \/usr\/sbin\/sshd/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "                - skewfree-train\n", to: "                - skewfree-simulate\n", checker: "k8s", expect: /mpirun starts skewfree-train, got skewfree-simulate/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "                - \"2\"\n", to: "                - \"3\"\n", checker: "k8s", expect: /mpirun -np 3 must be Worker replicas x slotsPerWorker = 2/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "                - --bind-to\n", to: "                - --allow-run-as-root\n                - --bind-to\n", checker: "k8s", expect: /mpirun without --allow-run-as-root/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "--optimizer=$(OPTIMIZER)", to: "--optimizer=exact", checker: "k8s", expect: /skewfree-train flags differ from the base Job's/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "cleanPodPolicy: Running", to: "cleanPodPolicy: None", checker: "k8s", expect: /cleanPodPolicy Running or All/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "sshAuthMountPath: /home/skewfree/.ssh", to: "sshAuthMountPath: /root/.ssh", checker: "k8s", expect: /sshAuthMountPath is the non-root user's/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "                  mountPath: /data\n                  readOnly: true\n", to: "                  mountPath: /data\n", checker: "k8s", expect: /Worker mounts claim skewfree-data as the base Job does/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "image: skewfree-mpi", to: "image: skewfree", checker: "k8s", expect: /every container runs the trainer-mpi image/ },
  { file: "k8s/overlays/mpi/train-mpijob.yaml", from: "--metrics-port=", to: "--metrics-prot=", checker: "k8s", expect: /Unknown command line flag 'metrics_prot'/, needsBinaries: true },
  { file: "k8s/overlays/mpi/ssh/sshd_config", from: "Port 2222", to: "Port 2223", checker: "k8s", expect: /ssh_config Port 2222 is sshd_config's 2223/ },
  { file: "k8s/overlays/mpi/kustomization.yaml", from: "configurations:\n  - kustomizeconfig.yaml\n", to: "", checker: "k8s", expect: /a pod names ConfigMap skewfree-config, which is not rendered/ },
  { file: "k8s/overlays/mpi/kustomization.yaml", from: "  - path: delete-train-cronjob.yaml\n    target:\n      group: batch\n      version: v1\n      kind: CronJob\n      name: skewfree-train-nightly\n", to: "", checker: "k8s", expect: /single-process trainer still renders: CronJob\/skewfree-train-nightly/ },
  // Dockerfile.
  { file: "Dockerfile", from: "USER 10001:10001\n# The model repository", to: "USER root\n# The model repository", checker: "dockerfile", expect: /numeric non-root USER/ },
  { file: "Dockerfile", from: "USER 10001:10001\nWORKDIR /home/skewfree", to: "USER 0\nWORKDIR /home/skewfree", checker: "dockerfile", expect: /trainer-mpi runs as the numeric non-root USER of the runtime stage .*got 0/ },
  { file: "Dockerfile", from: "EXPOSE 8000 8001 8002", to: "EXPOSE 8000 8001 80o2", checker: "dockerfile", expect: /dockerfilelint: .*Invalid Port/ },
  { file: "Dockerfile", from: "bash scripts/build.sh --target", to: "cmake -S . -B build && cmake --build build --target", checker: "dockerfile", expect: /runs scripts\/build.sh/ },
  { file: "Dockerfile", from: "        libgrpc++1.51 \\\n", to: "", checker: "dockerfile", expect: /runtime stage lacks libgrpc\+\+1.51/, needsBinaries: true },
  { file: ".dockerignore", from: "\nbuild\n", to: "\n", checker: "dockerfile", expect: /excludes build$/m },
  { file: "Dockerfile", from: "        openssh-server \\\n", to: "", checker: "dockerfile", expect: /trainer-mpi installs openssh-server/ },
  { file: "Dockerfile", from: "        libssl3 \\\n", to: "        libssl3 \\\n        mpich \\\n", checker: "dockerfile", expect: /the serving image installs no sshd or MPI, got mpich/ },
  { file: "Dockerfile", from: "libskewfree_mpi.so /usr/local/lib/skewfree/", to: "libskewfree_mpi.so /usr/lib/skewfree/", checker: "dockerfile", expect: /copies libskewfree_mpi.so to \/usr\/local\/lib\/skewfree\// },
  { file: "Dockerfile", from: " /etc/ssh/ssh_host_*", to: "", checker: "dockerfile", expect: /removes the host keys/ },
  { file: "Dockerfile", from: "skewfree-client skewfree_mpi", to: "skewfree-client", checker: "dockerfile", expect: /build stage builds skewfree_mpi/ },
  { file: "Dockerfile", from: "        libopenmpi3 \\\n        openmpi-bin \\\n", to: "", checker: "dockerfile", expect: /trainer-mpi stage lacks libopenmpi3 \(needed by lib\S*mpi\S*\.so/, needsMpiModule: true },
  // Dashboard and rules.
  { file: "k8s/base/grafana/skewfree-dashboard.json", from: "skewfree_eval_rmse", to: "skewfree_eval_rmse_total", checker: "metrics", expect: /skewfree_eval_rmse_total is not a metric skewfree exports/ },
  { file: "k8s/base/grafana/skewfree-dashboard.json", from: "sum by (model, version) (rate(", to: "sum by (model, version) (rate((", checker: "metrics", expect: /promtool rejects a dashboard query/ },
  { file: "k8s/base/monitoring/skewfree-rules.yaml", from: "skewfree_model_loaded_version < 1", to: "skewfree_model_version < 1", checker: "metrics", expect: /skewfree_model_version is neither exported/ },
];

// Runs a checker on the copy in root; resolves {status, out}.
function runChecker(kind, root, withBinaries) {
  const bin = withBinaries && haveBinaries ? ["--binaries", binDir] : [];
  const mpi = crdFile ? ["--overlay", path.join(root, "k8s", "overlays", "mpi"), "--crd", crdFile] : [];
  const module = haveMpiModule ? ["--mpi-module", mpiModule] : [];
  const argv = {
    k8s: [path.join(__dirname, "check_k8s.js"), path.join(root, "k8s", "base"), "--overlay", path.join(root, "k8s", "overlays", "tls"), ...mpi, ...bin],
    dockerfile: [path.join(__dirname, "check_dockerfile.js"), "--dockerfile", path.join(root, "Dockerfile"), "--dockerignore", path.join(root, ".dockerignore"), ...module, ...bin],
    metrics: [path.join(__dirname, "check_metrics_usage.js"), "--dashboard", path.join(root, "k8s", "base", "grafana", "skewfree-dashboard.json"), "--rules", path.join(root, "k8s", "base", "monitoring", "skewfree-rules.yaml")],
  }[kind];
  // kubectl's renderer is checked by deploy_k8s_manifests; the fallback is faster here.
  const env = { ...process.env, SKEWFREE_NO_KUBECTL: "1" };
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { out += d; });
    const timer = setTimeout(() => p.kill("SIGKILL"), 60000);
    p.on("close", (status) => { clearTimeout(timer); resolve({ status, out }); });
  });
}

// A copy of the checked files in a new temporary folder.
function copyTree() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "skewfree-selftest-"));
  for (const f of ["Dockerfile", ".dockerignore"]) fs.copyFileSync(path.join(repoRoot, f), path.join(root, f));
  fs.cpSync(path.join(repoRoot, "k8s"), path.join(root, "k8s"), { recursive: true });
  return root;
}

// Plants every mistake of one checker in one copy and checks each is reported.
async function runGroup(kind, cases) {
  const root = copyTree();
  try {
    for (const t of cases) {
      const file = path.join(root, t.file);
      const text = fs.readFileSync(file, "utf8");
      if (!c.expect(text.includes(t.from), `${t.file} still contains ${JSON.stringify(t.from)} (update this case)`)) continue;
      fs.writeFileSync(file, text.replace(t.from, t.to));
    }
    const r = await runChecker(kind, root, true);
    c.expect(r.status === 1, `${kind} checker exits 1 on planted mistakes, got ${r.status}`);
    for (const t of cases) {
      c.expect(t.expect.test(r.out), `${t.file}: ${JSON.stringify(t.from)} -> ${JSON.stringify(t.to)}: ${kind} checker should report ${t.expect}`);
    }
    if (c.failures.length) console.error(`--- ${kind} checker output:\n${r.out}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  const kinds = ["k8s", "dockerfile", "metrics"];
  // The unmodified copy passes every checker.
  const root = copyTree();
  try {
    const results = await Promise.all(kinds.map((kind) => runChecker(kind, root, true)));
    results.forEach((r, i) => c.expect(r.status === 0, `unmodified files pass ${kinds[i]}: ${r.out}`));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  // The MPIJob cases need the CRD (without it the mpi overlay is not checked).
  const usable = kCases.filter((t) => (!t.needsBinaries || haveBinaries) && (!t.needsMpiModule || haveMpiModule) &&
    (crdFile || !t.file.startsWith("k8s/overlays/mpi/")));
  await Promise.all(kinds.map((kind) => runGroup(kind, usable.filter((t) => t.checker === kind))));
}

main()
  .catch((e) => c.fail(e.stack || String(e)))
  .then(() => c.finish());
