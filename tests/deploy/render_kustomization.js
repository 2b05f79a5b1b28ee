// A small kustomize for this repository's k8s/, used when `kubectl kustomize`
// is missing. It resolves what k8s/base and k8s/overlays use: resources
// (files, or folders with their own kustomization), labels (metadata only),
// images (newName/newTag), configMapGenerator (literals, files,
// options.labels, disableNameSuffixHash; references to generated ConfigMaps
// are renamed), configurations holding nameReference field specs for
// ConfigMaps (where a custom resource such as an MPIJob names one), and
// patches given as JSON 6902 operation lists (add, replace, remove) or as a
// strategic-merge `$patch: delete`, with a kind/name target. Anything else in the kustomization is
// an error, so a new feature cannot be silently ignored. Its name hashes are
// not kustomize's (the test compares names without the hash).
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { loadYamlFile } = require("./lib");

const kSupported = new Set(["apiVersion", "kind", "labels", "resources", "images", "configMapGenerator", "patches", "configurations"]);

function generateConfigMap(dir, gen) {
  const data = {};
  for (const lit of gen.literals || []) {
    const i = lit.indexOf("=");
    if (i <= 0) throw new Error(`configMapGenerator ${gen.name}: bad literal ${lit}`);
    data[lit.slice(0, i)] = lit.slice(i + 1);
  }
  for (const f of gen.files || []) {
    const i = f.indexOf("=");
    const key = i > 0 ? f.slice(0, i) : path.basename(f);
    data[key] = fs.readFileSync(path.join(dir, i > 0 ? f.slice(i + 1) : f), "utf8");
  }
  const opts = gen.options || {};
  let name = gen.name;
  if (!opts.disableNameSuffixHash) {
    const h = crypto.createHash("sha256").update(JSON.stringify(Object.entries(data).sort())).digest("hex");
    name = `${gen.name}-${h.slice(0, 10)}`;
  }
  const meta = { name };
  if (opts.labels) meta.labels = { ...opts.labels };
  return { generated: gen.name, object: { apiVersion: "v1", kind: "ConfigMap", metadata: meta, data } };
}

// Visits every object in a JSON tree; fn(node, key, parent).
function walk(node, fn, key = null, parent = null) {
  fn(node, key, parent);
  if (Array.isArray(node)) node.forEach((v, i) => walk(v, fn, i, node));
  else if (node && typeof node === "object") for (const k of Object.keys(node)) walk(node[k], fn, k, node);
}

function renameConfigMapRefs(obj, names) {
  walk(obj, (node, key) => {
    if (!node || typeof node !== "object" || Array.isArray(node)) return;
    const refKeys = ["configMapRef", "configMapKeyRef", "configMap"];
    if (refKeys.includes(key) && names.has(node.name)) node.name = names.get(node.name);
  });
}

function setImages(obj, images) {
  walk(obj, (node, key) => {
    if (!(key === "containers" || key === "initContainers") || !Array.isArray(node)) return;
    for (const c of node) {
      const [name, tag] = c.image.split(":");
      const img = images.find((i) => i.name === name);
      if (!img) continue;
      c.image = `${img.newName || name}:${img.newTag || tag || "latest"}`;
    }
  });
}

// "/spec/containers/0/args/-" -> parent node and key ("-" appends).
function resolvePointer(obj, pointer) {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = obj;
  for (const p of parts.slice(0, -1)) {
    node = node[Array.isArray(node) ? Number(p) : p];
    if (node === undefined) throw new Error(`patch path ${pointer} does not exist`);
  }
  return { node, key: parts[parts.length - 1] };
}

function applyJson6902(obj, ops, where) {
  for (const op of ops) {
    const { node, key } = resolvePointer(obj, op.path);
    const value = JSON.parse(JSON.stringify(op.value === undefined ? null : op.value));
    if (Array.isArray(node)) {
      const i = key === "-" ? node.length : Number(key);
      if (op.op === "add") node.splice(i, 0, value);
      else if (op.op === "replace" && i < node.length) node[i] = value;
      else if (op.op === "remove" && i < node.length) node.splice(i, 1);
      else throw new Error(`${where}: cannot ${op.op} ${op.path}`);
    } else if (op.op === "add") node[key] = value;
    else if (op.op === "replace" && key in node) node[key] = value;
    else if (op.op === "remove" && key in node) delete node[key];
    else throw new Error(`${where}: cannot ${op.op} ${op.path}`);
  }
}

// A strategic-merge patch that only deletes its target: {$patch: delete, kind, metadata.name}.
function isDeletePatch(doc) {
  const keys = Object.keys(doc || {}).filter((k) => !["apiVersion", "kind", "metadata"].includes(k));
  return doc && !Array.isArray(doc) && doc.$patch === "delete" && keys.length === 1;
}

function applyPatches(dir, patches, objects) {
  for (const p of patches) {
    if (!p.path || !p.target) throw new Error("only patches with path and target are supported");
    const ops = loadYamlFile(path.join(dir, p.path))[0];
    const deletes = isDeletePatch(ops);
    if (!Array.isArray(ops) && !deletes) throw new Error(`${p.path}: only JSON 6902 operation lists and $patch: delete are supported`);
    const hits = objects.filter((o) => (!p.target.kind || o.kind === p.target.kind) && (!p.target.name || o.metadata.name === p.target.name));
    if (hits.length === 0) throw new Error(`${p.path}: target matches no object`);
    if (deletes && (ops.kind !== p.target.kind || ops.metadata.name !== p.target.name)) {
      throw new Error(`${p.path}: deletes ${ops.kind}/${ops.metadata.name} but targets ${p.target.kind}/${p.target.name}`);
    }
    for (const o of hits) {
      if (deletes) objects.splice(objects.indexOf(o), 1);
      else applyJson6902(o, ops, p.path);
    }
  }
}

// Follows a kustomize field-spec path ("spec/a/b", arrays crossed) and renames
// the ConfigMap names found at its end.
function renameAtPath(node, parts, names) {
  if (Array.isArray(node)) return node.forEach((v) => renameAtPath(v, parts, names));
  if (!node || typeof node !== "object" || parts.length === 0) return;
  const [head, ...rest] = parts;
  if (rest.length === 0) {
    if (typeof node[head] === "string" && names.has(node[head])) node[head] = names.get(node[head]);
  } else renameAtPath(node[head], rest, names);
}

// configurations: nameReference field specs for ConfigMaps, as kustomize reads them.
function applyConfigurations(dir, files, objects, names) {
  for (const f of files) {
    const [conf] = loadYamlFile(path.join(dir, f));
    for (const key of Object.keys(conf)) if (key !== "nameReference") throw new Error(`${f}: ${key} is not supported by this renderer`);
    for (const ref of conf.nameReference || []) {
      if (ref.kind !== "ConfigMap") throw new Error(`${f}: only nameReference of kind ConfigMap is supported`);
      for (const spec of ref.fieldSpecs || []) {
        const hits = objects.filter((o) => o.kind === spec.kind && (!spec.group || o.apiVersion.startsWith(`${spec.group}/`)));
        for (const o of hits) renameAtPath(o, spec.path.split("/"), names);
      }
    }
  }
}

// The objects of a kustomization, and every ConfigMap name it generated
// (its own and its resources').
function renderTree(dir) {
  const [k] = loadYamlFile(path.join(dir, "kustomization.yaml"));
  for (const key of Object.keys(k)) {
    if (!kSupported.has(key)) throw new Error(`kustomization field ${key} is not supported by this renderer`);
  }
  const objects = [];
  const generatedBelow = new Map();
  for (const r of k.resources || []) {
    const p = path.join(dir, r);
    if (!fs.statSync(p).isDirectory()) {
      objects.push(...loadYamlFile(p));
      continue;
    }
    const sub = renderTree(p);
    objects.push(...sub.objects);
    for (const [from, to] of sub.generated) generatedBelow.set(from, to);
  }
  const names = new Map();
  for (const gen of k.configMapGenerator || []) {
    const { generated, object } = generateConfigMap(dir, gen);
    names.set(generated, object.metadata.name);
    objects.push(object);
  }
  for (const obj of objects) {
    for (const l of k.labels || []) {
      if (l.includeSelectors || l.includeTemplates) throw new Error("labels with includeSelectors/includeTemplates are not supported");
      obj.metadata.labels = { ...(obj.metadata.labels || {}), ...l.pairs };
    }
    setImages(obj, k.images || []);
    renameConfigMapRefs(obj, names);
  }
  const generated = new Map([...generatedBelow, ...names]);
  applyConfigurations(dir, k.configurations || [], objects, generated);
  applyPatches(dir, k.patches || [], objects);
  return { objects, generated };
}

function render(dir) {
  return renderTree(dir).objects;
}

module.exports = { render, walk };
