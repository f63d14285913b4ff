//! Request parameters: schema validation with defaults, secret detection, and the input hygiene
//! every value passes (size, depth, no template syntax) before anything is rendered.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::naming::shown;

/// Effective parameters: the request's values over the schema defaults.
pub type Parameters = Map<String, Value>;

/// Largest accepted request, serialized.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Longest accepted string value.
pub const MAX_STRING_CHARS: usize = 4096;
/// Deepest accepted nesting of objects and arrays.
pub const MAX_DEPTH: usize = 8;

/// Sequences that open or close a template or an expression in something idp renders (Tera,
/// Jinja, GitHub Actions `${{ }}`, shell `$(`). A value containing one is rejected rather than
/// escaped: it is never a legitimate service name, description or size.
const TEMPLATE_MARKERS: [&str; 8] = ["{{", "}}", "{%", "%}", "{#", "#}", "${", "$("];

/// Key names that are treated as secrets wherever they appear.
const SECRET_KEY_HINTS: [&str; 8] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "credential",
];

/// True when a parameter key looks like it holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_HINTS.iter().any(|h| k.contains(h))
}

/// The one redaction every output of idp goes through (audit records, stamps, state, plans,
/// receipts, the values templates see): the value of every key that looks like a secret
/// ([`is_secret_key`]) or that `extra` names is replaced by `"***"`, at any depth.
pub fn redact_secrets(value: &Value, extra: &dyn Fn(&str) -> bool) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    if is_secret_key(k) || extra(k) {
                        (k.clone(), Value::String(REDACTED.into()))
                    } else {
                        (k.clone(), redact_secrets(v, extra))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact_secrets(v, extra)).collect()),
        other => other.clone(),
    }
}

/// What a redacted secret reads as.
pub const REDACTED: &str = "***";

/// True when a secret-like key appears anywhere in `v`.
pub fn contains_secret_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| is_secret_key(k) || contains_secret_key(v)),
        Value::Array(a) => a.iter().any(contains_secret_key),
        _ => false,
    }
}

/// The keyword of a parameter's schema that gives other bounds for environments of some types:
/// `memory_limit: {type: string, ..., x-idp-environment-types: {prod: {enum: [512Mi, 1Gi]}}}`.
/// A type's keywords replace the parameter's own keywords of the same name.
pub const ENV_TYPE_KEYWORD: &str = "x-idp-environment-types";

/// The compiled parameter schema of a golden path.
pub struct ParameterSchema {
    validator: jsonschema::Validator,
    /// Per environment type: the schema with the bounds of that type (see
    /// [`ENV_TYPE_KEYWORD`]), for types some property names.
    per_env_type: std::collections::BTreeMap<String, jsonschema::Validator>,
    defaults: Map<String, Value>,
    secrets: BTreeSet<String>,
    raw: Value,
}

impl ParameterSchema {
    /// Compiles a JSON Schema for the `parameters` object.
    pub fn compile(schema: &Value) -> std::result::Result<ParameterSchema, String> {
        let validator = jsonschema::validator_for(schema).map_err(|e| e.to_string())?;
        let mut defaults = Map::new();
        let mut secrets = BTreeSet::new();
        let mut per_env_type = std::collections::BTreeMap::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let mut types = BTreeSet::new();
            for (k, p) in props {
                match p.get(ENV_TYPE_KEYWORD) {
                    None => {}
                    Some(Value::Object(by_type)) if by_type.values().all(Value::is_object) => {
                        types.extend(by_type.keys().cloned())
                    }
                    Some(_) => {
                        return Err(format!(
                            "properties.{k}.{ENV_TYPE_KEYWORD}: expected a map from environment \
                             type to schema keywords, e.g. {{prod: {{maximum: 16}}}}"
                        ));
                    }
                }
            }
            for t in types {
                let mut variant = schema.clone();
                for p in variant["properties"]
                    .as_object_mut()
                    .expect("properties is an object")
                    .values_mut()
                {
                    let extra = p.get(ENV_TYPE_KEYWORD).and_then(|e| e.get(&t)).cloned();
                    if let (Some(Value::Object(extra)), Some(p)) = (extra, p.as_object_mut()) {
                        p.extend(extra);
                    }
                }
                let v = jsonschema::validator_for(&variant)
                    .map_err(|e| format!("the bounds for {t} environments: {e}"))?;
                per_env_type.insert(t, v);
            }
            for (k, p) in props {
                if let Some(d) = p.get("default") {
                    defaults.insert(k.clone(), d.clone());
                }
                let write_only = p.get("writeOnly").and_then(Value::as_bool).unwrap_or(false);
                let password = p.get("format").and_then(Value::as_str) == Some("password");
                if write_only || password || is_secret_key(k) {
                    secrets.insert(k.clone());
                }
            }
        }
        Ok(ParameterSchema {
            validator,
            per_env_type,
            defaults,
            secrets,
            raw: schema.clone(),
        })
    }

    /// The defaults of the top-level properties.
    pub fn defaults(&self) -> &Parameters {
        &self.defaults
    }

    /// The schema as written in `path.yaml`.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Names of parameters that hold secrets (`writeOnly`, `format: password`, or a secret-like
    /// name). Their values never reach receipts, stamps, state or audit.
    pub fn secret_names(&self) -> &BTreeSet<String> {
        &self.secrets
    }

    /// True when `key` names a secret parameter.
    pub fn is_secret(&self, key: &str) -> bool {
        self.secrets.contains(key) || is_secret_key(key)
    }

    /// Applies defaults under `given`, then validates. Every violation is listed in the error.
    pub fn resolve(&self, given: &Parameters) -> Result<Parameters> {
        self.check(&self.validator, given, "parameters", "")
    }

    /// True when the schema gives environments of `env_type` bounds of their own.
    pub fn has_bounds_for(&self, env_type: &str) -> bool {
        self.per_env_type.contains_key(env_type)
    }

    /// [`resolve`](Self::resolve) for the files of one environment of type `env_type`: the
    /// bounds are that type's where the schema gives some (`x-idp-environment-types`); errors
    /// name `environments.<env>.parameters.<key>`.
    pub fn resolve_for_environment(
        &self,
        env: &str,
        env_type: &str,
        given: &Parameters,
    ) -> Result<Parameters> {
        let validator = self.per_env_type.get(env_type).unwrap_or(&self.validator);
        self.check(
            validator,
            given,
            &format!("environments.{env}.parameters"),
            &format!(" (environment {env}, type {env_type})"),
        )
    }

    fn check(
        &self,
        validator: &jsonschema::Validator,
        given: &Parameters,
        root: &str,
        which: &str,
    ) -> Result<Parameters> {
        let mut eff = self.defaults.clone();
        for (k, v) in given {
            eff.insert(k.clone(), v.clone());
        }
        let instance = Value::Object(eff);
        let mut problems = Vec::new();
        for e in validator.iter_errors(&instance) {
            let path = e.instance_path().to_string();
            let key = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("")
                .to_string();
            let msg = if self.is_secret(&key) {
                e.masked().to_string()
            } else {
                e.to_string()
            };
            let msg: String = msg.chars().take(300).collect();
            let field = if key.is_empty() {
                root.to_string()
            } else {
                format!("{root}.{key}")
            };
            problems.push((field, msg));
        }
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            let details: Vec<Value> = problems
                .iter()
                .map(|(f, m)| serde_json::json!({"field": f, "message": m}))
                .collect();
            return Err(Error::invalid(format!(
                "{root} do not match the golden path's schema{which}: {}",
                list.join("; ")
            ))
            .with("field", problems[0].0.clone())
            .with_details(Value::Array(details)));
        }
        let Value::Object(eff) = instance else {
            unreachable!()
        };
        Ok(eff)
    }

    /// A copy of `params` with secret values replaced by `"***"`: the schema's secret parameters,
    /// and secret-like keys at any depth (a `password` inside an object parameter).
    pub fn redact(&self, params: &Parameters) -> Parameters {
        params
            .iter()
            .map(|(k, v)| {
                if self.is_secret(k) {
                    (k.clone(), Value::String(REDACTED.into()))
                } else {
                    (k.clone(), redact_secrets(v, &|_| false))
                }
            })
            .collect()
    }

    /// What templates (and labels) may see of `params`: secret parameters left out, secret-like
    /// keys inside the others redacted.
    pub fn visible(&self, params: &Parameters) -> Parameters {
        self.redact(params)
            .into_iter()
            .filter(|(k, _)| !self.is_secret(k))
            .collect()
    }

    /// True when `params` hold a secret: a secret parameter, or a secret-like key inside one.
    pub fn has_secrets(&self, params: &Parameters) -> bool {
        params
            .iter()
            .any(|(k, v)| self.is_secret(k) || contains_secret_key(v))
    }
}

/// Checks a request value tree: total size, depth, string length, and no template syntax.
/// `field` names the root (e.g. `parameters`) in errors.
pub fn check_value(field: &str, value: &Value, secret: &dyn Fn(&str) -> bool) -> Result<()> {
    let size = serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_REQUEST_BYTES {
        return Err(Error::invalid(format!(
            "{field} is {size} bytes; the limit is {MAX_REQUEST_BYTES} bytes"
        ))
        .with("field", field));
    }
    walk(field, value, 0, false, secret)
}

fn walk(
    path: &str,
    v: &Value,
    depth: usize,
    hidden: bool,
    secret: &dyn Fn(&str) -> bool,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(
            Error::invalid(format!("{path} nests deeper than {MAX_DEPTH} levels"))
                .with("field", path),
        );
    }
    match v {
        Value::String(s) => check_string(path, s, hidden),
        Value::Array(items) => {
            for (i, it) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), it, depth + 1, hidden, secret)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, it) in map {
                check_string(&format!("{path} key"), k, false)?;
                walk(
                    &format!("{path}.{k}"),
                    it,
                    depth + 1,
                    hidden || secret(k),
                    secret,
                )?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks one string: length, control characters, template markers. Secret values are never
/// echoed.
pub fn check_string(path: &str, s: &str, hidden: bool) -> Result<()> {
    let show = |s: &str| {
        if hidden {
            "(write-only value hidden)".to_string()
        } else {
            shown(s)
        }
    };
    let n = s.chars().count();
    if n > MAX_STRING_CHARS {
        return Err(Error::invalid(format!(
            "{path} is {n} characters long; the limit is {MAX_STRING_CHARS}"
        ))
        .with("field", path));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(
            Error::invalid(format!("{path} {} contains control characters", show(s)))
                .with("field", path),
        );
    }
    // Bidirectional controls make text read differently from what it is (a "Trojan Source"
    // description or name in a README, a commit or a manifest).
    if s.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(Error::invalid(format!(
            "{path} {} contains bidirectional control characters (U+202A-U+202E, U+2066-U+2069)",
            show(s)
        ))
        .with("field", path));
    }
    if let Some(m) = TEMPLATE_MARKERS.iter().find(|m| s.contains(*m)) {
        return Err(Error::invalid(format!(
            "{path} {} contains template syntax `{m}`; values are data and may not contain \
             template or expression markers",
            show(s)
        ))
        .with("field", path));
    }
    Ok(())
}

impl ParameterSchema {
    /// Turns a `key=value` string from a command line into the JSON type the schema declares for
    /// `key` (integer, number, boolean, array/object as JSON; everything else stays a string).
    /// A value that does not parse is kept as a string, so schema validation reports it.
    pub fn coerce(&self, key: &str, raw: &str) -> Value {
        let ty = self
            .raw
            .get("properties")
            .and_then(|p| p.get(key))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string");
        let parsed = match ty {
            "integer" => raw.trim().parse::<i64>().ok().map(Value::from),
            "number" => raw
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
            "boolean" => match raw.trim() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            "array" | "object" => serde_json::from_str(raw).ok(),
            _ => None,
        };
        parsed.unwrap_or_else(|| Value::String(raw.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> ParameterSchema {
        ParameterSchema::compile(&json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "port": {"type": "integer", "minimum": 1024, "maximum": 65535, "default": 8080},
                "api_token": {"type": "string", "writeOnly": true, "minLength": 10},
                "db_pass": {"type": "string", "format": "password"}
            }
        }))
        .unwrap()
    }

    #[test]
    fn defaults_fill_what_the_request_leaves_out() {
        let p = schema().resolve(&Map::new()).unwrap();
        assert_eq!(p["port"], 8080);
    }

    #[test]
    fn out_of_range_and_unknown_parameters_are_listed() {
        let given = json!({"port": 70000, "colour": "red"});
        let e = schema().resolve(given.as_object().unwrap()).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("70000"), "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn secret_values_are_not_echoed_in_schema_errors() {
        let given = json!({"api_token": "hunter2"});
        let e = schema().resolve(given.as_object().unwrap()).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(!format!("{:?}", e.details()).contains("hunter2"));
    }

    #[test]
    fn secrets_are_detected_by_schema_and_by_name() {
        let s = schema();
        assert!(s.is_secret("api_token") && s.is_secret("db_pass") && s.is_secret("GITHUB_TOKEN"));
        assert!(!s.is_secret("port"));
        let r = s.redact(json!({"db_pass": "x", "port": 1}).as_object().unwrap());
        assert_eq!(r["db_pass"], "***");
    }

    #[test]
    fn template_syntax_huge_and_deep_values_are_rejected() {
        let no = |_: &str| false;
        for bad in [
            json!({"d": "{{ 7*7 }}"}),
            json!({"d": "x ${{ github.token }}"}),
            json!({"d": "{% include '/etc/passwd' %}"}),
            json!({"d": "a".repeat(5000)}),
            json!({"d": "bell\u{7}"}),
            json!({"{{k}}": 1}),
            json!({"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":1}}}}}}}}}}),
        ] {
            assert!(check_value("parameters", &bad, &no).is_err(), "{bad}");
        }
        assert!(check_value("parameters", &json!({"d": "A normal description: ok"}), &no).is_ok());
    }

    #[test]
    fn rejected_secret_values_are_not_echoed() {
        let e = check_value(
            "parameters",
            &json!({"api_token": "{{ leak-me }}"}),
            &is_secret_key,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("leak-me"), "{e}");
    }
}
