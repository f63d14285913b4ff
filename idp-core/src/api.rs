//! Every operation of [`Platform`] by name, JSON in and JSON out. The Python and Node bindings
//! (and any other face) call this one function, so that every face gets every operation with the
//! same arguments, the same results and the same errors — the bindings only translate names and
//! types. [`METHODS`] lists the names; arguments and results are the serde forms of the Rust
//! types (`ServiceRequest`, `Receipt`, `Plan`, ...).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::{AuditFilter, AuditLog};
use crate::error::{Error, Result};
use crate::org::Principal;
use crate::platform::Platform;
use crate::request::{Operation, ServiceRequest};

/// Every method [`call`] knows, in a stable order.
pub const METHODS: &[&str] = &[
    "bootstrap_service",
    "wire_ci",
    "provision_gitops",
    "attach_observability",
    "request_infra_resource",
    "run_golden_path",
    "plan",
    "explain",
    "resume",
    "runs",
    "golden_paths",
    "request_waiver",
    "approve_waiver",
    "list_waivers",
    "audit_verify",
    "audit_list",
    "audit_checkpoint",
    "authorize",
    "test_policies",
    "modules",
    "infra_impact",
    "upgrade",
    "upgrade_plan",
    "upgrade_fleet",
    "fleet",
];

fn args<T: for<'de> Deserialize<'de>>(method: &str, v: &Value) -> Result<T> {
    serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let path = e.path().to_string();
        Error::invalid(format!("{method}: invalid arguments: {}", e.into_inner()))
            .with("field", path)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanArgs {
    operation: String,
    request: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceArg {
    service: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunArg {
    run_id: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArg {
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KeyArg {
    #[serde(default)]
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirArg {
    dir: String,
}

/// The principal a face passes: a user ref (groups from the org directory), or
/// `{"user": ..., "groups": [...]}` with explicit groups (e.g. Backstage ownership refs).
pub fn principal(p: &Platform, who: &Value) -> Result<Principal> {
    match who {
        Value::String(u) => {
            crate::golden_path::params::check_string("principal", u, false)?;
            Ok(p.principal(u))
        }
        Value::Object(_) => {
            let pr: Principal = args("principal", who)?;
            crate::golden_path::params::check_string("principal.user", &pr.user, false)?;
            for g in &pr.groups {
                crate::golden_path::params::check_string("principal.groups", g, false)?;
            }
            if pr.groups.is_empty() {
                Ok(p.principal(&pr.user))
            } else {
                Ok(Principal::new(
                    crate::org::entity_ref("user", &pr.user),
                    pr.groups,
                ))
            }
        }
        _ => Err(Error::invalid(
            "principal must be a user ref like user:default/alice, or {user, groups}",
        )
        .with("field", "principal")),
    }
}

fn empty(v: &Value) -> Value {
    if v.is_null() { json!({}) } else { v.clone() }
}

/// Calls `method` with JSON `arguments` as `who`.
pub fn call(p: &Platform, who: &Principal, method: &str, arguments: &Value) -> Result<Value> {
    let a = empty(arguments);
    let op = |o: Operation| -> Result<Value> {
        let req = ServiceRequest::from_json(a.clone())?;
        Ok(p.execute(who, o, &req)?.to_json())
    };
    match method {
        "bootstrap_service" => op(Operation::BootstrapService),
        "wire_ci" => op(Operation::WireCi),
        "provision_gitops" => op(Operation::ProvisionGitops),
        "attach_observability" => op(Operation::AttachObservability),
        "request_infra_resource" => op(Operation::RequestInfraResource),
        "run_golden_path" => op(Operation::RunGoldenPath),
        "plan" => {
            let pa: PlanArgs = args(method, &a)?;
            let req = ServiceRequest::from_json(pa.request)?;
            Ok(p.plan(who, Operation::parse(&pa.operation)?, &req)?
                .to_json())
        }
        "explain" => Ok(p
            .explain(who, &args::<ServiceArg>(method, &a)?.service)?
            .to_json()),
        "resume" => Ok(p
            .resume(who, &args::<RunArg>(method, &a)?.run_id)?
            .to_json()),
        "runs" => {
            let l: ListArgs = args(method, &a)?;
            Ok(serde_json::to_value(
                p.runs(l.service.as_deref(), l.limit.unwrap_or(20))?,
            )?)
        }
        "golden_paths" => Ok(Value::Array(
            p.definition()
                .golden_paths
                .iter()
                .flat_map(|(id, versions)| {
                    versions.values().map(move |gp| {
                        json!({"id": id, "version": gp.def.version, "title": gp.def.title,
                               "parameters": gp.schema.raw()})
                    })
                })
                .collect(),
        )),
        "request_waiver" => Ok(serde_json::to_value(
            p.request_waiver(who, &args(method, &a)?)?,
        )?),
        "approve_waiver" => Ok(serde_json::to_value(
            p.approve_waiver(who, &args::<IdArg>(method, &a)?.id)?,
        )?),
        "list_waivers" => {
            let l: ListArgs = args(method, &a)?;
            let list = p.list_waivers(l.service.as_deref())?;
            Ok(Value::Array(
                list.into_iter()
                    .map(|(w, s)| {
                        let mut v = serde_json::to_value(w).expect("waiver serializes");
                        v["state"] = serde_json::to_value(s).expect("state serializes");
                        v
                    })
                    .collect(),
            ))
        }
        "audit_verify" => Ok(serde_json::to_value(
            p.audit()
                .verify_with_key(args::<KeyArg>(method, &a)?.key.as_deref())?,
        )?),
        "audit_list" => {
            let l: ListArgs = args(method, &a)?;
            Ok(serde_json::to_value(p.audit().list(&AuditFilter {
                service: l.service,
                since: l.since,
                limit: l.limit,
            })?)?)
        }
        "audit_checkpoint" => Ok(serde_json::to_value(p.audit().checkpoint()?)?),
        "authorize" => Ok(serde_json::to_value(p.authorize(&args(method, &a)?)?)?),
        "test_policies" => Ok(serde_json::to_value(
            p.test_policies(args::<DirArg>(method, &a)?.dir)?,
        )?),
        "modules" => Ok(serde_json::to_value(p.modules())?),
        "infra_impact" => Ok(serde_json::to_value(p.infra_impact(who)?)?),
        "upgrade" => Ok(serde_json::to_value(p.upgrade(
            who,
            &args(method, &a)?,
            false,
        )?)?),
        "upgrade_plan" => Ok(serde_json::to_value(p.upgrade(
            who,
            &args(method, &a)?,
            true,
        )?)?),
        "upgrade_fleet" => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct FleetArgs {
                #[serde(default)]
                to: Option<String>,
                #[serde(default)]
                owner: Option<String>,
                #[serde(default)]
                keep: bool,
                #[serde(default)]
                plan: bool,
            }
            let f: FleetArgs = args(method, &a)?;
            let req = crate::platform::FleetUpgradeRequest {
                to: f.to,
                owner: f.owner,
                keep: f.keep,
            };
            Ok(serde_json::to_value(p.upgrade_fleet(who, &req, f.plan)?)?)
        }
        "fleet" => Ok(serde_json::to_value(p.fleet()?)?),
        other => Err(Error::invalid(format!(
            "unknown method {}; known: {}",
            crate::naming::shown(other),
            METHODS.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_method_is_dispatched() {
        let ws = tempfile::tempdir().unwrap();
        let p = Platform::builtin(ws.path()).unwrap();
        let who = p.principal("alice");
        for m in METHODS {
            // Empty arguments: either a result or a typed error, never "unknown method".
            if let Err(e) = call(&p, &who, m, &Value::Null) {
                assert!(!e.message().contains("unknown method"), "{m}: {e}");
            }
        }
        assert!(
            call(&p, &who, "nope", &Value::Null)
                .unwrap_err()
                .message()
                .contains("unknown method")
        );
    }

    #[test]
    fn wrong_typed_arguments_are_typed_errors() {
        let ws = tempfile::tempdir().unwrap();
        let p = Platform::builtin(ws.path()).unwrap();
        let who = p.principal("alice");
        let e = call(
            &p,
            &who,
            "run_golden_path",
            &json!({"service": 7, "owner": "team-payments"}),
        )
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = call(&p, &who, "explain", &json!({"service": "x", "extra": 1})).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    }
}
