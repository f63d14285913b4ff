//! The one policy point every operation passes before anything is written: authorization of the
//! operation and of every environment its change sets touch (Cedar), guardrails on every file it
//! would write (conventions and Rego), waivers, and the audit record of the outcome.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Platform;
use super::prepare::Prepared;
use crate::audit::AuditEvent;
use crate::changeset::{ChangeSet, FileAction};
use crate::error::{Error, ErrorKind, Result};
use crate::org::Principal;
use crate::policy::authz::EnvFacts;
use crate::policy::waivers::PROTECTED_ENVIRONMENT;
use crate::policy::{
    AuthzContext, AuthzRequest, AuthzResource, Decided, GuardContext, GuardedFile, IntentFacts,
    Violation, Waiver,
};

/// One authorization decision, as shown in plans and kept in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DecisionRecord {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// For infrastructure: the intent decided on (`bucket:logs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    pub allowed: bool,
    /// Ids of the deciding policies (empty: denied by default).
    pub policies: Vec<String>,
    /// The waiver that approved a protected change, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<String>,
}

/// Everything the policy point decided about a set of change sets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyOutcome {
    pub decisions: Vec<DecisionRecord>,
    /// Every guardrail finding (waived ones carry `waived_by`).
    pub violations: Vec<Violation>,
}

impl PolicyOutcome {
    /// True when nothing denies and no finding blocks.
    pub fn allowed(&self) -> bool {
        self.decisions.iter().all(|d| d.allowed) && !self.violations.iter().any(Violation::blocks)
    }

    /// Sorted, unique ids of the policies that decided.
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .decisions
            .iter()
            .flat_map(|d| d.policies.iter().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Ids of waivers that were used.
    pub fn waiver_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .decisions
            .iter()
            .filter_map(|d| d.waiver.clone())
            .chain(self.violations.iter().filter_map(|v| v.waived_by.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The error that stops the operation, if any: the first denial, else every blocking finding.
    pub fn error(&self, who: &Principal, service: &str) -> Option<Error> {
        if let Some(d) = self.decisions.iter().find(|d| !d.allowed) {
            let why = if d.policies.is_empty() {
                "no policy permits it (deny by default)".to_string()
            } else {
                format!("forbidden by {}", d.policies.join(", "))
            };
            let mut msg = match &d.environment {
                Some(env) => format!(
                    "{} may not {} {service} in environment {env}: {why}",
                    who.user, d.action
                ),
                None => format!(
                    "{} may not {} on service {service}: {why}",
                    who.user, d.action
                ),
            };
            if let Some(param) = d
                .action
                .strip_prefix(crate::policy::waivers::MODULE_OVERRIDE)
            {
                msg = format!(
                    "{} may not override module parameter `{param}` of {service} in {}: the catalog requires \
                     approval for this value. Request a waiver (idp waiver request --rule {} --service {service} \
                     --env {} ...) and have it approved",
                    who.user,
                    d.environment.as_deref().unwrap_or("every environment"),
                    d.action,
                    d.environment.as_deref().unwrap_or("ENV"),
                );
            } else if let Some(env) = &d.environment {
                msg.push_str(&format!(
                    ". Changes to a protected environment need an approved waiver \
                     (idp waiver request --rule {PROTECTED_ENVIRONMENT} --service {service} --env {env} \
                     --operation {} ...) or an open change window (--change-window NAME)",
                    d.action
                ));
            }
            return Some(
                Error::new(ErrorKind::Denied, msg)
                    .with("action", d.action.clone())
                    .with_details(serde_json::to_value(&self.decisions).unwrap_or_default()),
            );
        }
        let blocking: Vec<&Violation> = self.violations.iter().filter(|v| v.blocks()).collect();
        if blocking.is_empty() {
            return None;
        }
        let list: Vec<String> = blocking
            .iter()
            .map(|v| format!("{}:{}: {} [{}]", v.repo, v.path, v.message, v.rule))
            .collect();
        Some(
            Error::new(
                ErrorKind::PolicyViolation,
                format!(
                    "{} guardrail violation(s); nothing was written: {}. A waiver for the rule turns a \
                     violation into an allowed exception",
                    blocking.len(),
                    list.join("; ")
                ),
            )
            .with_details(serde_json::to_value(&blocking).unwrap_or_default()),
        )
    }
}

fn service_resource(prep: &Prepared) -> AuthzResource {
    AuthzResource::Service {
        name: prep.service.clone(),
        owner: prep.team.name.clone(),
        golden_path: prep.gp.def.id.clone(),
    }
}

/// Decides whether `who` may run `action` on the service (no environment).
pub(crate) fn authorize_operation(
    p: &Platform,
    who: &Principal,
    prep: &Prepared,
    action: &str,
    dry_run: bool,
) -> Result<DecisionRecord> {
    if !dry_run {
        super::pin::check_write(p, action)?;
    }
    let req = AuthzRequest {
        principal: who.clone(),
        action: action.to_string(),
        resource: service_resource(prep),
        context: AuthzContext {
            dry_run,
            change_window: prep.change_window_open,
            operation: Some(prep.op.as_str().to_string()),
            time: Some(p.request_time()),
            ..Default::default()
        },
    };
    let d = p.def.authz.decide(&req, &p.def.directory, None)?;
    Ok(DecisionRecord {
        action: action.into(),
        environment: None,
        intent: None,
        allowed: d.allowed,
        policies: d.policies,
        waiver: None,
    })
}

/// Authorizes each environment the change sets write to, and runs the guardrails on every file
/// they create or update (kept files are the team's, unchanged ones were checked when written).
pub(crate) async fn check_change_sets(
    p: &Platform,
    who: &Principal,
    prep: &Prepared,
    sets: &[ChangeSet],
    dry_run: bool,
    same_run: &std::collections::BTreeSet<crate::golden_path::StepId>,
) -> Result<PolicyOutcome> {
    if !dry_run {
        super::pin::check_write(p, prep.op.as_str())?;
    }
    let now = p.now_text();
    let waivers: Vec<Waiver> = p
        .state
        .list_waivers(Some(&prep.service))
        .await?
        .into_iter()
        .filter(|w| w.is_valid(&now))
        .collect();
    let mut out = PolicyOutcome::default();
    let time = p.request_time();
    for cs in sets {
        // A waiver names the operations it approves: the one requested, or this step of it.
        let ops = [prep.op.as_str(), cs.step.as_str()];
        for env in cs.environments_written() {
            let facts = p.def.config.environment(env).map(|e| EnvFacts {
                protected: e.protected,
                kind: e.env_type.clone(),
            });
            let approval = waivers
                .iter()
                .find(|w| w.covers(PROTECTED_ENVIRONMENT, &prep.service, Some(env), &ops));
            let first = first_deploy(p, cs, env, same_run).await?;
            // Infrastructure is decided per intent written there, so that a policy can speak of
            // what is asked for (`context.intent.type == "postgres"`).
            let mut intents: Vec<Option<IntentFacts>> = prep
                .resolutions
                .iter()
                .filter(|r| {
                    cs.step == crate::golden_path::StepId::RequestInfraResource
                        && r.environment == env
                        && cs.files.iter().any(|f| f.path == r.file && f.writes())
                })
                .map(|r| {
                    Some(IntentFacts {
                        ty: r.ty.clone(),
                        class: r.class.clone().unwrap_or_default(),
                        key: r.intent.clone(),
                        module: r.module.clone(),
                    })
                })
                .collect();
            if intents.is_empty() {
                intents.push(None);
            }
            for intent in intents {
                let req = AuthzRequest {
                    principal: who.clone(),
                    action: cs.step.as_str().to_string(),
                    resource: service_resource(prep),
                    context: AuthzContext {
                        environment: Some(env.to_string()),
                        approved: approval.is_some(),
                        change_window: prep.change_window_open,
                        first_deploy: first,
                        dry_run,
                        operation: Some(prep.op.as_str().to_string()),
                        time: Some(time.clone()),
                        intent: intent.clone(),
                    },
                };
                let d: Decided = p.def.authz.decide(&req, &p.def.directory, facts.as_ref())?;
                // The waiver was used when, without it, the same request would be denied.
                let used = d.allowed && approval.is_some() && {
                    let mut without = req.clone();
                    without.context.approved = false;
                    !p.def
                        .authz
                        .decide(&without, &p.def.directory, facts.as_ref())?
                        .allowed
                };
                out.decisions.push(DecisionRecord {
                    action: cs.step.as_str().into(),
                    environment: Some(env.to_string()),
                    intent: intent.map(|i| i.key),
                    allowed: d.allowed,
                    policies: d.policies,
                    waiver: if used {
                        approval.map(|w| w.id.clone())
                    } else {
                        None
                    },
                });
            }
        }
        // Module parameters that need approval (e.g. a bigger database) pass only with a waiver.
        if cs.step == crate::golden_path::StepId::RequestInfraResource {
            for r in &prep.resolutions {
                let written = cs.files.iter().any(|f| f.path == r.file && f.writes());
                for rule in r.approvals.iter().filter(|_| written) {
                    let w = waivers
                        .iter()
                        .find(|w| w.covers(rule, &prep.service, Some(&r.environment), &ops));
                    out.decisions.push(DecisionRecord {
                        action: rule.clone(),
                        environment: Some(r.environment.clone()),
                        intent: Some(r.intent.clone()),
                        allowed: w.is_some(),
                        policies: vec![],
                        waiver: w.map(|w| w.id.clone()),
                    });
                }
            }
        }
        let files: Vec<GuardedFile<'_>> = cs
            .files
            .iter()
            // What the change set writes: a file it leaves as it is was checked when it was
            // written (on a first creation, every file is new), and a change that does not touch
            // a file is not stopped by it.
            .filter(|f| {
                !f.is_stamp() && matches!(f.action, FileAction::Create | FileAction::Update)
            })
            .filter_map(|f| {
                f.content.as_ref().map(|c| GuardedFile {
                    repo: &cs.repo,
                    path: &f.path,
                    environment: f.environment.as_deref(),
                    content: c.as_slice(),
                })
            })
            .collect();
        let ctx = GuardContext {
            service: prep.service.clone(),
            namespaces: prep.ctx.namespaces(),
            principal: Some(who.clone()),
            operation: Some(prep.op.as_str().to_string()),
            ..Default::default()
        };
        for mut v in p.def.guardrails.check(&ctx, &files)? {
            if v.severity == crate::policy::Enforcement::Deny
                && let Some(w) = waivers
                    .iter()
                    .find(|w| w.covers(&v.rule, &prep.service, v.environment.as_deref(), &ops))
            {
                v.waived_by = Some(w.id.clone());
            }
            out.violations.push(v);
        }
    }
    Ok(out)
}

/// True when nothing of the service exists in `env` yet: every file the change set has there is
/// new, and the service's stamp in the repo records no file of that environment (another step,
/// such as provision_gitops before attach_observability, may have deployed there already).
async fn first_deploy(
    p: &Platform,
    cs: &ChangeSet,
    env: &str,
    same_run: &std::collections::BTreeSet<crate::golden_path::StepId>,
) -> Result<bool> {
    if !cs.first_in(env) {
        return Ok(false);
    }
    let Some(stamp) = cs.files.iter().find(|f| f.is_stamp()) else {
        return Ok(true);
    };
    let Some(bytes) = p
        .scm
        .read_files(&cs.repo, None, std::slice::from_ref(&stamp.path))
        .await?
        .pop()
        .flatten()
    else {
        return Ok(true);
    };
    let old = crate::scaffold::Stamp::parse(&stamp.path, &bytes)?;
    Ok(!old
        .files
        .values()
        .any(|f| f.environment.as_deref() == Some(env) && !same_run.contains(&f.step)))
}

/// Appends an audit event, filling time and principal. Audit failures fail the operation: an
/// action that cannot be recorded must not happen silently.
pub(crate) async fn audit(p: &Platform, who: &str, mut ev: AuditEvent) -> Result<()> {
    ev.time = p.now_text();
    ev.principal = who.to_string();
    ev.platform = p.def.digest.clone();
    p.audit.append(ev).await.map(|_| ())
}

/// The audit event of a service operation.
pub(crate) fn service_event(
    prep: &Prepared,
    operation: &str,
    outcome: &str,
    decision: &str,
) -> AuditEvent {
    AuditEvent {
        operation: operation.to_string(),
        resource: format!("service:{}", prep.service),
        input_digest: crate::digest::sha256_hex(
            crate::digest::canonical_json(&prep.request_redacted).as_bytes(),
        ),
        decision: decision.to_string(),
        outcome: outcome.to_string(),
        ..Default::default()
    }
}

/// The audit `resource` of a service as a request named it: `service:NAME`, or, for a name that
/// is not a valid one (`../etc`, a huge or multi-line value), its short quoted form.
pub(crate) fn service_resource_name(service: &str) -> String {
    if crate::naming::is_dns1123_label(service) {
        format!("service:{service}")
    } else {
        format!("service:{}", crate::naming::shown(service))
    }
}

/// Records a request refused before it could be understood (bad input, unknown team, ...).
pub(crate) async fn audit_rejected(
    p: &Platform,
    who: &Principal,
    operation: &str,
    service: &str,
    e: &Error,
) -> Result<()> {
    let resource = service_resource_name(service);
    audit(
        p,
        &who.user,
        AuditEvent {
            operation: operation.to_string(),
            resource,
            decision: "none".into(),
            outcome: "rejected".into(),
            details: json!({"error": {"kind": e.kind().as_str(), "message": e.message()}}),
            ..Default::default()
        },
    )
    .await
}

/// Details for an audit event of a policy outcome.
pub(crate) fn outcome_details(o: &PolicyOutcome) -> Value {
    json!({"decisions": o.decisions, "violations": o.violations})
}
