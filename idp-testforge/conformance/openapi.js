// Checks requests and responses against GitHub's published OpenAPI description (the
// `@octokit/openapi` package: GitHub's rest-api-description, OpenAPI 3.0.3).
//
// OpenAPI 3.0 schemas are close to JSON Schema draft 4/7 but not the same; before Ajv sees them,
// each description is converted once:
//   - `nullable: true` becomes JSON Schema: `type: [T, "null"]` (and `null` joins an `enum`), or,
//     where the schema has no `type` (allOf/anyOf/oneOf/$ref), `anyOf: [schema, {type: "null"}]`;
//   - a `$ref` is the whole schema (OpenAPI 3.0 ignores its siblings), so siblings are dropped;
//   - GitHub's own formats (`int64`, `repo.nwo`, ...) are declared so Ajv does not reject them;
//     the standard ones (`uri`, `date-time`, `email`, `uri-template`, ...) come from ajv-formats
//     and are checked.
// `readOnly`/`writeOnly`, `example(s)`, `discriminator` and `x-*` are annotations here.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);

/** Rewrites an OpenAPI 3.0.3 schema tree in place into JSON Schema that Ajv checks faithfully. */
function toJsonSchema(node, id, inProperties = false) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = toJsonSchema(node[i], id);
    return node;
  }
  if (!node || typeof node !== "object") return node;
  if (inProperties) {
    // A map of property names (which may be `example`, `$ref`, ...) to schemas.
    for (const k of Object.keys(node)) node[k] = toJsonSchema(node[k], id);
    return node;
  }
  if (typeof node.$ref === "string") {
    // OpenAPI 3.0: "This object cannot be extended with additional properties and any
    // properties added SHALL be ignored." Refs become absolute so that a schema compiled on its
    // own still finds the description's components.
    return { $ref: node.$ref.startsWith("#") ? id + node.$ref : node.$ref };
  }
  for (const k of Object.keys(node)) {
    // `example`/`examples` hold data, not schemas: leave them alone.
    if (k === "example" || k === "examples") continue;
    node[k] = toJsonSchema(node[k], id, k === "properties");
  }
  if (node.nullable === true) {
    delete node.nullable;
    if (typeof node.type === "string") {
      node.type = [node.type, "null"];
      if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum.push(null);
      return node;
    }
    return { anyOf: [node, { type: "null" }] };
  }
  if (node.nullable === false) delete node.nullable;
  return node;
}

function newAjv(opts) {
  const ajv = new Ajv({
    strict: false, // OpenAPI annotations (example, x-github, discriminator, readOnly) are not JSON Schema keywords
    allErrors: true,
    validateSchema: false,
    ...opts,
  });
  addFormats(ajv);
  const isInt = (n) => Number.isInteger(n);
  ajv.addFormat("int32", { type: "number", validate: (n) => isInt(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: isInt });
  // GitHub's own formats with no published definition: declared, not checked.
  for (const f of ["repo.nwo", "ssh-key", "ssh-key fingerprint", "ip/cidr", "timestamp", "binary"]) {
    ajv.addFormat(f, true);
  }
  return ajv;
}

/** One OpenAPI description, ready to check exchanges against. */
export class Description {
  /** `name`: a file of @octokit/openapi's `generated/` folder, without `.json`. */
  constructor(name) {
    this.name = name;
    this.id = `https://openapi.invalid/${name}.json`;
    const file = require.resolve(`@octokit/openapi/generated/${name}.json`);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    this.openapi = doc.openapi;
    this.version = doc.info.version;
    if (!/^3\.0\./.test(doc.openapi)) throw new Error(`${name}: OpenAPI ${doc.openapi}, this checker converts 3.0`);
    this.doc = toJsonSchema(doc, this.id);
    this.ajv = newAjv();
    this.ajv.addSchema({ $id: this.id, components: { schemas: this.doc.components.schemas } });
    // Query and path parameters arrive as strings: coerce them as a server would.
    this.params = newAjv({ coerceTypes: "array" });
    this.params.addSchema({ $id: this.id, components: { schemas: this.doc.components.schemas } });
    this.templates = Object.keys(this.doc.paths).map((t) => ({
      template: t,
      re: new RegExp(
        "^" + t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "([^/]+)") + "$",
      ),
      names: [...t.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
      literal: t.replace(/\{[^}]+\}/g, "").length,
    }));
    this.cache = new Map();
  }

  /** Follows `$ref`s to components (parameters, request bodies, responses). */
  deref(obj) {
    let seen = 0;
    while (obj && typeof obj.$ref === "string") {
      if (++seen > 20) throw new Error(`ref loop at ${obj.$ref}`);
      const ptr = obj.$ref.slice(obj.$ref.indexOf("#") + 1);
      obj = ptr
        .split("/")
        .slice(1)
        .map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"))
        .reduce((o, k) => (o == null ? o : o[k]), this.doc);
    }
    return obj;
  }

  /** The operation for `method` and `path` (a template as Octokit names it, or a concrete path). */
  operation(method, template, path) {
    method = method.toLowerCase();
    let t = template && this.doc.paths[template] ? template : null;
    let pathParams = {};
    if (!t) {
      const hits = this.templates
        .map((x) => ({ x, m: x.re.exec(path) }))
        .filter(({ x, m }) => m && this.doc.paths[x.template][method])
        .sort((a, b) => b.x.literal - a.x.literal);
      if (!hits.length) return null;
      const { x, m } = hits[0];
      t = x.template;
      x.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(m[i + 1])));
    }
    const op = this.doc.paths[t][method];
    if (!op) return null;
    const params = [...(this.doc.paths[t].parameters || []), ...(op.parameters || [])].map((p) => this.deref(p));
    return { method, template: t, op, params, pathParams };
  }

  compile(key, schema, ajv = this.ajv) {
    let v = this.cache.get(key);
    if (!v) {
      v = ajv.compile(schema);
      this.cache.set(key, v);
    }
    return v;
  }

  /** Problems with a request: undeclared or ill-typed query parameters, a body its schema rejects. */
  checkRequest(o, { query, body, contentType }) {
    const out = [];
    const inQuery = o.params.filter((p) => p.in === "query");
    for (const name of Object.keys(query)) {
      if (!inQuery.some((p) => p.name === name)) out.push({ where: `query parameter ${name}`, message: "not declared by the operation" });
    }
    const schema = {
      type: "object",
      properties: Object.fromEntries(inQuery.map((p) => [p.name, p.schema || {}])),
      required: inQuery.filter((p) => p.required).map((p) => p.name),
    };
    const vq = this.compile(`${o.method} ${o.template} query`, schema, this.params);
    if (!vq({ ...query })) out.push({ where: "query", errors: vq.errors });
    const rb = this.deref(o.op.requestBody);
    if (body === undefined) {
      if (rb && rb.required) out.push({ where: "request body", message: "required by the operation, none sent" });
    } else if (!rb) {
      out.push({ where: "request body", message: "the operation takes no body" });
    } else {
      const mt = pickMediaType(rb.content, contentType);
      if (!mt) {
        out.push({ where: "request body", message: `content type ${contentType} not in ${Object.keys(rb.content)}` });
      } else if (rb.content[mt].schema) {
        const v = this.compile(`${o.method} ${o.template} request ${mt}`, rb.content[mt].schema);
        if (!v(body)) out.push({ where: `request body (${mt})`, errors: v.errors });
      }
    }
    return out;
  }

  /** Problems with a response: an undocumented status, a body its schema rejects. */
  checkResponse(o, { status, body, accept }) {
    const code = String(status);
    const key = code in o.op.responses ? code : `${code[0]}XX` in o.op.responses ? `${code[0]}XX` : "default";
    const r = this.deref(o.op.responses[key]);
    if (!r) return [{ where: `response ${status}`, message: `status ${status} is not documented (${Object.keys(o.op.responses)})` }];
    if (!r.content) {
      const empty = body === undefined || body === null || body === "";
      return empty ? [] : [{ where: `response ${status}`, message: "documented without a body, got one" }];
    }
    const mt = pickMediaType(r.content, accept);
    if (!mt) return [{ where: `response ${status}`, message: `no JSON media type in ${Object.keys(r.content)}` }];
    if (!r.content[mt].schema) return [];
    const v = this.compile(`${o.method} ${o.template} ${key} ${mt}`, r.content[mt].schema);
    return v(body) ? [] : [{ where: `response ${status} (${mt})`, errors: v.errors }];
  }
}

/** The media type of `content` for a request's Content-Type or Accept: exact, else application/json, else any JSON. */
function pickMediaType(content, want) {
  const types = Object.keys(content || {});
  const w = (want || "").split(";")[0].trim();
  if (w && types.includes(w)) return w;
  if (types.includes("application/json")) return "application/json";
  return types.find((t) => /json/.test(t)) || null;
}

/**
 * Wraps every request of `octokit` to check it and its response against each description.
 * `allow`: violations that cannot be faithful, each `{op, status?, path?, keyword?, reason}`.
 */
export class Checker {
  constructor(descriptions, allow = []) {
    this.descriptions = descriptions;
    this.allow = allow;
    this.violations = [];
    this.allowed = [];
    this.requests = 0;
    this.responses = 0;
    this.operations = new Set();
  }

  attach(octokit, who) {
    const base = new URL(octokit.request.endpoint.DEFAULTS.baseUrl);
    octokit.hook.wrap("request", async (request, options) => {
      const parsed = octokit.request.endpoint.parse(options);
      const url = new URL(parsed.url);
      const path = url.pathname.startsWith(base.pathname) ? url.pathname.slice(base.pathname.length) : url.pathname;
      const query = Object.fromEntries(url.searchParams);
      const template = typeof options.url === "string" && options.url.startsWith("/") ? options.url.split("?")[0] : null;
      const headers = Object.fromEntries(Object.entries(parsed.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const exchange = `${parsed.method} ${path}${url.search} (${who})`;
      const ops = this.descriptions.map((d) => [d, d.operation(parsed.method, template, path)]);
      this.requests++;
      for (const [d, o] of ops) {
        if (!o) {
          this.record(d, null, exchange, [{ where: "request", message: `no operation ${parsed.method} ${path} in the description` }]);
          continue;
        }
        this.operations.add(`${o.method.toUpperCase()} ${o.template}`);
        // Octokit sends an empty body with a PUT or PATCH that has no parameters left for one.
        const raw = parsed.body;
        const body = raw === undefined || raw === "" ? undefined : typeof raw === "string" ? JSON.parse(raw) : raw;
        this.record(d, o, exchange, d.checkRequest(o, { query, body, contentType: headers["content-type"] }));
      }
      let response, error;
      try {
        response = await request(options);
      } catch (e) {
        if (!e.response) throw e;
        error = e;
        response = e.response;
      }
      this.responses++;
      for (const [d, o] of ops) {
        if (!o) continue;
        const problems = d.checkResponse(o, { status: response.status, body: response.data, accept: headers.accept });
        this.record(d, o, `${exchange} -> ${response.status}`, problems, response.status);
      }
      if (error) throw error;
      return response;
    });
    return octokit;
  }

  record(d, o, exchange, problems, status) {
    const op = o ? `${o.method.toUpperCase()} ${o.template}` : null;
    for (const p of problems) {
      const errors = p.errors || [{ instancePath: "", keyword: "", message: p.message }];
      for (const e of errors) {
        const v = { description: d.name, op, exchange, where: p.where, status, path: e.instancePath, keyword: e.keyword, message: e.message, params: e.params };
        const rule = this.allow.find(
          (a) =>
            a.op === op &&
            (a.status === undefined || a.status === status) &&
            (a.where === undefined || p.where.startsWith(a.where)) &&
            (a.path === undefined || (a.path instanceof RegExp ? a.path.test(v.path) : a.path === v.path)) &&
            (a.keyword === undefined || a.keyword === v.keyword),
        );
        (rule ? this.allowed : this.violations).push(rule ? { ...v, reason: rule.reason } : v);
      }
    }
  }

  /** Every violation since `mark` (an index into `violations`), one per line. */
  report(mark = 0) {
    return this.violations
      .slice(mark)
      .map((v) => `[${v.description}] ${v.exchange}: ${v.where}${v.path ? ` at ${v.path}` : ""}: ${v.message}${v.params ? " " + JSON.stringify(v.params) : ""}`)
      .join("\n");
  }

  summary() {
    return `openapi (${this.descriptions.map((d) => `${d.name} ${d.version}`).join(", ")}): ${this.requests} requests, ${this.responses} responses checked over ${this.operations.size} operations, ${this.violations.length} violations${this.allowed.length ? ` (${this.allowed.length} allowed)` : ""}`;
  }
}
