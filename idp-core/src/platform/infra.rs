//! Infrastructure on the platform: the module catalog, and the impact preview — every stored
//! request re-resolved against the catalog as it is now, showing per service what would change
//! before anyone applies it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Platform;
use super::prepare::prepare;
use crate::changeset::FileChange;
use crate::error::Result;
use crate::intent::Resolution;
use crate::org::Principal;
use crate::request::{Operation, ServiceRequest};

/// A module of the catalog, as listed by `idp modules list`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModuleSummary {
    pub file: String,
    #[serde(flatten)]
    pub def: crate::intent::ModuleDef,
}

/// How one resolution would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResolutionChange {
    pub intent: String,
    pub environment: String,
    /// `module@version` now in force (`None`: new).
    pub before: Option<String>,
    /// `module@version` after the change (`None`: no longer resolved).
    pub after: Option<String>,
    /// Inputs whose value changes: `{name, before, after}`.
    pub inputs: Vec<Value>,
}

/// What a catalog change would do to one service.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceImpact {
    pub service: String,
    pub owner: String,
    pub changes: Vec<ResolutionChange>,
    /// The infra repo files that would change, with diffs.
    pub files: Vec<FileChange>,
    /// Why the service could not be re-resolved (e.g. no module matches any more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The impact preview over every service with infrastructure.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImpactReport {
    /// Services whose infrastructure would change (or could not be resolved).
    pub affected: Vec<ServiceImpact>,
    /// Services checked and unchanged.
    pub unchanged: Vec<String>,
    /// How many services with infrastructure the caller may not plan (not named: which services
    /// other teams own is not the caller's business).
    pub not_allowed: usize,
}

fn key(r: &Resolution) -> (String, String) {
    (r.intent.clone(), r.environment.clone())
}

impl Platform {
    /// Every module of the catalog.
    pub fn modules(&self) -> Vec<ModuleSummary> {
        self.def
            .catalog
            .modules
            .iter()
            .map(|m| ModuleSummary {
                file: m.file.clone(),
                def: m.def.clone(),
            })
            .collect()
    }

    /// Re-resolves every stored infrastructure request against the current catalog and shows,
    /// per service, what would change. Writes nothing.
    pub async fn infra_impact(&self, who: &Principal) -> Result<ImpactReport> {
        let mut report = ImpactReport {
            affected: Vec::new(),
            unchanged: Vec::new(),
            not_allowed: 0,
        };
        for service in self.state.infra_services().await? {
            let Some(rec) = self.state.get_service(&service).await? else {
                continue;
            };
            let Some((_, stored)) = self.state.get_infra(&service).await? else {
                continue;
            };
            // Decided before anything about the service is looked at: an outsider learns only
            // how many services it may not plan.
            let plan_allowed = self
                .authorize(&crate::policy::AuthzRequest {
                    principal: who.clone(),
                    action: "plan".into(),
                    resource: crate::policy::AuthzResource::Service {
                        name: service.clone(),
                        owner: rec.owner.clone(),
                        golden_path: rec.golden_path.clone(),
                    },
                    context: Default::default(),
                })?
                .allowed;
            if !plan_allowed {
                report.not_allowed += 1;
                continue;
            }
            let before: Vec<Resolution> = serde_json::from_value(stored).unwrap_or_default();
            let req = ServiceRequest {
                service: service.clone(),
                owner: rec.owner.clone(),
                golden_path: Some(rec.golden_path.clone()),
                version: Some(rec.version.clone()),
                ..Default::default()
            };
            let prep = match prepare(self, Operation::RequestInfraResource, &req).await {
                Ok(p) => p,
                Err(e) => {
                    report.affected.push(ServiceImpact {
                        service,
                        owner: rec.owner,
                        changes: vec![],
                        files: vec![],
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            let (cs, _, _) = super::engine::plan_infra_for_impact(self, &prep).await?;
            let mut changes = Vec::new();
            for after in &prep.resolutions {
                let old = before.iter().find(|b| key(b) == key(after));
                let inputs: Vec<Value> = after
                    .inputs
                    .iter()
                    .filter_map(|i| {
                        let was = old
                            .and_then(|o| o.inputs.iter().find(|x| x.name == i.name))
                            .map(|x| &x.value);
                        (was != Some(&i.value)).then(
                            || serde_json::json!({"name": i.name, "before": was, "after": i.value}),
                        )
                    })
                    .collect();
                let b = old.map(|o| format!("{}@{}", o.module, o.module_version));
                let a = Some(format!("{}@{}", after.module, after.module_version));
                if b != a || (old.is_some() && !inputs.is_empty()) {
                    changes.push(ResolutionChange {
                        intent: after.intent.clone(),
                        environment: after.environment.clone(),
                        before: b,
                        after: a,
                        inputs: if old.is_some() { inputs } else { vec![] },
                    });
                }
            }
            for old in &before {
                if !prep.resolutions.iter().any(|r| key(r) == key(old)) {
                    changes.push(ResolutionChange {
                        intent: old.intent.clone(),
                        environment: old.environment.clone(),
                        before: Some(format!("{}@{}", old.module, old.module_version)),
                        after: None,
                        inputs: vec![],
                    });
                }
            }
            let files: Vec<FileChange> = cs.files.into_iter().filter(|f| f.writes()).collect();
            if changes.is_empty() && files.is_empty() {
                report.unchanged.push(service);
            } else {
                report.affected.push(ServiceImpact {
                    service,
                    owner: rec.owner,
                    changes,
                    files,
                    error: None,
                });
            }
        }
        super::reads::record(
            self,
            who,
            "infra_impact",
            None,
            true,
            report.affected.len() + report.unchanged.len(),
        )
        .await?;
        Ok(report)
    }
}
