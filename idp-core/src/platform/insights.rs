//! Delivery events in, insights out (see [`crate::insights`] for the definitions).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Platform;
use super::prepare::Prepared;
use crate::audit::AuditEvent;
use crate::changeset::ChangeSet;
use crate::error::{Error, ErrorKind, Result};
use crate::golden_path::RepoRole;
use crate::insights::{
    ActiveWaiver, Adoption, DeliveryEvent, Drift, EventKind, InsightsReport, Latches, ManagedEdits,
    Period, Scope, ServiceDrift, ServiceKeys, TeamDrift, TeamKeys, ingest,
};
use crate::org::Principal;
use crate::policy::{AuthzContext, AuthzRequest, AuthzResource};

/// The default period: the last 90 days.
pub const DEFAULT_DAYS: i64 = 90;

/// The longest period a report covers (it has a row per week).
pub const MAX_DAYS: i64 = 5 * 366;

/// Largest payload `ingest_events` takes (serialized): a GitHub push lists at most 2,048
/// commits; Alertmanager groups are small.
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;

/// What `insights` reports on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsightsQuery {
    /// Only this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only the services of this team (`team-payments` or `group:default/team-payments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Start of the period (RFC 3339, or a date `2026-09-01`); default 90 days before `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// End of the period, exclusive (RFC 3339, or a date); default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Arguments of `ingest_events`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestRequest {
    /// `argocd`, `alertmanager` or `github`.
    pub source: String,
    /// The webhook payload as the source sends it (or an array of them).
    pub payload: Value,
}

/// What `ingest_events` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IngestReport {
    pub source: String,
    /// Events the payload held for services idp knows.
    pub received: u64,
    /// Of them, new (the rest were recorded before: ingesting a payload twice is harmless).
    pub recorded: u64,
    pub duplicates: u64,
    /// What was skipped and why (at most 50 reasons; `skipped_count` counts all).
    pub skipped: Vec<String>,
    pub skipped_count: u64,
}

fn parse_bound(field: &str, s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    Err(Error::invalid(format!(
        "{field} must be an RFC 3339 time or a date like 2026-09-01, not {}",
        crate::naming::shown(s)
    ))
    .with("field", field))
}

impl Platform {
    /// Records the delivery events in a webhook payload from `source` (`argocd`,
    /// `alertmanager`, `github`). Events of services idp does not know are skipped; every
    /// other event's service must allow `who` to `record_events` (its owning team, platform
    /// admins), or nothing is recorded. The same payload twice records nothing new.
    pub async fn ingest_events(
        &self,
        who: &Principal,
        req: &IngestRequest,
    ) -> Result<IngestReport> {
        let source = ingest::Source::parse(&req.source)?;
        let size = serde_json::to_vec(&req.payload)?.len();
        if size > MAX_PAYLOAD_BYTES {
            return Err(Error::invalid(format!(
                "the payload is {size} bytes; at most {MAX_PAYLOAD_BYTES} are accepted"
            ))
            .with("field", "payload"));
        }
        let parsed = ingest::parse(source, &req.payload)?;
        // Values from a payload are data: bounded, printable, no template syntax; one bad value
        // and nothing is recorded.
        for e in &parsed.events {
            let fields = [
                ("id", Some(&e.id)),
                ("service", Some(&e.service)),
                ("environment", e.environment.as_ref()),
                ("revision", e.revision.as_ref()),
                ("gitops_revision", e.gitops_revision.as_ref()),
                ("alert", e.alert.as_ref()),
            ];
            for (name, v) in fields {
                if let Some(v) = v {
                    crate::golden_path::params::check_string(&format!("event {name}"), v, false)?;
                }
            }
        }
        let mut skipped = parsed.skipped;
        let owners: BTreeMap<String, String> = self
            .state
            .list_services()
            .await?
            .into_iter()
            .map(|s| (s.name, s.owner))
            .collect();
        let mut events = Vec::new();
        let mut allowed: BTreeMap<String, bool> = BTreeMap::new();
        for e in parsed.events {
            let Some(owner) = owners.get(&e.service) else {
                skipped.push(format!(
                    "{} {}: service {} is not one idp created",
                    source.as_str(),
                    e.kind.as_str(),
                    crate::naming::shown(&e.service)
                ));
                continue;
            };
            if !allowed.contains_key(&e.service) {
                let ok = self
                    .authorize(&AuthzRequest {
                        principal: who.clone(),
                        action: "record_events".into(),
                        resource: AuthzResource::Service {
                            name: e.service.clone(),
                            owner: owner.clone(),
                            golden_path: String::new(),
                        },
                        context: AuthzContext::default(),
                    })?
                    .allowed;
                allowed.insert(e.service.clone(), ok);
            }
            events.push(e);
        }
        let denied: Vec<&String> = allowed
            .iter()
            .filter(|(_, ok)| !**ok)
            .map(|(s, _)| s)
            .collect();
        let services: Vec<&String> = allowed.keys().collect();
        let audit = |decision: &str, outcome: &str, details: Value| AuditEvent {
            operation: "ingest_events".into(),
            resource: format!("events:{}", source.as_str()),
            input_digest: crate::digest::sha256_hex(
                crate::digest::canonical_json(&req.payload).as_bytes(),
            ),
            decision: decision.into(),
            outcome: outcome.into(),
            details,
            ..Default::default()
        };
        if !denied.is_empty() {
            let details = json!({ "denied_services": denied });
            super::policy_point::audit(self, &who.user, audit("deny", "denied", details)).await?;
            return Err(Error::new(
                ErrorKind::Denied,
                format!(
                    "{} may not record delivery events of {}: only the owning team and platform \
                     admins may; nothing was recorded",
                    who.user,
                    denied
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with("action", "record_events"));
        }
        let recorded = self.state.put_events(&events).await? as u64;
        let received = events.len() as u64;
        let report = IngestReport {
            source: source.as_str().into(),
            received,
            recorded,
            duplicates: received - recorded,
            skipped_count: skipped.len() as u64,
            skipped: skipped.into_iter().take(50).collect(),
        };
        let details = json!({
            "services": services,
            "received": report.received,
            "recorded": report.recorded,
            "skipped": report.skipped_count,
        });
        super::policy_point::audit(self, &who.user, audit("allow", "recorded", details)).await?;
        Ok(report)
    }

    /// The four keys, adoption, drift and escape latches of the services `who` may read
    /// (narrowed by the query), over the query's period. The read is recorded.
    pub async fn insights(&self, who: &Principal, q: &InsightsQuery) -> Result<InsightsReport> {
        let now = self.now();
        let to = match &q.until {
            Some(u) => parse_bound("until", u)?,
            None => now,
        };
        let from = match &q.since {
            Some(s) => parse_bound("since", s)?,
            None => to - Duration::days(DEFAULT_DAYS),
        };
        if from >= to {
            return Err(Error::invalid("since must be before until").with("field", "since"));
        }
        if to - from > Duration::days(MAX_DAYS) {
            return Err(Error::invalid(format!(
                "the period is {} days long; at most {MAX_DAYS} days (five years) are reported",
                (to - from).num_days()
            ))
            .with("field", "since"));
        }
        let scope = super::reads::scope(self, who).await?;
        super::reads::check_filter(self, who, "insights", &scope, q.service.as_deref()).await?;
        let team = q.team.as_deref().map(|t| {
            self.def
                .directory
                .team(t)
                .map_or_else(|| t.to_string(), |t| t.name.clone())
        });
        let services: Vec<crate::state::ServiceRecord> = self
            .state
            .list_services()
            .await?
            .into_iter()
            .filter(|s| scope.service(&s.name))
            .filter(|s| q.service.as_ref().is_none_or(|x| *x == s.name))
            .filter(|s| team.as_ref().is_none_or(|t| *t == s.owner))
            .collect();
        let owners: BTreeMap<String, String> = services
            .iter()
            .map(|s| (s.name.clone(), s.owner.clone()))
            .collect();
        let production: BTreeSet<String> = self
            .def
            .config
            .environments
            .iter()
            .filter(|e| e.env_type == "prod")
            .map(|e| e.name.clone())
            .collect();
        let events = self
            .state
            .list_events(Some(&crate::time::rfc3339(to)))
            .await?;
        let delivery = crate::insights::four_keys(&events, &owners, &production, from, to);

        let adoption = self
            .adoption(
                who,
                &scope,
                q,
                &services,
                &owners,
                team.as_deref(),
                (from, to),
            )
            .await?;
        let (drift, managed_edits) = self.drift(&services).await?;
        let now_text = crate::time::rfc3339(now);
        let active_waivers = self
            .state
            .list_waivers(None)
            .await?
            .into_iter()
            .filter(|w| owners.contains_key(&w.service) && w.is_valid(&now_text))
            .map(|w| ActiveWaiver {
                id: w.id,
                service: w.service,
                rule: w.rule,
                environment: w.environment,
                expires_at: w.expires_at,
            })
            .collect();

        let mut team_services: BTreeMap<&str, u64> = BTreeMap::new();
        for s in &services {
            *team_services.entry(&s.owner).or_default() += 1;
        }
        let report = InsightsReport {
            generated_at: now_text,
            period: Period {
                from: crate::time::rfc3339(from),
                to: crate::time::rfc3339(to),
                days: (to - from).num_milliseconds() as f64 / 86_400_000.0,
            },
            scope: Scope {
                service: q.service.clone(),
                team,
            },
            four_keys: delivery.overall,
            teams: delivery
                .teams
                .into_iter()
                .map(|(t, k)| TeamKeys {
                    services: team_services.get(t.as_str()).copied().unwrap_or(0),
                    team: t,
                    four_keys: k,
                })
                .collect(),
            services: delivery
                .services
                .into_iter()
                .map(|(s, k)| ServiceKeys {
                    owner: owners[&s].clone(),
                    service: s,
                    four_keys: k,
                })
                .collect(),
            weekly: delivery.weekly,
            lead_time_distribution: delivery.lead_time_distribution,
            adoption,
            drift,
            latches: Latches {
                active_waivers,
                managed_edits,
            },
        };
        super::reads::record(
            self,
            who,
            "insights",
            q.service.as_deref(),
            true,
            report.services.len(),
        )
        .await?;
        Ok(report)
    }

    /// [`Platform::insights`] as one self-contained HTML page with charts.
    pub async fn insights_html(&self, who: &Principal, q: &InsightsQuery) -> Result<String> {
        Ok(crate::insights::html::render(&self.insights(who, q).await?))
    }

    #[allow(clippy::too_many_arguments)]
    async fn adoption(
        &self,
        who: &Principal,
        scope: &super::reads::ReadScope,
        q: &InsightsQuery,
        services: &[crate::state::ServiceRecord],
        owners: &BTreeMap<String, String>,
        team: Option<&str>,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Adoption> {
        // The catalog: the org directory's components and the services idp created, which
        // register themselves with their catalog-info.yaml. Narrowed like the services: to the
        // service or team asked for, and to the components of the principal's teams unless it
        // is a platform admin.
        let mut catalog: BTreeSet<&str> = owners.keys().map(String::as_str).collect();
        for (name, owner) in self.def.directory.components() {
            let owner_ref = crate::org::entity_ref("group", owner);
            let visible = scope.platform || who.groups.contains(&owner_ref);
            let of_team = team.is_none_or(|t| owner_ref == crate::org::entity_ref("group", t));
            let of_service = q.service.as_ref().is_none_or(|s| s == name);
            if visible && of_team && of_service {
                catalog.insert(name);
            }
        }
        let (from_t, to_t) = (crate::time::rfc3339(from), crate::time::rfc3339(to));
        let mut runs_by_face: BTreeMap<String, u64> = BTreeMap::new();
        let mut runs = 0;
        for r in self.state.list_runs(None, usize::MAX).await? {
            if owners.contains_key(&r.service) && r.created_at >= from_t && r.created_at < to_t {
                let face = if r.face.is_empty() {
                    "unknown"
                } else {
                    &r.face
                };
                *runs_by_face.entry(face.to_string()).or_default() += 1;
                runs += 1;
            }
        }
        let mut by_path: BTreeMap<String, u64> = BTreeMap::new();
        for s in services {
            *by_path.entry(s.golden_path.clone()).or_default() += 1;
        }
        let total = catalog.len() as u64;
        Ok(Adoption {
            catalog_components: total,
            golden_path_components: services.len() as u64,
            share: (total > 0).then(|| services.len() as f64 / total as f64),
            runs,
            runs_by_face,
            services_by_golden_path: by_path,
        })
    }

    /// Version drift (from the state store) and edits of managed files (read from the repos).
    async fn drift(
        &self,
        services: &[crate::state::ServiceRecord],
    ) -> Result<(Drift, Vec<ManagedEdits>)> {
        let mut rows = Vec::new();
        let mut edits = Vec::new();
        let mut by_team: BTreeMap<String, TeamDrift> = BTreeMap::new();
        for s in services {
            let Some(row) = self.fleet_row(s, false).await? else {
                continue;
            };
            let t = by_team.entry(s.owner.clone()).or_insert(TeamDrift {
                team: s.owner.clone(),
                services: 0,
                behind: 0,
                max_behind: 0,
            });
            t.services += 1;
            if row.behind > 0 {
                t.behind += 1;
                t.max_behind = t.max_behind.max(row.behind as u64);
                rows.push(ServiceDrift {
                    service: row.service.clone(),
                    owner: row.owner.clone(),
                    golden_path: row.golden_path.clone(),
                    version: row.version.clone(),
                    latest: row.latest.clone(),
                    behind: row.behind as u64,
                });
            }
            if !row.managed_edits.is_empty() {
                edits.push(ManagedEdits {
                    service: row.service,
                    files: row.managed_edits,
                });
            }
        }
        rows.sort_by(|a, b| b.behind.cmp(&a.behind).then(a.service.cmp(&b.service)));
        let drift = Drift {
            services: by_team.values().map(|t| t.services).sum(),
            behind: rows.len() as u64,
            by_team: by_team.into_values().collect(),
            services_behind: rows,
        };
        Ok((drift, edits))
    }
}

/// A merged change to the GitOps repo is a deployment of every environment it wrote that Argo
/// CD syncs by itself (protected environments are synced by hand: Argo CD reports those).
pub(crate) async fn record_gitops_merge(
    p: &Platform,
    prep: &Prepared,
    cs: &ChangeSet,
    commit: &str,
) -> Result<()> {
    if cs.repo_role != RepoRole::Gitops {
        return Ok(());
    }
    let now = p.now_text();
    let mut events = Vec::new();
    for env in cs.environments_written() {
        let Some(e) = p.def.config.environments.iter().find(|e| e.name == env) else {
            continue;
        };
        if e.protected {
            continue;
        }
        let tag = prep
            .env_overrides
            .get(env)
            .and_then(|o| o.get("image_tag"))
            .or_else(|| prep.params.get("image_tag"))
            .and_then(Value::as_str);
        events.push(DeliveryEvent {
            id: format!("idp:deployment:{}:{env}:{commit}", prep.service),
            kind: EventKind::Deployment,
            source: "idp".into(),
            service: prep.service.clone(),
            environment: Some(env.to_string()),
            time: now.clone(),
            revision: tag.map(|t| t.strip_prefix("sha-").unwrap_or(t).to_string()),
            gitops_revision: Some(commit.to_string()),
            outcome: Some("succeeded".into()),
            alert: None,
            started_at: None,
        });
    }
    if !events.is_empty() {
        p.state.put_events(&events).await?;
    }
    Ok(())
}
