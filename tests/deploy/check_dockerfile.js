// Lints the Dockerfile with two linters (dockerfilelint, and dockerfile-utils,
// the VS Code Docker extension's validator) and checks what the image must
// be: multi-stage on debian:bookworm-slim, the build stage running CI's own
// scripts, a runtime stage with the four binaries only, a non-root user,
// EXPOSE 8000 8001 8002, a HEALTHCHECK through skewfree-client, the server on the
// /models volume by default, and a .dockerignore keeping builds and data out.
// Given the built binaries, it also checks with ldd + dpkg that the runtime
// stage installs every shared library they load.
// The trainer-mpi target (the MPIJob's image) shares the runtime libraries,
// adds sshd, Open MPI and the trainer's MPI module; the serving image (the
// default, last stage) has none of them. Given the built module
// (--mpi-module FILE), every library it loads must come from trainer-mpi's
// packages.
// Usage: node check_dockerfile.js [--binaries DIR] [--mpi-module FILE] [--dockerfile FILE] [--dockerignore FILE]
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { repoRoot, requireTool, Checker } = require("./lib");
const { flagError } = require("./flags");

const c = new Checker("check_dockerfile");
const kBinaries = ["skewfree-server", "skewfree-train", "skewfree-simulate", "skewfree-client"];
// Packages every debian:bookworm-slim image already has (Priority: required).
const kBaseImage = new Set(["libc6", "libgcc-s1", "libstdc++6", "zlib1g", "debconf", "gcc-12-base"]);

// Instructions with continuation lines joined: [{op, args, line}].
function parse(text) {
  const out = [];
  let buf = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === "" || line.startsWith("#"))) return;
    if (buf && line.startsWith("#")) return;
    if (!buf) start = i + 1;
    if (line.endsWith("\\")) {
      buf += line.slice(0, -1) + " ";
      return;
    }
    buf += line;
    const m = /^(\S+)\s*(.*)$/.exec(buf);
    out.push({ op: m[1].toUpperCase(), args: m[2], line: start });
    buf = "";
  });
  return out;
}

function lint(file, text) {
  const dockerfilelint = requireTool("dockerfilelint");
  // dockerfilelint 1.8 does not know stage names: "FROM libs AS trainer-mpi"
  // is not an untagged image (checkStructure traces every stage to
  // debian:bookworm-slim).
  const stageNames = new Set(stages(parse(text)).map((s) => s.name).filter(Boolean));
  const lines = text.split("\n");
  const fromStage = (n) => {
    const m = /^\s*FROM\s+(\S+)/i.exec(lines[n - 1] || "");
    return m && stageNames.has(m[1]);
  };
  for (const item of dockerfilelint.run(path.dirname(file), text)) {
    if (item.title === "Base Image Missing Tag" && fromStage(item.line)) continue;
    c.fail(`dockerfilelint: line ${item.line}: ${item.title}: ${item.description}`);
  }
  const utils = requireTool("dockerfile-utils");
  for (const d of utils.validate(text)) {
    c.fail(`dockerfile-utils: line ${d.range.start.line + 1}: ${d.message}`);
  }
  c.expect(true, "linters ran");
}

// [{from, name, ins}], "FROM image AS name".
function stages(instructions) {
  const out = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(ins.args);
      out.push({ from: m ? m[1] : ins.args, name: m && m[2] ? m[2] : null, ins: [] });
    } else if (out.length) out[out.length - 1].ins.push(ins);
  }
  return out;
}

// A stage and the stages it is built FROM, base first.
function chain(st, stage) {
  const out = [stage];
  for (let s = stage; ;) {
    s = st.find((x) => x.name === s.from);
    if (!s || out.includes(s)) return out.reverse();
    out.push(s);
  }
}

function jsonArgs(ins, where) {
  try {
    return JSON.parse(ins.args.replace(/^.*?(\[)/, "$1"));
  } catch {
    c.fail(`${where}: line ${ins.line}: use the JSON (exec) form`);
    return [];
  }
}

function aptPackages(stage) {
  const pkgs = [];
  if (Array.isArray(stage)) return stage.flatMap(aptPackages);
  for (const ins of stage.ins.filter((i) => i.op === "RUN")) {
    const m = /apt-get install ([^&;|]*)/.exec(ins.args);
    if (m) pkgs.push(...m[1].split(/\s+/).filter((w) => w && !w.startsWith("-")));
  }
  return pkgs;
}

// Command lines the image runs, for the real binaries to parse.
const commandLines = [];

const kStages = ["build", "libs", "trainer-mpi", "runtime"];

function checkStructure(instructions) {
  const st = stages(instructions);
  const names = st.map((s) => s.name);
  c.expect(JSON.stringify(names) === JSON.stringify(kStages),
    `stages ${kStages.join(", ")} (runtime last: a plain docker build makes the serving image), got ${names.join(", ")}`);
  for (const s of st) {
    const base = chain(st, s)[0].from;
    c.expect(/^debian:bookworm-slim$/.test(base), `stage ${s.name} is built on debian:bookworm-slim, got ${base}`);
  }
  if (JSON.stringify(names) !== JSON.stringify(kStages)) return {};
  const [build, , trainerMpi, runtime] = st;
  c.expect(trainerMpi.from === "libs" && runtime.from === "libs", "trainer-mpi and runtime share the libs stage (one list of runtime libraries)");
  const buildRuns = build.ins.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
  c.expect(/bash scripts\/install-deps\.sh/.test(buildRuns), "build stage runs scripts/install-deps.sh (CI's recipe)");
  // Settings passed to CI's scripts must be ones the scripts read.
  const installDeps = fs.readFileSync(path.join(repoRoot, "scripts", "install-deps.sh"), "utf8");
  for (const m of buildRuns.matchAll(/\b(SKEWFREE_[A-Z_]+)=\S*\s+bash scripts\/install-deps\.sh/g)) {
    c.expect(installDeps.includes(m[1]), `scripts/install-deps.sh reads ${m[1]}, which the Dockerfile sets`);
  }
  c.expect(/bash scripts\/build\.sh/.test(buildRuns), "build stage runs scripts/build.sh (CI's recipe)");
  c.expect(!/\bcmake\b/.test(buildRuns), "build stage builds only through scripts/build.sh, not a second cmake recipe");
  for (const b of kBinaries) c.expect(buildRuns.includes(b), `build stage builds ${b}`);
  c.expect(/build\.sh[^\n]*\bskewfree_mpi\b/.test(buildRuns), "build stage builds skewfree_mpi (the trainer's Open MPI module)");

  const copies = runtime.ins.filter((i) => i.op === "COPY");
  const copied = copies.flatMap((i) => i.args.split(/\s+/).filter((w) => !w.startsWith("--")).slice(0, -1));
  c.expect(copies.every((i) => /--from=build\b/.test(i.args)), "runtime stage copies only from the build stage");
  c.expect(JSON.stringify(copied.map((p) => path.basename(p)).sort()) === JSON.stringify([...kBinaries].sort()),
    `runtime stage copies exactly the four binaries, got ${copied}`);
  const pkgs = aptPackages(chain(st, runtime));
  for (const p of pkgs) c.expect(!/openssh|openmpi|mpich|^libopenmpi/.test(p), `the serving image installs no sshd or MPI, got ${p}`);
  c.expect(!copied.some((p) => /mpi/.test(p)), "the serving image has no MPI module");
  for (const p of pkgs) c.expect(!/-dev$|^(build-essential|cmake|ninja-build|g\+\+|gcc|ccache)$/.test(p), `runtime package ${p} is not a build tool or -dev package`);

  const user = lastUser(chain(st, runtime));
  c.expect(/^[1-9][0-9]*$/.test(user), `runtime runs as a numeric non-root USER (for runAsNonRoot), got ${user}`);
  const expose = runtime.ins.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
  c.expect(expose.includes("8000") && expose.includes("8001") && expose.includes("8002"),
    `EXPOSE 8000 8001 8002, got ${expose}`);
  const hc = runtime.ins.find((i) => i.op === "HEALTHCHECK");
  c.expect(hc && /CMD\s+\[?.*skewfree-client.*health/.test(hc.args), "HEALTHCHECK runs skewfree-client health");
  if (hc) {
    const cmd = jsonArgs({ ...hc, args: hc.args.slice(hc.args.indexOf("CMD") + 3) }, "HEALTHCHECK");
    c.expect(cmd[0] === "skewfree-client" && cmd[cmd.length - 1] === "health" && cmd.some((a) => /:8001$/.test(a)),
      `HEALTHCHECK asks the gRPC port 8001, got ${cmd}`);
    commandLines.push(cmd);
  }
  const vol = runtime.ins.find((i) => i.op === "VOLUME");
  c.expect(vol && /\/models\b/.test(vol.args), "VOLUME /models");
  const cmdIns = runtime.ins.filter((i) => i.op === "CMD");
  const cmd = cmdIns.length ? jsonArgs(cmdIns[cmdIns.length - 1], "CMD") : [];
  commandLines.push(cmd);
  c.expect(cmd[0] === "skewfree-server" && cmd.includes("--model-repository=/models"), `default CMD is the server on /models, got ${cmd}`);
  c.expect(cmd.includes("--port=8001") && cmd.includes("--metrics-port=8002") && cmd.includes("--address=0.0.0.0"),
    "default CMD listens on 0.0.0.0:8001 and :8002");
  const mpiPkgs = checkTrainerMpi(st, trainerMpi, user);
  return { pkgs, mpiPkgs };
}

function lastUser(stageChain) {
  const users = stageChain.flatMap((s) => s.ins).filter((i) => i.op === "USER");
  return users.length ? users[users.length - 1].args.split(":")[0] : "root";
}

// COPY instructions of a stage: [{from, sources, dest}].
function copies(stage) {
  return stage.ins.filter((i) => i.op === "COPY").map((i) => {
    const words = i.args.split(/\s+/);
    const from = (words.find((w) => w.startsWith("--from=")) || "").slice(7) || null;
    const paths = words.filter((w) => !w.startsWith("--"));
    return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
  });
}

// The MPIJob's image: sshd and Open MPI for the MPI Operator, the trainer and
// its module where the trainer looks for it, as the same non-root user.
function checkTrainerMpi(st, stage, runtimeUser) {
  const pkgs = aptPackages(chain(st, stage));
  for (const p of ["openssh-server", "openmpi-bin", "libopenmpi3"]) c.expect(pkgs.includes(p), `trainer-mpi installs ${p}`);
  const runs = stage.ins.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
  c.expect(/rm\s[^\n]*\/etc\/ssh\/ssh_host_\*/.test(runs), "trainer-mpi removes the host keys openssh-server's install generates (every image would share them)");
  c.expect(/usermod\s[^\n]*--shell\s+\/bin\/(ba)?sh\b/.test(runs), "trainer-mpi gives the user a shell (sshd runs mpirun's orted through it)");
  const cps = copies(stage);
  const find = (re) => cps.find((x) => x.sources.some((s) => re.test(s)));
  const train = find(/\/skewfree-train$/);
  c.expect(train && train.from === "build" && /^\/usr\/local\/bin\/?$/.test(train.dest), "trainer-mpi copies skewfree-train from the build stage to /usr/local/bin/");
  const mod = find(/\/libskewfree_mpi\.so$/);
  // skewfree-train looks for the module at <its directory>/../lib/skewfree/.
  c.expect(mod && mod.from === "build" && /^\/usr\/local\/lib\/skewfree\/(libskewfree_mpi\.so)?$/.test(mod.dest),
    `trainer-mpi copies libskewfree_mpi.so to /usr/local/lib/skewfree/ (beside /usr/local/bin/../lib/skewfree), got ${mod && mod.dest}`);
  const context = path.dirname(argValue("--dockerfile", path.join(repoRoot, "Dockerfile")));
  for (const x of cps.filter((y) => !y.from)) {
    for (const src of x.sources) c.expect(fs.existsSync(path.join(context, src)), `trainer-mpi copies ${src}, which exists`);
  }
  const sshd = find(/sshd_config$/);
  c.expect(sshd, "trainer-mpi installs the workers' sshd_config");
  const cmdIns = stage.ins.filter((i) => i.op === "CMD");
  const cmd = cmdIns.length ? jsonArgs(cmdIns[cmdIns.length - 1], "trainer-mpi CMD") : [];
  c.expect(cmd[0] === "/usr/sbin/sshd" && sshd && cmd.includes(sshd.dest), `trainer-mpi CMD is a worker's sshd with the installed config, got ${cmd}`);
  const user = lastUser(chain(st, stage));
  c.expect(/^[1-9][0-9]*$/.test(user) && user === runtimeUser, `trainer-mpi runs as the numeric non-root USER of the runtime stage (the pods' runAsUser), got ${user}`);
  c.expect(!stage.ins.some((i) => i.op === "HEALTHCHECK"), "trainer-mpi has no HEALTHCHECK of its own (it would inherit nothing useful)");
  return pkgs;
}

function argValue(flag, fallback) {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function checkDockerignore() {
  const file = argValue("--dockerignore", path.join(repoRoot, ".dockerignore"));
  if (!c.expect(fs.existsSync(file), ".dockerignore exists")) return;
  const lines = fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const need of [".git", "build", "build-*", "demo-out", "data", "models", "**/node_modules"]) {
    c.expect(lines.includes(need), `.dockerignore excludes ${need}`);
  }
  for (const keep of ["scripts", "proto", "transform", "CMakeLists.txt", "*"]) {
    c.expect(!lines.includes(keep), `.dockerignore keeps ${keep} in the context`);
  }
}

function dpkg(args) {
  return execFileSync("dpkg-query", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

// The package and all its (installed) dependencies, recursively.
function closure(pkgs) {
  const seen = new Set();
  const todo = [...pkgs];
  while (todo.length) {
    const p = todo.pop().replace(/:.*$/, "");
    if (seen.has(p)) continue;
    seen.add(p);
    let deps = "";
    try {
      deps = dpkg(["-W", "-f=${Depends},${Pre-Depends}", p]);
    } catch {
      continue;
    }
    for (const alt of deps.split(",")) {
      const first = alt.trim().split("|")[0].trim().split(/[\s(]/)[0];
      if (first) todo.push(first);
    }
  }
  return seen;
}

// path -> owning package, for many paths in one dpkg-query call.
function owners(paths) {
  const out = new Map();
  let text = "";
  try {
    text = dpkg(["-S", ...paths]);
  } catch (e) {
    text = String(e.stdout || ""); // exit 1 when some path has no owner
  }
  for (const line of text.split("\n")) {
    const m = /^([^:,]+)(?::[^:]+)?(?:, [^:]+)*: (\/.*)$/.exec(line);
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

function checkRuntimeLibraries(binaries, pkgs, stageName) {
  const provided = closure([...pkgs, ...kBaseImage]);
  const libs = new Map(); // library path -> first binary that loads it
  for (const bin of binaries) {
    const b = path.basename(bin);
    if (!c.expect(fs.existsSync(bin), `binary ${bin} exists`)) continue;
    const ldd = execFileSync("ldd", [bin], { encoding: "utf8" });
    for (const m of ldd.matchAll(/=>\s+(\/\S+)/g)) if (!libs.has(m[1])) libs.set(m[1], b);
  }
  // dpkg knows a library by its real path or by the linked path.
  const real = new Map([...libs.keys()].map((p) => [p, fs.realpathSync(p)]));
  const own = owners([...new Set([...libs.keys(), ...real.values()])]);
  const needed = new Map();
  for (const [lib, b] of libs) {
    const owner = own.get(real.get(lib)) || own.get(lib);
    if (!c.expect(owner, `${b}: ${lib} belongs to no Debian package (a locally built library cannot be in the image)`)) continue;
    if (!needed.has(owner)) needed.set(owner, `${b}: ${path.basename(lib)}`);
  }
  for (const [pkg, user] of needed) {
    c.expect(provided.has(pkg), `${stageName} stage lacks ${pkg} (needed by ${user}); add it to the apt-get install list`);
  }
  console.log(`check_dockerfile: ${stageName}: binaries load libraries of ${[...needed.keys()].sort().join(", ")}`);
}

function main() {
  const file = argValue("--dockerfile", path.join(repoRoot, "Dockerfile"));
  const text = fs.readFileSync(file, "utf8");
  lint(file, text);
  const { pkgs = [], mpiPkgs = [] } = checkStructure(parse(text));
  checkDockerignore();
  const mpiModule = argValue("--mpi-module", null);
  if (mpiModule && c.expect(fs.existsSync(mpiModule), `MPI module ${mpiModule} exists`)) {
    checkRuntimeLibraries([mpiModule], mpiPkgs, "trainer-mpi");
  }
  const i = process.argv.indexOf("--binaries");
  if (i > 0) {
    checkRuntimeLibraries(kBinaries.map((b) => path.join(process.argv[i + 1], b)), pkgs, "runtime");
    for (const argv of commandLines) {
      const err = flagError(process.argv[i + 1], argv);
      c.expect(!err, `${argv.join(" ")}: ${err}`);
    }
  }
  c.finish();
}

try {
  main();
} catch (e) {
  c.fail(e.stack || String(e));
  c.finish();
}
