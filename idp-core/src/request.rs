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
    /// The service name (a DNS-1123 label that also matches the org's naming rule).
    pub service: String,
    /// The owning team (`team-payments` or `group:default/team-payments`).
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
    /// Infrastructure intents (`{type, class?, id?, params}`), for `request_infra_resource`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<serde_json::Value>,
    /// A change window of idp.yaml that pre-approves changes to protected environments while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_window: Option<String>,
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

    /// Parses a request from JSON, with a typed error naming the bad field.
    pub fn from_json(value: serde_json::Value) -> Result<ServiceRequest> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            Error::invalid(format!("request: {}", e.into_inner())).with("field", path)
        })
    }
}
