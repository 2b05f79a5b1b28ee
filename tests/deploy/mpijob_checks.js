// What the MPIJob CRD schema cannot say about k8s/overlays/mpi: an Open MPI
// job whose launcher runs `mpirun -np <workers x slots> skewfree-train` with
// the base Job's very flags, whose workers run the image's non-root sshd, and
// whose ranks see the base Job's claims at the same paths. Used by check_k8s.js.
"use strict";
const fs = require("fs");
const path = require("path");

// mpirun options that take a value (Open MPI 4.1), so the program is found.
const kMpirunValued = new Set(["-np", "-n", "--np", "-c", "--bind-to", "--map-by", "--rank-by", "-x", "--hostfile", "-hostfile",
  "--machinefile", "-H", "--host", "--output-filename", "--prefix", "-wdir", "--wdir", "-npernode", "--npernode"]);

// "mpirun [options] PROGRAM [args]" -> {options: [[name, value]...], program, args}.
function parseMpirun(argv) {
  const options = [];
  let i = 1;
  while (i < argv.length && argv[i].startsWith("-")) {
    const a = argv[i];
    if (a === "--mca" || a === "-mca") {
      options.push([a, `${argv[i + 1]}=${argv[i + 2]}`]);
      i += 3;
    } else if (kMpirunValued.has(a)) {
      options.push([a, argv[i + 1]]);
      i += 2;
    } else {
      options.push([a, null]);
      i += 1;
    }
  }
  return { options, program: argv[i], args: argv.slice(i + 1) };
}

// sshd_config / ssh_config "Keyword value" lines -> Map (first value wins, as in OpenSSH).
function readSshConfig(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Za-z]+)\s+(.+?)\s*$/.exec(line);
    if (m && !line.trim().startsWith("#") && !out.has(m[1].toLowerCase())) out.set(m[1].toLowerCase(), m[2]);
  }
  return out;
}

// Where the Dockerfile's trainer-mpi stage installs a file of this overlay.
function installedPath(dockerfile, source) {
  if (!fs.existsSync(dockerfile)) return null;
  const text = fs.readFileSync(dockerfile, "utf8").replace(/\\\n/g, " ");
  const m = new RegExp(`^COPY\\s+(?:--\\S+\\s+)*${source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+(\\S+)\\s*$`, "m").exec(text);
  return m ? m[1] : null;
}

// Claim name -> {mountPath, readOnly (mount and volume)} of a pod's container.
function claimMounts(spec, c0) {
  const out = new Map();
  for (const v of spec.volumes || []) {
    if (!v.persistentVolumeClaim) continue;
    const m = (c0.volumeMounts || []).find((x) => x.name === v.name);
    if (m) out.set(v.persistentVolumeClaim.claimName, { mountPath: m.mountPath, readOnly: Boolean(m.readOnly), volumeReadOnly: Boolean(v.persistentVolumeClaim.readOnly) });
  }
  return out;
}

function checkRunPolicy(c, job, where) {
  const rp = job.spec.runPolicy || {};
  c.expect(["Running", "All"].includes(rp.cleanPodPolicy), `${where}: runPolicy.cleanPodPolicy Running or All (workers run sshd until deleted), got ${rp.cleanPodPolicy}`);
  c.expect(Number.isInteger(rp.backoffLimit) && rp.backoffLimit > 0, `${where}: runPolicy.backoffLimit`);
  c.expect(Number.isInteger(rp.activeDeadlineSeconds) && rp.activeDeadlineSeconds > 0, `${where}: runPolicy.activeDeadlineSeconds`);
  c.expect(Number.isInteger(rp.ttlSecondsAfterFinished), `${where}: runPolicy.ttlSecondsAfterFinished`);
}

// Workers: the image's sshd as the pod's user, on the port the launcher's ssh uses.
function checkWorker(c, job, worker, ctx, where) {
  const c0 = worker.template.spec.containers[0];
  const argv = [...(c0.command || []), ...(c0.args || [])];
  c.expect(argv[0] === "/usr/sbin/sshd", `${where}: Worker runs /usr/sbin/sshd (the MPI Operator's workers only host ranks started over ssh), got ${argv.join(" ")}`);
  const shortFlags = argv.filter((a) => /^-[A-Za-z]+$/.test(a)).join("");
  c.expect(shortFlags.includes("D") && shortFlags.includes("e"), `${where}: Worker's sshd runs in the foreground with logs on stderr (-D -e)`);
  const fi = argv.indexOf("-f");
  const configPath = fi > 0 ? argv[fi + 1] : null;
  const sshDir = path.join(ctx.overlayDir, "ssh");
  if (c.expect(configPath, `${where}: Worker's sshd is given the image's config (-f): the default one needs root`)) {
    const installed = installedPath(ctx.dockerfile, path.relative(path.dirname(ctx.dockerfile), path.join(sshDir, "sshd_config")));
    c.expect(installed === configPath, `${where}: sshd -f ${configPath} is where the Dockerfile installs ${path.relative(ctx.root, path.join(sshDir, "sshd_config"))} (${installed})`);
  }
  const sshd = readSshConfig(path.join(sshDir, "sshd_config"));
  const client = readSshConfig(path.join(sshDir, "ssh_config"));
  const port = Number(sshd.get("port"));
  c.expect(Number(client.get("port")) === port, `${where}: ssh_config Port ${client.get("port")} is sshd_config's ${port}`);
  const sshPort = (c0.ports || []).find((p) => p.name === "ssh");
  c.expect(sshPort && sshPort.containerPort === port, `${where}: Worker port "ssh" is sshd's ${port}`);
  const probe = c0.readinessProbe && c0.readinessProbe.tcpSocket;
  c.expect(probe && [port, "ssh"].includes(probe.port), `${where}: Worker readinessProbe checks sshd's port ${port} (WaitForWorkersReady waits for it)`);
  const mount = job.spec.sshAuthMountPath;
  c.expect(mount && mount !== "/root/.ssh", `${where}: sshAuthMountPath is the non-root user's, got ${mount}`);
  for (const key of ["hostkey", "authorizedkeysfile"]) {
    const v = sshd.get(key) || "";
    c.expect(mount && v.startsWith(`${mount}/`), `${where}: sshd_config ${key} ${v} is under sshAuthMountPath ${mount} (the operator's key pair)`);
  }
  const identity = client.get("identityfile") || "";
  c.expect(mount && identity.startsWith(`${mount}/`), `${where}: ssh_config IdentityFile ${identity} is under sshAuthMountPath ${mount}`);
}

// Launcher: mpirun of skewfree-train with the base Job's flags.
function checkLauncher(c, job, ctx, where) {
  const specs = job.spec.mpiReplicaSpecs;
  const c0 = specs.Launcher.template.spec.containers[0];
  const argv = [...(c0.command || []), ...(c0.args || [])];
  if (!c.expect(argv[0] === "mpirun", `${where}: Launcher runs mpirun, got ${argv[0]}`)) return;
  const { options, program, args } = parseMpirun(argv);
  c.expect(program === "skewfree-train", `${where}: mpirun starts skewfree-train, got ${program}`);
  const opt = (names) => options.find(([n]) => names.includes(n));
  const np = opt(["-np", "-n", "--np", "-c"]);
  const ranks = specs.Worker.replicas * (job.spec.slotsPerWorker ?? 1);
  c.expect(np && Number(np[1]) === ranks, `${where}: mpirun -np ${np && np[1]} must be Worker replicas x slotsPerWorker = ${ranks}`);
  c.expect(!opt(["--allow-run-as-root"]), `${where}: mpirun without --allow-run-as-root (every rank runs as uid 10001)`);
  c.expect(!opt(["--oversubscribe"]), `${where}: mpirun without --oversubscribe (slotsPerWorker sets the ranks per pod)`);
  const bind = opt(["--bind-to"]);
  c.expect(bind && bind[1] === "none", `${where}: mpirun --bind-to none (a pod's CPU limit is a quota, not cores)`);
  if (ctx.baseJob) {
    const base = ctx.baseJob.spec.template.spec.containers[0];
    c.expect(JSON.stringify(args) === JSON.stringify(base.args || []),
      `${where}: skewfree-train flags differ from the base Job's: ${args.join(" ")} vs ${(base.args || []).join(" ")}`);
  }
  const jobVars = (c0.env || []).filter((e) => e.valueFrom && e.valueFrom.fieldRef &&
    e.valueFrom.fieldRef.fieldPath === "metadata.labels['training.kubeflow.org/job-name']").map((e) => e.name);
  const modelDir = args.find((a) => a.startsWith("--model-dir="));
  c.expect(modelDir && jobVars.some((v) => modelDir.includes(`$(${v})`)),
    `${where}: --model-dir is per MPIJob (a variable from the training.kubeflow.org/job-name label), got ${modelDir}`);
  if (ctx.binDir) {
    const expanded = [program, ...args].map((a) => ctx.expand(a, ctx.envOf(c0, ctx.env), where));
    const err = ctx.flagError(ctx.binDir, expanded);
    c.expect(!err, `${where}: ${expanded.join(" ")}: ${err}`);
  }
  return args;
}

// Ranks see the base Job's claims at the same paths; the launcher prepares them.
function checkClaims(c, job, ctx, where) {
  const specs = job.spec.mpiReplicaSpecs;
  const base = ctx.baseJob.spec.template.spec;
  const want = claimMounts(base, base.containers[0]);
  const wspec = specs.Worker.template.spec;
  const got = claimMounts(wspec, wspec.containers[0]);
  for (const [claim, m] of want) {
    c.expect(JSON.stringify(got.get(claim)) === JSON.stringify(m),
      `${where}: Worker mounts claim ${claim} as the base Job does (${JSON.stringify(m)}), got ${JSON.stringify(got.get(claim))}`);
  }
  const lspec = specs.Launcher.template.spec;
  const baseInit = JSON.stringify((base.initContainers || []).map((i) => i.command));
  c.expect(JSON.stringify((lspec.initContainers || []).map((i) => i.command)) === baseInit,
    `${where}: the Launcher's init containers run the base Job's (${baseInit}): they prepare the claim before any rank starts`);
  for (const ic of lspec.initContainers || []) {
    const baseIc = (base.initContainers || []).find((b) => b.name === ic.name);
    const gotIc = claimMounts(lspec, ic);
    const wantIc = baseIc ? claimMounts(base, baseIc) : new Map();
    c.expect(JSON.stringify([...gotIc]) === JSON.stringify([...wantIc]), `${where}: Launcher init ${ic.name} mounts the claims as the base Job's`);
  }
}

function checkMetrics(c, job, objects, launcherArgs, where) {
  const tmpl = job.spec.mpiReplicaSpecs.Worker.template;
  const port = (launcherArgs.find((a) => a.startsWith("--metrics-port=")) || "").split("=")[1];
  const metrics = (tmpl.spec.containers[0].ports || []).find((p) => p.name === "metrics");
  c.expect(metrics && String(metrics.containerPort) === port, `${where}: Worker port "metrics" is --metrics-port ${port} (rank 0 serves it)`);
  const ann = tmpl.metadata.annotations || {};
  c.expect(ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] === port, `${where}: Worker scrape annotations for port ${port}`);
  const pm = objects.find((o) => o.kind === "PodMonitor" && o.metadata.name === "skewfree-trainer");
  const sel = pm ? pm.spec.selector.matchLabels : {};
  c.expect(pm && Object.entries(sel).every(([k, v]) => (tmpl.metadata.labels || {})[k] === v), `${where}: PodMonitor skewfree-trainer selects the Worker pods`);
}

// ctx: {overlayDir, root, dockerfile, baseJob, env, binDir, flagError, expand, envOf}.
function checkMpiJob(c, job, objects, ctx) {
  const where = `${path.basename(ctx.overlayDir)}: MPIJob/${job.metadata.name}`;
  c.expect(job.apiVersion === "kubeflow.org/v2beta1", `${where}: apiVersion kubeflow.org/v2beta1, got ${job.apiVersion}`);
  c.expect(job.spec.mpiImplementation === "OpenMPI", `${where}: mpiImplementation OpenMPI (the image's MPI), got ${job.spec.mpiImplementation}`);
  const specs = job.spec.mpiReplicaSpecs || {};
  const roles = Object.keys(specs).sort().join(",");
  if (!c.expect(roles === "Launcher,Worker", `${where}: mpiReplicaSpecs has exactly Launcher and Worker, got ${roles}`)) return;
  c.expect(specs.Launcher.replicas === 1, `${where}: one Launcher`);
  c.expect(Number.isInteger(specs.Worker.replicas) && specs.Worker.replicas >= 1, `${where}: Worker replicas >= 1`);
  c.expect(Number.isInteger(job.spec.slotsPerWorker ?? 1) && (job.spec.slotsPerWorker ?? 1) >= 1, `${where}: slotsPerWorker >= 1`);
  checkRunPolicy(c, job, where);
  // One trainer writes the checkpoints and exports.
  const single = objects.filter((o) => ["Job", "CronJob"].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
  c.expect(single.length === 0, `${where}: the base's single-process trainer still renders: ${single.join(", ")} (delete it in the overlay)`);
  checkWorker(c, job, specs.Worker, ctx, where);
  const launcherArgs = checkLauncher(c, job, ctx, where) || [];
  if (c.expect(ctx.baseJob, `${where}: the base renders Job/skewfree-train to compare with`)) checkClaims(c, job, ctx, where);
  checkMetrics(c, job, objects, launcherArgs, where);
  const images = new Set([specs.Launcher, specs.Worker].flatMap((s) => [...s.template.spec.containers, ...(s.template.spec.initContainers || [])].map((x) => x.image)));
  const baseImage = ctx.baseJob && ctx.baseJob.spec.template.spec.containers[0].image;
  c.expect(images.size === 1 && !images.has(baseImage), `${where}: every container runs the trainer-mpi image (sshd, Open MPI), not the serving image ${baseImage}: ${[...images]}`);
}

// The pod templates of an MPIJob: [[role, podSpec]].
function mpiJobPods(job) {
  return Object.entries((job.spec && job.spec.mpiReplicaSpecs) || {}).map(([role, s]) => [role, s.template.spec]);
}

module.exports = { checkMpiJob, mpiJobPods, parseMpirun };
