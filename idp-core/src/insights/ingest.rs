//! Webhook payloads, in their published formats, to [`DeliveryEvent`]s.
//!
//! - `argocd`: an Argo CD `Application` (what a notifications template with
//!   `{"app": {{toJson .app}}}` sends; the bare Application works too) whose operation finished.
//! - `alertmanager`: Alertmanager's webhook payload, version 4; the SLO alerts idp's
//!   PrometheusRules create (labels `slo` and `service`) of severity `page`.
//! - `github`: the `push` event (commits on the default branch) and `deployment_status`.
//!
//! A payload may also be a JSON array of payloads. Parsing is pure: which services exist and
//! who may record their events is decided by `Platform::ingest_events`.

use serde_json::Value;

use super::{DeliveryEvent, EventKind};
use crate::error::{Error, Result};

/// Where payloads come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Argocd,
    Alertmanager,
    Github,
}

impl Source {
    pub fn parse(s: &str) -> Result<Source> {
        match s {
            "argocd" => Ok(Source::Argocd),
            "alertmanager" => Ok(Source::Alertmanager),
            "github" => Ok(Source::Github),
            other => Err(Error::invalid(format!(
                "unknown event source {}: expected argocd, alertmanager or github",
                crate::naming::shown(other)
            ))
            .with("field", "source")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Argocd => "argocd",
            Source::Alertmanager => "alertmanager",
            Source::Github => "github",
        }
    }
}

/// What a payload held: the events, and what was skipped and why.
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<DeliveryEvent>,
    pub skipped: Vec<String>,
}

/// Parses `payload` from `source`. A payload that is not of the source's format is an
/// `InvalidInput` error naming what is missing; well-formed payloads that carry nothing idp
/// measures (a sync still running, a push to another branch) are skipped with a reason.
pub fn parse(source: Source, payload: &Value) -> Result<Parsed> {
    let mut out = Parsed::default();
    let items: Vec<&Value> = match payload {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for (i, item) in items.into_iter().enumerate() {
        let at = |e: Error| {
            if matches!(payload, Value::Array(_)) {
                e.with("index", i.to_string())
            } else {
                e
            }
        };
        match source {
            Source::Argocd => argocd(item, &mut out).map_err(at)?,
            Source::Alertmanager => alertmanager(item, &mut out).map_err(at)?,
            Source::Github => github(item, &mut out).map_err(at)?,
        }
    }
    // Reasons quote payload text: keep them printable and short (they reach terminals).
    for r in &mut out.skipped {
        let clean: String = r
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .take(240)
            .collect();
        *r = clean;
    }
    Ok(out)
}

fn bad(source: Source, what: &str) -> Error {
    Error::invalid(format!(
        "not {} payload: {what}",
        match source {
            Source::Argocd => "an Argo CD Application",
            Source::Alertmanager => "an Alertmanager (version 4) webhook",
            Source::Github => "a GitHub push or deployment_status",
        }
    ))
    .with("source", source.as_str())
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// A time as idp writes it, or an error naming the field.
fn time(source: Source, field: &str, s: Option<&str>) -> Result<String> {
    let s = s.ok_or_else(|| bad(source, &format!("{field} is missing")))?;
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| crate::time::rfc3339(t.with_timezone(&chrono::Utc)))
        .map_err(|_| {
            bad(
                source,
                &format!(
                    "{field} is not an RFC 3339 time: {}",
                    crate::naming::shown(s)
                ),
            )
        })
}

fn event(
    id: String,
    kind: EventKind,
    source: Source,
    service: &str,
    time: String,
) -> DeliveryEvent {
    DeliveryEvent {
        id,
        kind,
        source: source.as_str().into(),
        service: service.into(),
        environment: None,
        time,
        revision: None,
        gitops_revision: None,
        outcome: None,
        alert: None,
        started_at: None,
    }
}

/// The service commit an image carries: CI tags images `sha-<commit>`.
fn image_revision(images: Option<&Value>, service: &str) -> Option<String> {
    images?.as_array()?.iter().find_map(|i| {
        let i = i.as_str()?;
        let (repo, tag) = i.rsplit_once(':').filter(|(r, _)| !r.contains('@'))?;
        let name = repo.rsplit('/').next()?;
        (name == service && !tag.contains('/'))
            .then(|| tag.strip_prefix("sha-").unwrap_or(tag).to_string())
    })
}

fn argocd(v: &Value, out: &mut Parsed) -> Result<()> {
    let s = Source::Argocd;
    let app = v.get("app").unwrap_or(v);
    if text(app, &["kind"]).is_some_and(|k| k != "Application") {
        return Err(bad(s, "kind is not Application"));
    }
    let name =
        text(app, &["metadata", "name"]).ok_or_else(|| bad(s, "metadata.name is missing"))?;
    let labels = app.pointer("/metadata/labels");
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let service = label("app.kubernetes.io/name").ok_or_else(|| {
        bad(
            s,
            "metadata.labels has no app.kubernetes.io/name (idp labels every Application)",
        )
    })?;
    let env = label("env").ok_or_else(|| bad(s, "metadata.labels has no env"))?;
    let op = app
        .pointer("/status/operationState")
        .ok_or_else(|| bad(s, "status.operationState is missing"))?;
    let outcome = match text(op, &["phase"]) {
        Some("Succeeded") => "succeeded",
        Some("Failed" | "Error") => "failed",
        Some(p) => {
            out.skipped
                .push(format!("argocd {name}: operation {p}, not finished"));
            return Ok(());
        }
        None => return Err(bad(s, "status.operationState.phase is missing")),
    };
    let at = time(
        s,
        "status.operationState.finishedAt",
        text(op, &["finishedAt"]),
    )?;
    let gitops = text(op, &["syncResult", "revision"])
        .or_else(|| text(app, &["status", "sync", "revision"]))
        .map(str::to_string);
    let mut e = event(
        format!(
            "argocd:{name}:{}:{at}",
            gitops.as_deref().unwrap_or_default()
        ),
        EventKind::Deployment,
        s,
        service,
        at,
    );
    e.environment = Some(env.into());
    e.revision = image_revision(app.pointer("/status/summary/images"), service);
    e.gitops_revision = gitops;
    e.outcome = Some(outcome.into());
    out.events.push(e);
    Ok(())
}

fn alertmanager(v: &Value, out: &mut Parsed) -> Result<()> {
    let s = Source::Alertmanager;
    if text(v, &["version"]) != Some("4") {
        return Err(bad(s, "version is not \"4\""));
    }
    let alerts = v
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(s, "alerts is missing"))?;
    for a in alerts {
        let label = |k: &str| text(a, &["labels", k]);
        let name = label("alertname").ok_or_else(|| bad(s, "an alert has no labels.alertname"))?;
        let (Some(service), Some(_)) = (label("service"), label("slo")) else {
            out.skipped.push(format!(
                "alert {name}: not an SLO alert of idp (no service and slo labels)"
            ));
            continue;
        };
        if label("severity") != Some("page") {
            out.skipped.push(format!(
                "alert {name} of {service}: severity {} is not an incident",
                label("severity").unwrap_or("(none)")
            ));
            continue;
        }
        let env = label("env").ok_or_else(|| bad(s, "an SLO alert has no labels.env"))?;
        let start = time(s, "alerts[].startsAt", text(a, &["startsAt"]))?;
        let fingerprint = match text(a, &["fingerprint"]) {
            Some(f) => f.to_string(),
            None => crate::digest::sha256_hex(
                crate::digest::canonical_json(a.get("labels").unwrap_or(&Value::Null)).as_bytes(),
            )[..16]
                .to_string(),
        };
        let (kind, at) = match text(a, &["status"]) {
            Some("firing") => (EventKind::AlertFiring, start.clone()),
            Some("resolved") => (
                EventKind::AlertResolved,
                time(s, "alerts[].endsAt", text(a, &["endsAt"]))?,
            ),
            _ => return Err(bad(s, "an alert's status is not firing or resolved")),
        };
        let mut e = event(
            format!("alertmanager:{fingerprint}:{start}:{}", kind.as_str()),
            kind,
            s,
            service,
            at,
        );
        e.environment = Some(env.into());
        e.alert = Some(format!("{name}:{fingerprint}"));
        e.started_at = Some(start);
        out.events.push(e);
    }
    Ok(())
}

fn github(v: &Value, out: &mut Parsed) -> Result<()> {
    let s = Source::Github;
    let service =
        text(v, &["repository", "name"]).ok_or_else(|| bad(s, "repository.name is missing"))?;
    if let Some(status) = v.get("deployment_status") {
        let d = v
            .get("deployment")
            .ok_or_else(|| bad(s, "deployment is missing"))?;
        let outcome = match text(status, &["state"]) {
            Some("success") => "succeeded",
            Some("failure" | "error") => "failed",
            Some(other) => {
                out.skipped.push(format!(
                    "github deployment of {service}: state {other}, not finished"
                ));
                return Ok(());
            }
            None => return Err(bad(s, "deployment_status.state is missing")),
        };
        let at = time(
            s,
            "deployment_status.created_at",
            text(status, &["created_at"]),
        )?;
        let id = d
            .get("id")
            .map(|i| i.to_string())
            .ok_or_else(|| bad(s, "deployment.id is missing"))?;
        let env = text(status, &["environment"])
            .or_else(|| text(d, &["environment"]))
            .ok_or_else(|| bad(s, "deployment.environment is missing"))?;
        let mut e = event(
            format!("github:deployment:{service}:{id}:{outcome}"),
            EventKind::Deployment,
            s,
            service,
            at,
        );
        e.environment = Some(env.into());
        e.revision = text(d, &["sha"]).map(str::to_string);
        e.outcome = Some(outcome.into());
        out.events.push(e);
        return Ok(());
    }
    let (Some(r), Some(commits)) = (
        text(v, &["ref"]),
        v.get("commits").and_then(Value::as_array),
    ) else {
        return Err(bad(s, "neither deployment_status nor ref and commits"));
    };
    let default = text(v, &["repository", "default_branch"])
        .or_else(|| text(v, &["repository", "master_branch"]))
        .unwrap_or("main");
    if r != format!("refs/heads/{default}") {
        out.skipped.push(format!(
            "github push to {service} {r}: not its default branch"
        ));
        return Ok(());
    }
    for c in commits {
        let sha = text(c, &["id"]).ok_or_else(|| bad(s, "commits[].id is missing"))?;
        let at = time(s, "commits[].timestamp", text(c, &["timestamp"]))?;
        let mut e = event(
            format!("github:commit:{service}:{sha}"),
            EventKind::Commit,
            s,
            service,
            at,
        );
        e.revision = Some(sha.into());
        out.events.push(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn argo_app(phase: &str) -> Value {
        json!({"app": {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "payments-api-prod", "namespace": "argocd",
                "labels": {"app.kubernetes.io/name": "payments-api", "env": "prod"}},
            "status": {
                "sync": {"status": "Synced", "revision": "0a1b2c"},
                "summary": {"images": ["ghcr.io/acme/team-payments/payments-api:sha-deadbeef", "busybox:1.36"]},
                "operationState": {"phase": phase, "startedAt": "2026-11-20T10:00:00Z",
                    "finishedAt": "2026-11-20T10:01:30+01:00", "syncResult": {"revision": "0a1b2c"}}
            }
        }})
    }

    #[test]
    fn an_argo_cd_sync_is_a_deployment_of_the_commit_its_image_carries() {
        let p = parse(Source::Argocd, &argo_app("Succeeded")).unwrap();
        let e = &p.events[0];
        assert_eq!(e.kind, EventKind::Deployment);
        assert_eq!(e.service, "payments-api");
        assert_eq!(e.environment.as_deref(), Some("prod"));
        assert_eq!(e.time, "2026-11-20T09:01:30.000Z");
        assert_eq!(e.revision.as_deref(), Some("deadbeef"));
        assert_eq!(e.gitops_revision.as_deref(), Some("0a1b2c"));
        assert_eq!(e.outcome.as_deref(), Some("succeeded"));
        let f = parse(Source::Argocd, &argo_app("Error")).unwrap();
        assert_eq!(f.events[0].outcome.as_deref(), Some("failed"));
        let r = parse(Source::Argocd, &argo_app("Running")).unwrap();
        assert!(r.events.is_empty() && r.skipped.len() == 1);
        let mut odd = argo_app("Runn\u{1b}[31ming");
        odd["app"]["status"]["operationState"]["phase"] =
            json!(format!("x\u{1b}{}", "y".repeat(1000)));
        let r = parse(Source::Argocd, &odd).unwrap();
        assert!(!r.skipped[0].contains('\u{1b}') && r.skipped[0].chars().count() <= 240);
    }

    #[test]
    fn alertmanager_page_alerts_of_idp_become_firing_and_resolved_events() {
        let payload = json!({"version": "4", "status": "resolved", "receiver": "idp", "groupKey": "{}:{}",
        "alerts": [
            {"status": "resolved", "labels": {"alertname": "ErrorBudgetFastBurn", "service": "payments-api",
                "env": "prod", "slo": "availability", "severity": "page"},
             "startsAt": "2026-11-20T10:00:00Z", "endsAt": "2026-11-20T10:45:00Z", "fingerprint": "abc"},
            {"status": "firing", "labels": {"alertname": "LatencyP99AboveObjective", "service": "payments-api",
                "env": "prod", "slo": "latency", "severity": "ticket"},
             "startsAt": "2026-11-20T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "def"},
            {"status": "firing", "labels": {"alertname": "Watchdog"}, "startsAt": "2026-11-20T10:00:00Z"}
        ]});
        let p = parse(Source::Alertmanager, &payload).unwrap();
        assert_eq!(p.events.len(), 1, "{:?}", p.skipped);
        assert_eq!(p.skipped.len(), 2);
        let e = &p.events[0];
        assert_eq!(e.kind, EventKind::AlertResolved);
        assert_eq!(e.time, "2026-11-20T10:45:00.000Z");
        assert_eq!(e.started_at.as_deref(), Some("2026-11-20T10:00:00.000Z"));
        assert_eq!(e.alert.as_deref(), Some("ErrorBudgetFastBurn:abc"));
        let err = parse(Source::Alertmanager, &json!({"version": "3", "alerts": []})).unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
    }

    #[test]
    fn github_pushes_to_the_default_branch_are_commits_and_deployment_statuses_deployments() {
        let push = json!({"ref": "refs/heads/main", "repository": {"name": "payments-api", "default_branch": "main"},
            "commits": [{"id": "c1", "timestamp": "2026-11-20T08:00:00-05:00"}, {"id": "c2", "timestamp": "2026-11-20T14:00:00Z"}]});
        let p = parse(Source::Github, &push).unwrap();
        assert_eq!(p.events.len(), 2);
        assert_eq!(p.events[0].time, "2026-11-20T13:00:00.000Z");
        assert_eq!(p.events[1].revision.as_deref(), Some("c2"));
        let mut other = push.clone();
        other["ref"] = json!("refs/heads/feature");
        assert!(parse(Source::Github, &other).unwrap().events.is_empty());
        let ds = json!({"deployment_status": {"state": "failure", "created_at": "2026-11-20T15:00:00Z"},
            "deployment": {"id": 42, "sha": "c2", "environment": "prod"}, "repository": {"name": "payments-api"}});
        let d = parse(Source::Github, &json!([ds])).unwrap();
        assert_eq!(d.events[0].outcome.as_deref(), Some("failed"));
        assert_eq!(d.events[0].id, "github:deployment:payments-api:42:failed");
        let err = parse(Source::Github, &json!({"repository": {"name": "x"}})).unwrap_err();
        assert!(err.to_string().contains("deployment_status"), "{err}");
        let err = parse(
            Source::Github,
            &json!({"ref": "refs/heads/main", "repository": {"name": "x"}, "commits": [{"id": "c", "timestamp": "yesterday"}]}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }
}
