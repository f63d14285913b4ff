//! The call surface as data: a JSON Schema document of every call's arguments and result,
//! derived from the Rust types, and the TypeScript and Python declarations generated from it.
//! The generated files are committed (`idp-node/api.d.ts`, `idp-python/python/idp/_api.py`);
//! a test regenerates them and fails when they drift (`IDP_BLESS=1` rewrites them).
//!
//! Arguments use the deserialization contract (a field with a default may be left out) and
//! results the serialization contract (what is always written is required).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

/// One call: method, doc, and the schemas of its arguments and result.
#[derive(Debug, Clone)]
pub struct Signature {
    pub method: &'static str,
    pub doc: String,
    pub args: Value,
    pub result: Value,
}

/// Every call's signature and the named types they use: `(signatures, arg types, result types)`.
pub fn signatures() -> (Vec<Signature>, Map<String, Value>, Map<String, Value>) {
    let settings = schemars::generate::SchemaSettings::draft2020_12();
    let mut args = settings.clone().for_deserialize().into_generator();
    let mut results = settings.for_serialize().into_generator();
    // Types the faces use beside the calls: progress events (callbacks get them).
    results.subschema_for::<crate::platform::Progress>();
    let sigs = super::signatures(&mut args, &mut results)
        .into_iter()
        .map(|(method, doc, a, r)| Signature {
            method,
            doc,
            args: a.to_value(),
            result: r.to_value(),
        })
        .collect();
    (
        sigs,
        args.take_definitions(true),
        results.take_definitions(true),
    )
}

/// The whole surface as one JSON document (what `/openapi.json`-like tooling or another face's
/// generator reads).
pub fn document() -> Value {
    let (sigs, args, results) = signatures();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "idp call surface",
        "calls": sigs.iter().map(|s| json!({
            "method": s.method, "doc": s.doc, "args": s.args, "result": s.result,
        })).collect::<Vec<_>>(),
        "argTypes": args,
        "resultTypes": results,
    })
}

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")?.as_str()?.rsplit('/').next()
}

fn types_of(v: &Value) -> Vec<&str> {
    match v.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn camel(method: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in method.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn doc_lines(v: &Value) -> Option<String> {
    v.get("description")
        .and_then(Value::as_str)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty())
}

// ---------------------------------------------------------------------------------------------
// TypeScript

fn ts_type(v: &Value) -> String {
    if v == &Value::Bool(true)
        || v.as_object().is_some_and(|o| {
            o.keys()
                .all(|k| k == "description" || k == "default" || k == "title")
        })
    {
        return "unknown".into();
    }
    if let Some(n) = ref_name(v) {
        return n.to_string();
    }
    if let Some(c) = v.get("const") {
        return c.to_string();
    }
    if let Some(Value::Array(e)) = v.get("enum") {
        return e
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alts)) = v.get(key) {
            let mut parts: Vec<String> = alts.iter().map(ts_type).collect();
            parts.dedup();
            return parts.join(" | ");
        }
    }
    if let Some(Value::Array(all)) = v.get("allOf") {
        return all.iter().map(ts_type).collect::<Vec<_>>().join(" & ");
    }
    let types = types_of(v);
    if types.len() > 1 {
        return types
            .iter()
            .map(|t| {
                let mut one = v.clone();
                one["type"] = Value::String((*t).into());
                ts_type(&one)
            })
            .collect::<Vec<_>>()
            .join(" | ");
    }
    match types.first().copied() {
        Some("string") => "string".into(),
        Some("integer" | "number") => "number".into(),
        Some("boolean") => "boolean".into(),
        Some("null") => "null".into(),
        Some("array") => match v.get("items") {
            Some(items) => {
                let t = ts_type(items);
                if t.contains(' ') {
                    format!("Array<{t}>")
                } else {
                    format!("{t}[]")
                }
            }
            None => "unknown[]".into(),
        },
        Some("object") | None => ts_object(v, ""),
        Some(other) => panic!("unexpected JSON Schema type {other}"),
    }
}

fn ts_object(v: &Value, indent: &str) -> String {
    let props = v.get("properties").and_then(Value::as_object);
    let extra = match v.get("additionalProperties") {
        None | Some(Value::Bool(true)) => props.is_none().then(|| "unknown".to_string()),
        Some(Value::Bool(false)) => None,
        Some(s) => Some(ts_type(s)),
    };
    let Some(props) = props.filter(|p| !p.is_empty()) else {
        return format!(
            "Record<string, {}>",
            extra.unwrap_or_else(|| "never".into())
        );
    };
    let required: BTreeSet<&str> = v
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = String::from("{\n");
    for (name, s) in props {
        if let Some(d) = doc_lines(s) {
            let _ = writeln!(out, "{indent}  /** {d} */");
        }
        let opt = if required.contains(name.as_str()) {
            ""
        } else {
            "?"
        };
        let _ = writeln!(out, "{indent}  {name}{opt}: {}", ts_type(s));
    }
    out.push_str(indent);
    out.push('}');
    match extra {
        Some(e) => format!("{out} & Record<string, {e}>"),
        None => out,
    }
}

fn ts_defs(out: &mut String, defs: &Map<String, Value>, skip: &BTreeSet<String>) {
    for (name, v) in defs {
        if skip.contains(name) {
            continue;
        }
        if let Some(d) = doc_lines(v) {
            let _ = writeln!(out, "/** {d} */");
        }
        let is_object = types_of(v) == ["object"] && v.get("properties").is_some();
        if is_object
            && v.get("additionalProperties")
                .is_none_or(|a| a == &Value::Bool(false))
        {
            let _ = writeln!(out, "export interface {name} {}\n", ts_object(v, ""));
        } else {
            let _ = writeln!(out, "export type {name} = {}\n", ts_type(v));
        }
    }
}

/// `idp-node/api.d.ts`: every argument and result type, and `IdpMethods`, each method's
/// argument and result.
pub fn typescript() -> String {
    let (sigs, args, results) = signatures();
    let mut out = String::from(
        "// Generated from idp-core's Rust types by `idp_core::api::schema::typescript`; do not edit.\n\
         // A test in idp-core regenerates it and fails when it drifts (IDP_BLESS=1 rewrites it).\n\n",
    );
    let same: BTreeSet<String> = args
        .iter()
        .filter(|(k, v)| results.get(*k) == Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    let clash: Vec<&String> = args
        .keys()
        .filter(|k| results.contains_key(*k) && !same.contains(*k))
        .collect();
    assert!(
        clash.is_empty(),
        "types whose argument and result schemas differ (rename one side): {clash:?}"
    );
    ts_defs(&mut out, &args, &BTreeSet::new());
    ts_defs(&mut out, &results, &same);
    out.push_str("/** Every method of the call surface: its arguments and result. */\n");
    out.push_str("export interface IdpMethods {\n");
    for s in &sigs {
        let _ = writeln!(out, "  /** {} */", s.doc);
        let _ = writeln!(
            out,
            "  {}: {{ args: {}; result: {} }}",
            s.method,
            ts_type(&s.args),
            ts_type(&s.result)
        );
    }
    out.push_str("}\n\n/** Method names (snake_case), in the core's order. */\nexport type IdpMethod = keyof IdpMethods\n\n");
    out.push_str("/** The camelCase name each method has on `Platform`. */\nexport interface IdpMethodNames {\n");
    for s in &sigs {
        let _ = writeln!(out, "  {}: '{}'", s.method, camel(s.method));
    }
    out.push_str("}\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Python

const PY_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn py_ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if PY_KEYWORDS.contains(&s.as_str()) || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.push('_');
    }
    s
}

/// The string literals a schema allows, when it allows nothing else (`enum`, `const`, or a
/// `oneOf` of those).
fn literals(v: &Value) -> Option<Vec<String>> {
    if let Some(c) = v.get("const") {
        return c.is_string().then(|| vec![c.to_string()]);
    }
    if let Some(Value::Array(e)) = v.get("enum") {
        return e
            .iter()
            .map(|x| x.is_string().then(|| x.to_string()))
            .collect();
    }
    let alts = v.get("oneOf").or_else(|| v.get("anyOf"))?.as_array()?;
    let mut out = Vec::new();
    for a in alts {
        out.extend(literals(a)?);
    }
    Some(out)
}

/// Python annotations and converters for one side (results or arguments) of the surface.
struct Py<'a> {
    /// Schema name -> Python name, for every named type of this side.
    names: &'a BTreeMap<String, String>,
    /// Named types that are `Record` classes (results only): values are wrapped in them.
    classes: &'a BTreeSet<String>,
    /// Arguments: an object without a name is a plain dict.
    input: bool,
}

impl Py<'_> {
    fn name(&self, n: &str) -> String {
        self.names.get(n).cloned().unwrap_or_else(|| n.to_string())
    }

    /// The annotation of a value of schema `v` (the module uses postponed annotations).
    fn ann(&self, v: &Value) -> String {
        if v == &Value::Bool(true)
            || v.as_object()
                .is_some_and(|o| o.keys().all(|k| k == "description"))
        {
            return "Any".into();
        }
        if let Some(n) = ref_name(v) {
            return self.name(n);
        }
        if let Some(l) = literals(v) {
            return format!("Literal[{}]", l.join(", "));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(alts)) = v.get(key) {
                let mut parts: Vec<String> = Vec::new();
                for a in alts {
                    let t = self.ann(a);
                    if !parts.contains(&t) {
                        parts.push(t);
                    }
                }
                return union(parts);
            }
        }
        if v.get("allOf").is_some() {
            return if self.input {
                "Dict[str, Any]"
            } else {
                "Record"
            }
            .into();
        }
        let types = types_of(v);
        if types.len() > 1 {
            let parts = types
                .iter()
                .map(|t| {
                    let mut one = v.clone();
                    one["type"] = Value::String((*t).into());
                    self.ann(&one)
                })
                .collect();
            return union(parts);
        }
        match types.first().copied() {
            Some("string") => "str".into(),
            Some("integer") => "int".into(),
            Some("number") => "float".into(),
            Some("boolean") => "bool".into(),
            Some("null") => "None".into(),
            Some("array") => format!(
                "List[{}]",
                v.get("items")
                    .map(|i| self.ann(i))
                    .unwrap_or_else(|| "Any".into())
            ),
            _ => match v.get("additionalProperties") {
                Some(a) if a.is_object() => format!("Dict[str, {}]", self.ann(a)),
                _ if v.get("properties").is_some() && !self.input => "Record".into(),
                _ => "Dict[str, Any]".into(),
            },
        }
    }

    /// An expression that turns the raw JSON value `x` of schema `v` into its typed form, or
    /// `None` when it stays as it is.
    fn conv(&self, v: &Value, x: &str, depth: usize) -> Option<String> {
        if let Some(n) = ref_name(v) {
            return self
                .classes
                .contains(n)
                .then(|| format!("{}({x})", self.name(n)));
        }
        let nullable_of = |inner: &Value| {
            self.conv(inner, x, depth)
                .map(|c| format!("(None if {x} is None else {c})"))
        };
        let types = types_of(v);
        if types.contains(&"null") && types.len() == 2 {
            let mut one = v.clone();
            one["type"] = Value::String(
                types
                    .iter()
                    .find(|t| **t != "null")
                    .expect("two types")
                    .to_string(),
            );
            return nullable_of(&one);
        }
        if let Some(Value::Array(alts)) = v.get("oneOf").or_else(|| v.get("anyOf")) {
            let non_null: Vec<&Value> = alts.iter().filter(|a| types_of(a) != ["null"]).collect();
            return match non_null.as_slice() {
                [one] if alts.len() == 2 => nullable_of(one),
                _ => None,
            };
        }
        let y = format!("x{depth}");
        match types.first().copied() {
            Some("array") => {
                let inner = self.conv(v.get("items")?, &y, depth + 1)?;
                Some(format!("[{inner} for {y} in {x}]"))
            }
            Some("object") => {
                let a = v.get("additionalProperties").filter(|a| a.is_object())?;
                let inner = self.conv(a, &y, depth + 1)?;
                Some(format!(
                    "{{k{depth}: {inner} for k{depth}, {y} in {x}.items()}}"
                ))
            }
            _ => None,
        }
    }

    fn required(v: &Value) -> BTreeSet<&str> {
        v.get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// A result type as a `Record` class with one typed property per field.
    fn class(&self, out: &mut String, name: &str, v: &Value) {
        let _ = writeln!(out, "class {}(Record):", self.name(name));
        let doc = doc_lines(v).unwrap_or_else(|| name.to_string());
        let _ = writeln!(out, "    \"\"\"{}\"\"\"\n", doc.replace('\\', "\\\\"));
        let _ = writeln!(out, "    __slots__ = ()\n");
        let required = Self::required(v);
        for (field, s) in v
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let is_required = required.contains(field.as_str());
            let mut ann = self.ann(s);
            let get = if is_required {
                format!("self._data[{field:?}]")
            } else {
                if !ann.starts_with("Optional[") && ann != "Any" {
                    ann = format!("Optional[{ann}]");
                }
                format!("self._data.get({field:?})")
            };
            let body = match self.conv(s, "v", 0) {
                Some(c) if is_required => format!("v = {get}\n        return {c}"),
                Some(c) => format!("v = {get}\n        return None if v is None else {c}"),
                None => format!("return {get}  # type: ignore[no-any-return]"),
            };
            let _ = writeln!(out, "    @property");
            let _ = writeln!(out, "    def {}(self) -> {ann}:", py_ident(field));
            if let Some(d) = doc_lines(s) {
                let _ = writeln!(out, "        \"\"\"{}\"\"\"", d.replace('\\', "\\\\"));
            }
            let _ = writeln!(out, "        {body}\n");
        }
        out.push('\n');
    }

    /// An argument type as a dataclass (required fields first, optional ones default to `None`,
    /// which `to_dict` leaves out so the core applies its default).
    fn dataclass(&self, out: &mut String, name: &str, v: &Value) {
        let required = Self::required(v);
        let props = v.get("properties").and_then(Value::as_object);
        let (req, opt): (Vec<_>, Vec<_>) = props
            .into_iter()
            .flatten()
            .partition(|(k, _)| required.contains(k.as_str()));
        let _ = writeln!(
            out,
            "@dataclasses.dataclass
class {}(Args):",
            self.name(name)
        );
        let doc = doc_lines(v).unwrap_or_else(|| format!("Arguments: {name}."));
        let _ = writeln!(out, "    \"\"\"{}\"\"\"\n", doc.replace('\\', "\\\\"));
        for (k, s) in &req {
            let _ = writeln!(out, "    {}: {}", py_ident(k), self.ann(s));
        }
        for (k, s) in &opt {
            let ann = self.ann(s);
            let ann = if ann.starts_with("Optional[") || ann == "Any" {
                ann
            } else {
                format!("Optional[{ann}]")
            };
            let _ = writeln!(out, "    {}: {ann} = None", py_ident(k));
        }
        out.push_str("\n\n");
    }
}

fn union(mut parts: Vec<String>) -> String {
    let none = parts.iter().position(|p| p == "None");
    match (parts.len(), none) {
        (1, _) => parts.remove(0),
        (2, Some(i)) => format!("Optional[{}]", parts.remove(1 - i)),
        _ => format!("Union[{}]", parts.join(", ")),
    }
}

/// Module-level aliases (`X = Literal[...]`) are evaluated at import: define each after the
/// aliases it names.
fn alias_order(aliases: &[(String, String)]) -> Vec<(String, String)> {
    let mut left: Vec<(String, String)> = aliases.to_vec();
    let mut out: Vec<(String, String)> = Vec::new();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|(name, text)| {
            let waits = aliases.iter().any(|(other, _)| {
                other != name
                    && !out.iter().any(|(d, _)| d == other)
                    && regex::Regex::new(&format!(r"\b{other}\b"))
                        .expect("a name is a regex")
                        .is_match(text)
            });
            if !waits {
                out.push((name.clone(), text.clone()));
            }
            waits
        });
        assert!(
            left.len() < before,
            "aliases refer to each other in a cycle: {left:?}"
        );
    }
    out
}

/// `idp-python/python/idp/_api.py`: a `Record` class with typed properties per result type,
/// a dataclass per argument type, and the typed methods of `Platform` and `aio.Platform`.
pub fn python() -> String {
    let (sigs, args, results) = signatures();
    let classes: BTreeSet<String> = results
        .iter()
        .filter(|(_, v)| types_of(v) == ["object"] && v.get("properties").is_some())
        .map(|(k, _)| k.clone())
        .collect();
    let result_names: BTreeMap<String, String> =
        results.keys().map(|k| (k.clone(), k.clone())).collect();
    // An argument type takes its Rust name unless a result type has it (then `...Args`).
    let arg_names: BTreeMap<String, String> = args
        .keys()
        .map(|k| {
            let py = if results.contains_key(k) {
                format!("{k}Args")
            } else {
                k.clone()
            };
            (k.clone(), py)
        })
        .collect();
    let res = Py {
        names: &result_names,
        classes: &classes,
        input: false,
    };
    let arg = Py {
        names: &arg_names,
        classes: &BTreeSet::new(),
        input: true,
    };
    let mut out = String::from(
        "# Generated from idp-core's Rust types by `idp_core::api::schema::python`; do not edit.\n\
         # A test in idp-core regenerates it and fails when it drifts (IDP_BLESS=1 rewrites it).\n\
         \"\"\"Typed results and arguments of the call surface, and the typed methods of\n\
         `idp.Platform` and `idp.aio.Platform`.\"\"\"\n\n\
         from __future__ import annotations\n\n\
         import dataclasses\n\
         from typing import Any, Callable, Dict, List, Literal, Optional, Union\n\n\
         from ._record import Args, Record\n\n\n",
    );
    let mut aliases = Vec::new();
    for (name, v) in &results {
        if classes.contains(name) {
            res.class(&mut out, name, v);
        } else {
            aliases.push((name.clone(), res.ann(v)));
        }
    }
    for (name, v) in &args {
        if types_of(v) == ["object"] && v.get("properties").is_some() {
            arg.dataclass(&mut out, name, v);
        } else {
            aliases.push((arg.name(name), arg.ann(v)));
        }
    }
    for (name, text) in alias_order(&aliases) {
        let _ = writeln!(out, "{name} = {text}\n");
    }
    out.push_str("\n#: Every method, in the core's order.\nMETHODS = (\n");
    for s in &sigs {
        let _ = writeln!(out, "    {:?},", s.method);
    }
    out.push_str(")\n\n#: Who is acting: a user ref (`user:default/alice`) or `{\"user\": ..., \"groups\": [...]}`.\nPrincipal = Union[str, Dict[str, Any]]\n\n\n");
    for (class, asyncness, await_, of) in [
        ("Methods", "", "", "Platform"),
        ("AsyncMethods", "async ", "await ", "aio.Platform"),
    ] {
        let _ = writeln!(
            out,
            "class {class}:\n    \"\"\"The typed methods of `{of}`, generated from the core's call surface.\n\n    Each takes its arguments as a dict (or a request dataclass) and/or keyword arguments,\n    `as_=` the principal, `progress=` a callable that receives each progress event as it\n    happens, and `cancel=` an `idp.CancelToken`.\n    \"\"\"\n\n    __slots__ = ()\n"
        );
        for s in &sigs {
            let wrap = match res.conv(&s.result, "v", 0) {
                Some(c) => format!("lambda v: {c}"),
                None => "None".into(),
            };
            let arg_t = ref_name(&s.args)
                .map(|n| arg.name(n))
                .unwrap_or_else(|| "Dict[str, Any]".into());
            let _ = writeln!(
                out,
                "    {asyncness}def {m}(\n        self,\n        request: Optional[Union[{arg_t}, Any]] = None,\n        /,\n        *,\n        as_: Optional[Principal] = None,\n        progress: Optional[Callable[[Dict[str, Any]], None]] = None,\n        cancel: Any = None,\n        **kwargs: Any,\n    ) -> {res_t}:\n        \"\"\"{doc}\"\"\"\n        return {await_}self._invoke({m:?}, request, as_, progress, cancel, kwargs, {wrap})  # type: ignore[attr-defined, no-any-return]\n",
                m = s.method,
                res_t = res.ann(&s.result),
                doc = s.doc,
            );
        }
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated files and where they live, relative to the workspace root.
    fn generated() -> Vec<(&'static str, String)> {
        vec![
            ("idp-node/api.d.ts", typescript()),
            ("idp-python/python/idp/_api.py", python()),
        ]
    }

    #[test]
    fn generated_declarations_match_the_rust_types() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let bless = std::env::var_os("IDP_BLESS").is_some();
        for (file, text) in generated() {
            let path = root.join(file);
            if bless {
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == text,
                "{file} is out of date with the Rust types: run `IDP_BLESS=1 cargo test -p idp-core --lib api::schema` and commit it"
            );
        }
    }

    #[test]
    fn no_any_in_the_typescript_surface() {
        let ts = typescript();
        assert!(
            !ts.contains(": any") && !ts.contains("<any>") && !ts.contains("Record<string, any>")
        );
        assert!(
            ts.contains("run_golden_path: { args: ServiceRequest; result: Receipt }"),
            "{ts}"
        );
    }
}
