// Validates custom resources (MPIJob) offline against their
// CustomResourceDefinition's OpenAPI v3 schema, the way the API server does
// with fieldValidation=Strict: types, enums, patterns, int32/int64 ranges,
// required fields, and every field the schema does not declare refused (a
// structural schema lists each object's properties; the API server would prune
// or reject anything else). The CRD is read from where it is kept (for the MPI
// Operator: ../shared/schemas/mpi-operator/, outside the project), never copied.
"use strict";
const { requireTool, loadYamlFile } = require("./lib");
const { unknownMetadataFields } = require("./strict_fields");

const kInt32 = [-(2 ** 31), 2 ** 31 - 1];

// The schema with additionalProperties: false on every object that lists its
// properties and allows nothing else, and without the x-kubernetes-*
// annotations Ajv does not know (int-or-string is already an anyOf).
function strictSchema(node) {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("x-kubernetes-") || k === "description" || k === "default") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function newAjv() {
  const Ajv = requireTool("ajv");
  const ajv = new (Ajv.default || Ajv)({ allErrors: true, strict: false });
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= kInt32[0] && n <= kInt32[1] });
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isSafeInteger(n) });
  ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  return ajv;
}

// Ajv's error -> "MPIJob/name.spec.slotsPerWorkers: unknown field" (the
// wording strict_fields.js uses for built-in kinds).
function describe(where, e) {
  const at = where + e.instancePath.replace(/\//g, ".").replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  if (e.keyword === "additionalProperties") return `${at}.${e.params.additionalProperty}: unknown field`;
  return `${at}: ${e.message}${e.params && e.params.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : ""}`;
}

// Loads a CRD file; returns {group, kind, validate(obj) -> [error strings]}.
function loadCrd(file) {
  const [crd] = loadYamlFile(file);
  if (!crd || crd.kind !== "CustomResourceDefinition") throw new Error(`${file}: not a CustomResourceDefinition`);
  const ajv = newAjv();
  const byVersion = new Map();
  for (const v of crd.spec.versions) {
    if (v.served) byVersion.set(`${crd.spec.group}/${v.name}`, ajv.compile(strictSchema(v.schema.openAPIV3Schema)));
  }
  const kind = crd.spec.names.kind;
  function validate(obj) {
    const where = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    const fn = byVersion.get(obj.apiVersion);
    if (!fn) return [`${where}: ${obj.apiVersion} is not a served version of ${kind} (${[...byVersion.keys()].join(", ")})`];
    const errors = fn(obj) ? [] : fn.errors.map((e) => describe(where, e));
    // The CRD leaves the object's own metadata open; the API server does not.
    return [...errors, ...unknownMetadataFields(obj.metadata, `${where}.metadata`)];
  }
  return { group: crd.spec.group, kind, validate };
}

module.exports = { loadCrd };
