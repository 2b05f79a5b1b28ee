// Unknown-field check ("strict" validation, as the API server's
// fieldValidation=Strict does). kubernetes-models' JSON schemas allow extra
// properties, so a misspelt field (readOnlyRootFileSystem) would pass them.
// This reads the fields each type declares from the packages' TypeScript
// declarations (.d.ts: interfaces with quoted field names, inline object
// types for the CRDs) and reports every field of an object that its type
// does not declare.
"use strict";
const fs = require("fs");
const path = require("path");

const toolsDir = path.join(__dirname, "tools", "node_modules");

// --- a tokenizer and parser for the subset of TypeScript types used there ---

function tokenize(text) {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  const tokens = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$.]*|-?\d+(?:\.\d+)?|=>|[{}()<>\[\]|&;:?,=])/y;
  let m;
  while ((m = re.exec(src)) !== null) tokens.push(m[1]);
  return tokens;
}

class TypeParser {
  constructor(tokens) {
    this.t = tokens;
    this.i = 0;
  }
  peek() { return this.t[this.i]; }
  next() { return this.t[this.i++]; }
  expect(tok) {
    const got = this.next();
    if (got !== tok) throw new Error(`d.ts parse: expected ${tok}, got ${got}`);
  }
  // type := primary ('|' primary)*
  type() {
    if (this.peek() === "|") this.next();
    const alts = [this.postfix()];
    while (this.peek() === "|" || this.peek() === "&") {
      this.next();
      alts.push(this.postfix());
    }
    return alts.length === 1 ? alts[0] : { kind: "union", of: alts };
  }
  postfix() {
    let t = this.primary();
    while (this.peek() === "[" && this.t[this.i + 1] === "]") {
      this.i += 2;
      t = { kind: "array", of: t };
    }
    return t;
  }
  primary() {
    const tok = this.next();
    if (tok === "{") return this.members();
    if (tok === "(") {
      const t = this.type();
      this.expect(")");
      return t;
    }
    if (/^["'\d-]/.test(tok)) return { kind: "leaf" };
    if (tok === "Array" || tok === "ReadonlyArray") {
      this.expect("<");
      const of = this.type();
      this.expect(">");
      return { kind: "array", of };
    }
    if (this.peek() === "<") { // other generics: treat as opaque
      let depth = 0;
      do {
        const x = this.next();
        if (x === "<") depth++;
        if (x === ">") depth--;
      } while (depth > 0);
      return { kind: "leaf" };
    }
    if (["string", "number", "boolean", "any", "unknown", "null", "undefined", "object", "true", "false"].includes(tok)) return { kind: "leaf" };
    return { kind: "ref", name: tok };
  }
  // After '{': fields until '}'.
  members() {
    const fields = new Map();
    let index = null;
    while (this.peek() !== "}") {
      if (this.peek() === "[") { // [key: string]: T;
        this.next(); this.next(); this.expect(":"); this.next(); this.expect("]");
        this.expect(":");
        index = this.type();
      } else {
        const name = this.next().replace(/^["']|["']$/g, "");
        if (this.peek() === "?") this.next();
        this.expect(":");
        fields.set(name, this.type());
      }
      if (this.peek() === ";" || this.peek() === ",") this.next();
    }
    this.next();
    return { kind: "object", fields, index };
  }
}

// --- d.ts files: imports and the interface of each type -------------------

const fileCache = new Map();

function resolveImport(fromFile, spec) {
  const base = spec.startsWith(".") ? path.resolve(path.dirname(fromFile), spec) : path.join(toolsDir, spec);
  for (const f of [`${base}.d.ts`, path.join(base, "index.d.ts")]) if (fs.existsSync(f)) return f;
  return null;
}

// {imports: name -> file, interfaces: name -> type}
function loadDts(file) {
  if (fileCache.has(file)) return fileCache.get(file);
  const text = fs.readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    const target = resolveImport(file, m[2]);
    for (const n of m[1].split(",").map((x) => x.trim()).filter(Boolean)) {
      const [orig, alias] = n.split(/\s+as\s+/);
      imports.set(alias || orig, target);
    }
  }
  const interfaces = new Map();
  for (const m of text.matchAll(/export interface (\w+)(?:\s+extends\s+[\w,\s<>]+)?\s*\{/g)) {
    const p = new TypeParser(tokenize(text.slice(m.index + m[0].length)));
    interfaces.set(m[1], p.members());
  }
  const out = { imports, interfaces };
  fileCache.set(file, out);
  return out;
}

// A ref like IIoK8sApiCoreV1Container: the first interface of its file.
function resolveRef(file, name) {
  const dts = loadDts(file);
  if (dts.interfaces.has(name)) return { file, type: dts.interfaces.get(name) };
  const target = dts.imports.get(name);
  if (!target) return null; // a type alias or a base type: accept any value
  const t = loadDts(target);
  const first = [...t.interfaces.values()][0];
  return first ? { file: target, type: first } : null;
}

// Reports every field of value that type does not declare.
function check(value, type, file, where, report) {
  if (value === null || value === undefined || !type) return;
  switch (type.kind) {
    case "ref": {
      const r = resolveRef(file, type.name);
      if (r) check(value, r.type, r.file, where, report);
      return;
    }
    case "array":
      if (Array.isArray(value)) value.forEach((v, i) => check(v, type.of, file, `${where}[${i}]`, report));
      return;
    case "union": {
      // Only object alternatives can reject fields; use the first object one.
      const obj = type.of.find((t) => t.kind === "object" || t.kind === "ref");
      if (obj && typeof value === "object") check(value, obj, file, where, report);
      return;
    }
    case "object":
      if (typeof value !== "object" || Array.isArray(value)) return;
      for (const [k, v] of Object.entries(value)) {
        if (type.fields.has(k)) check(v, type.fields.get(k), file, `${where}.${k}`, report);
        else if (type.index) check(v, type.index, file, `${where}.${k}`, report);
        else report(`${where}.${k}: unknown field`);
      }
      return;
    default:
  }
}

// The declaration file of a kind, or null.
function dtsFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const rel = group === "monitoring.coreos.com"
    ? path.join("@kubernetes-models", "prometheus-operator", group, version, `${kind}.d.ts`)
    : path.join("kubernetes-models", group, version, `${kind}.d.ts`);
  const file = path.join(toolsDir, rel);
  return fs.existsSync(file) ? file : null;
}

// Returns the list of unknown fields of a Kubernetes object.
function unknownFields(obj) {
  const file = dtsFor(obj.apiVersion, obj.kind);
  if (!file) return [`${obj.apiVersion} ${obj.kind}: no type declarations`];
  const t = loadDts(file).interfaces.get(`I${obj.kind}`);
  if (!t) return [`${obj.kind}: interface I${obj.kind} not found`];
  const out = [];
  check(obj, t, file, `${obj.kind}/${obj.metadata && obj.metadata.name}`, (m) => out.push(m));
  return out;
}

// Unknown fields of an ObjectMeta (for custom resources, whose CRD schema
// leaves metadata open).
function unknownMetadataFields(meta, where) {
  const file = path.join(toolsDir, "@kubernetes-models", "apimachinery", "apis", "meta", "v1", "ObjectMeta.d.ts");
  const t = loadDts(file).interfaces.get("IObjectMeta");
  if (!t) return [`${file}: interface IObjectMeta not found`];
  const out = [];
  check(meta, t, file, where, (m) => out.push(m));
  return out;
}

module.exports = { unknownFields, unknownMetadataFields };
