// A small kustomize for this repository's base, used when `kubectl kustomize`
// is missing. It resolves what k8s/kustomization.yaml uses: resources (files),
// labels (metadata only), images (newName/newTag), configMapGenerator
// (literals, files, options.labels, disableNameSuffixHash) and rewrites the
// references to generated ConfigMaps. Anything else in the kustomization is
// an error, so a new feature cannot be silently ignored. Its name hashes are
// not kustomize's (the test compares names without the hash).
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { loadYamlFile } = require("./lib");

const kSupported = new Set(["apiVersion", "kind", "labels", "resources", "images", "configMapGenerator"]);

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

function render(dir) {
  const [k] = loadYamlFile(path.join(dir, "kustomization.yaml"));
  for (const key of Object.keys(k)) {
    if (!kSupported.has(key)) throw new Error(`kustomization field ${key} is not supported by this renderer`);
  }
  const objects = [];
  for (const r of k.resources || []) objects.push(...loadYamlFile(path.join(dir, r)));
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
  return objects;
}

module.exports = { render, walk };
