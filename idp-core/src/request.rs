//! What a face asks for: an [`Operation`] on a [`ServiceRequest`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::golden_path::{Parameters, StepId};

/// An operation of the platform. Every face exposes the same set under the same names
/// (snake_case in Rust and Python, camelCase in Node, kebab-case in the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    BootstrapService,
    WireCi,
    ProvisionGitops,
    AttachObservability,
    RequestInfraResource,
    RunGoldenPath,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 6] = [
        Operation::BootstrapService,
        Operation::WireCi,
        Operation::ProvisionGitops,
        Operation::AttachObservability,
        Operation::RequestInfraResource,
        Operation::RunGoldenPath,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::RunGoldenPath => "run_golden_path",
            other => other.single_step().expect("single step").as_str(),
        }
    }

    /// Parses `run_golden_path`, `run-golden-path`, `golden-path`, `wire-ci`, ...
    pub fn parse(s: &str) -> Result<Operation> {
        let norm = s.replace('-', "_");
        if norm == "run_golden_path" || norm == "golden_path" {
            return Ok(Operation::RunGoldenPath);
        }
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == norm)
            .ok_or_else(|| {
                let known: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
                Error::invalid(format!(
                    "unknown operation {}; known: {}",
                    crate::naming::shown(s),
                    known.join(", ")
                ))
            })
    }

    /// The step this operation runs alone, or `None` for `run_golden_path`.
    pub fn single_step(self) -> Option<StepId> {
        match self {
            Operation::BootstrapService => Some(StepId::BootstrapService),
            Operation::WireCi => Some(StepId::WireCi),
            Operation::ProvisionGitops => Some(StepId::ProvisionGitops),
            Operation::AttachObservability => Some(StepId::AttachObservability),
            Operation::RequestInfraResource => Some(StepId::RequestInfraResource),
            Operation::RunGoldenPath => None,
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request about one service: which service, which team owns it, which golden path, and the
/// parameters. The same shape from every face (a JSON object with these keys).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    /// The service name (a DNS-1123 label that also matches the org's naming rule). Required by
    /// every operation; a request file may leave it to a flag (`--service`).
    #[serde(default)]
    pub service: String,
    /// The owning team (`team-payments` or `group:default/team-payments`).
    #[serde(default)]
    pub owner: String,
    /// The golden path id; default: `defaults.golden_path` of idp.yaml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden_path: Option<String>,
    /// The golden path version; default: the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Parameters, checked against the golden path's JSON Schema.
    #[serde(default)]
    pub parameters: Parameters,
    /// Values for single environments (names from idp.yaml), over `parameters` in that
    /// environment's files: `{"prod": {"parameters": {"memory_limit": "1Gi"}}}`. Kept for later
    /// requests like parameters are; `null` removes a kept value.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub environments: std::collections::BTreeMap<String, EnvironmentValues>,
    /// Infrastructure intents (`{type, class?, id?, params}`), for `request_infra_resource`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<serde_json::Value>,
    /// A change window of idp.yaml that pre-approves changes to protected environments while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_window: Option<String>,
}

/// What a request sets for one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentValues {
    /// Golden-path parameters for this environment (non-secret ones), checked against the
    /// schema with the bounds of the environment's type.
    #[serde(default)]
    pub parameters: Parameters,
}

impl ServiceRequest {
    /// A request for `service` owned by `owner` with no parameters.
    pub fn new(service: impl Into<String>, owner: impl Into<String>) -> Self {
        ServiceRequest {
            service: service.into(),
            owner: owner.into(),
            ..Default::default()
        }
    }

    /// Adds a parameter.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// Sets a parameter for one environment.
    pub fn env_param(
        mut self,
        env: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.environments
            .entry(env.into())
            .or_default()
            .parameters
            .insert(key.into(), value.into());
        self
    }

    /// Parses a request from JSON, with a typed error naming the bad field.
    ///
    /// The error never repeats a value from the request (a wrong-typed password would otherwise
    /// be echoed): it names the field and the expected type.
    pub fn from_json(value: serde_json::Value) -> Result<ServiceRequest> {
        if !value.is_object() {
            return Err(Error::invalid(format!(
                "request: expected a mapping of fields (service, owner, parameters, ...), found {}",
                json_kind(&value)
            )));
        }
        let is_name = |k: &str| {
            !k.is_empty()
                && k.len() <= 64
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if let Some(obj) = value.as_object()
            && obj.keys().any(|k| !is_name(k))
        {
            // Not a field name a person wrote: the input is some other file, whose text must
            // not be echoed.
            return Err(Error::invalid(
                "request: a top-level key is not a field name; expected service, owner, \
                 golden_path, version, parameters, intents, change_window",
            ));
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let msg = without_values(&e.into_inner().to_string());
            Error::invalid(format!("request: {msg}")).with("field", path)
        })
    }

    /// Reads a request written as JSON or YAML (JSON is YAML, so one parser reads both) from a
    /// file or stdin, at most [`MAX_REQUEST_BYTES`]. `name` is what errors call it. Errors give a
    /// position, never the text: `--request /etc/shadow` must not print the file.
    pub fn read(name: &str, reader: impl std::io::Read) -> Result<ServiceRequest> {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        reader
            .take(MAX_REQUEST_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::invalid(format!("cannot read request {name}: {e}")))?;
        if bytes.len() as u64 > MAX_REQUEST_BYTES {
            return Err(Error::invalid(format!(
                "request {name} is larger than {MAX_REQUEST_BYTES} bytes"
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("request {name} is not UTF-8 text")))?;
        let value: serde_json::Value = serde_norway::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            Error::invalid(format!("request {name} is not JSON or YAML{at}"))
        })?;
        ServiceRequest::from_json(value)
    }
}

/// The largest request file idp reads (1 MiB): far above any real request.
pub const MAX_REQUEST_BYTES: u64 = 1 << 20;

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "nothing",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// A serde message with the quoted values taken out (`invalid type: string "hunter2", expected
/// u32` -> `invalid type: string, expected u32`), cut to 200 characters.
fn without_values(msg: &str) -> String {
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(string|char|bytes) "(?:[^"\\]|\\.)*"|(integer|floating point) `[^`]*`"#,
        )
        .expect("valid regex")
    });
    let out = QUOTED.replace_all(msg, "$1$2");
    let out: String = out.chars().take(200).collect();
    out
}
