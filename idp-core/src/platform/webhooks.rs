//! Forge webhooks: a pull request merged or closed resumes the runs that wait on it, so a host
//! (a Backstage backend, `idp serve`) does not need anyone to run `idp resume`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Platform;
use super::policy_point;
use crate::audit::AuditEvent;
use crate::error::Result;
use crate::org::Principal;
use crate::providers::ForgeEvent;
use crate::receipt::{Receipt, RunStatus};

/// One webhook delivery as the forge sent it: its HTTP headers and its body, unparsed (the
/// signature covers the exact bytes).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookDelivery {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// What a delivery did.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WebhookReport {
    /// What the forge said; `null` for events about no change request (ping, push).
    pub event: Option<ForgeEvent>,
    /// The waiting runs the event resumed.
    pub runs: Vec<ResumedRun>,
}

/// A run a webhook resumed, and where it is now.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResumedRun {
    pub run_id: String,
    pub status: RunStatus,
    pub receipt: Option<Receipt>,
    /// The error that ended it (a rejected review, a policy that now denies).
    pub error: Option<Value>,
}

impl Platform {
    /// Verifies a forge's webhook delivery and, when it says a pull request was merged or
    /// closed, resumes each run waiting on it, as the run's own principal (the policy point
    /// decides again). `who` is the host that received the delivery, for the audit log. A
    /// delivery whose signature does not verify changes nothing and is audited as denied.
    pub async fn forge_webhook(
        &self,
        who: &Principal,
        delivery: &WebhookDelivery,
    ) -> Result<WebhookReport> {
        let audit = |decision: &str, outcome: &str, details: Value| AuditEvent {
            operation: "forge_webhook".into(),
            resource: format!("source_control:{}", self.scm.kind()),
            input_digest: crate::digest::sha256_hex(delivery.body.as_bytes()),
            decision: decision.into(),
            outcome: outcome.into(),
            details,
            ..Default::default()
        };
        let event = match self
            .scm
            .parse_webhook(&delivery.headers, delivery.body.as_bytes())
        {
            Ok(e) => e,
            Err(e) => {
                let ev = audit("deny", "denied", serde_json::json!({"error": e.message()}));
                policy_point::audit(self, &who.user, ev).await?;
                return Err(e);
            }
        };
        let mut runs = Vec::new();
        if let Some(ev) = event.as_ref().filter(|e| e.closed) {
            // Keys are `RUN:STEP`; each waiting run is resumed once.
            let ids: BTreeSet<&str> = ev
                .keys
                .iter()
                .filter_map(|k| k.rsplit_once(':').map(|(run, _)| run))
                .collect();
            for id in ids {
                let Some(run) = self.state.get_run(id).await? else {
                    continue;
                };
                if run.status != RunStatus::Waiting {
                    continue;
                }
                let owner = self.principal(&run.principal);
                runs.push(match self.resume(&owner, &run.id).await {
                    Ok(r) => ResumedRun {
                        run_id: run.id.clone(),
                        status: r.status,
                        receipt: Some(r),
                        error: None,
                    },
                    Err(e) => ResumedRun {
                        run_id: run.id.clone(),
                        status: self
                            .state
                            .get_run(&run.id)
                            .await?
                            .map(|r| r.status)
                            .unwrap_or(RunStatus::Failed),
                        receipt: None,
                        error: Some(e.to_json()),
                    },
                });
            }
        }
        let ev = audit(
            "allow",
            "completed",
            serde_json::json!({
                "event": event,
                "resumed": runs.iter().map(|r| serde_json::json!({"run_id": r.run_id, "status": r.status})).collect::<Vec<_>>(),
            }),
        );
        policy_point::audit(self, &who.user, ev).await?;
        Ok(WebhookReport { event, runs })
    }
}
