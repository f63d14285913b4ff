//! Insights: delivery events in, the DORA four keys, adoption, drift and escape latches out.
//!
//! [`DeliveryEvent`]s come from webhook payloads in their published formats ([`ingest`]: Argo CD
//! Applications, Alertmanager version 4, GitHub `push` and `deployment_status`) and from idp's
//! own merges into GitOps repos. [`four_keys`] turns them into the four keys with DORA's
//! definitions; `Platform::insights` adds adoption, drift and latches from the state store and
//! the repos; [`html`] draws the report as one offline HTML page. docs/insights.md gives every
//! definition and where each number comes from.

pub mod html;
pub mod ingest;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What a delivery event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A deployment to an environment finished (`outcome` says how).
    Deployment,
    /// A commit reached the service repo's default branch (`revision` is its sha).
    Commit,
    /// An SLO alert started firing.
    AlertFiring,
    /// An SLO alert stopped firing (`time` is when; `started_at` when it began).
    AlertResolved,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deployment => "deployment",
            EventKind::Commit => "commit",
            EventKind::AlertFiring => "alert_firing",
            EventKind::AlertResolved => "alert_resolved",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "deployment" => EventKind::Deployment,
            "commit" => EventKind::Commit,
            "alert_firing" => EventKind::AlertFiring,
            "alert_resolved" => EventKind::AlertResolved,
            _ => return None,
        })
    }
}

/// One thing that happened on the way to production. Stored once per `id`: the same payload
/// ingested twice records nothing the second time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeliveryEvent {
    /// Unique per occurrence: `argocd:payments-api-prod:<finished at>`, `github:commit:<sha>`, ...
    pub id: String,
    pub kind: EventKind,
    /// `argocd`, `alertmanager`, `github` or `idp`.
    pub source: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// When it happened, as idp writes times (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// A deployment: the service commit it carries (from the image tag CI stamps, `sha-<commit>`).
    /// A commit: its sha.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// A deployment: the GitOps repo commit that was synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitops_revision: Option<String>,
    /// A deployment: `succeeded` or `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// An alert: `alertname:fingerprint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// An alert: when it started firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// DORA's performance bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

const HOUR: f64 = 1.0;
const DAY: f64 = 24.0 * HOUR;
const WEEK: f64 = 7.0 * DAY;
const MONTH: f64 = 30.0 * DAY;

impl Band {
    /// Deployment frequency, in successful production deployments per day: elite on demand
    /// (daily or more), high at least weekly, medium at least monthly.
    pub fn deployment_frequency(per_day: f64) -> Band {
        if per_day >= 1.0 {
            Band::Elite
        } else if per_day >= 1.0 / 7.0 {
            Band::High
        } else if per_day >= 1.0 / 30.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Lead time for changes (median hours from commit to production): elite under a day, high
    /// under a week, medium under a month.
    pub fn lead_time(hours: f64) -> Band {
        Band::by_hours(hours, DAY, WEEK, MONTH)
    }

    /// Change failure rate: elite up to 5%, high up to 10%, medium up to 15%.
    pub fn change_failure_rate(rate: f64) -> Band {
        if rate <= 0.05 {
            Band::Elite
        } else if rate <= 0.10 {
            Band::High
        } else if rate <= 0.15 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Time to restore service (median hours): elite under an hour, high under a day, medium
    /// under a week.
    pub fn time_to_restore(hours: f64) -> Band {
        Band::by_hours(hours, HOUR, DAY, WEEK)
    }

    fn by_hours(hours: f64, elite: f64, high: f64, medium: f64) -> Band {
        if hours < elite {
            Band::Elite
        } else if hours < high {
            Band::High
        } else if hours < medium {
            Band::Medium
        } else {
            Band::Low
        }
    }
}

/// The four keys of a service, a team or the whole scope, over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FourKeys {
    /// Production deployments in the period, successful or not.
    pub deployments: u64,
    pub successful_deployments: u64,
    /// Successful production deployments per day.
    pub deploys_per_day: f64,
    pub deployment_frequency_band: Band,
    /// Commits that reached production in the period.
    pub changes: u64,
    pub lead_time_median_hours: Option<f64>,
    pub lead_time_band: Option<Band>,
    /// Deployments that failed, were rolled back, or were followed by an incident before the
    /// next deployment.
    pub failed_deployments: u64,
    pub change_failure_rate: Option<f64>,
    pub change_failure_rate_band: Option<Band>,
    /// Production incidents (overlapping SLO alerts of a service form one) that began in the
    /// period.
    pub incidents: u64,
    pub restored: u64,
    pub time_to_restore_median_hours: Option<f64>,
    pub time_to_restore_band: Option<Band>,
}

/// One ISO week of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WeekRow {
    /// `2026-W36`
    pub week: String,
    /// Its Monday.
    pub start: String,
    pub deployments: u64,
    pub failed_deployments: u64,
    pub lead_time_median_hours: Option<f64>,
    pub incidents: u64,
    pub time_to_restore_median_hours: Option<f64>,
}

/// How many changes reached production within a lead-time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bucket {
    pub label: String,
    pub changes: u64,
}

/// The lead-time buckets: upper bounds in hours, and labels.
pub const LEAD_TIME_BUCKETS: [(f64, &str); 5] = [
    (HOUR, "< 1 h"),
    (DAY, "1 h - 1 d"),
    (WEEK, "1 d - 1 w"),
    (MONTH, "1 w - 30 d"),
    (f64::INFINITY, ">= 30 d"),
];

/// What the four keys are computed from, per service.
#[derive(Debug, Clone, Default)]
struct Raw {
    deployments: u64,
    successful: u64,
    failed: u64,
    lead_hours: Vec<f64>,
    incidents: u64,
    restore_hours: Vec<f64>,
}

impl Raw {
    fn add(&mut self, o: &Raw) {
        self.deployments += o.deployments;
        self.successful += o.successful;
        self.failed += o.failed;
        self.lead_hours.extend_from_slice(&o.lead_hours);
        self.incidents += o.incidents;
        self.restore_hours.extend_from_slice(&o.restore_hours);
    }

    fn keys(mut self, days: f64) -> FourKeys {
        let per_day = if days > 0.0 {
            self.successful as f64 / days
        } else {
            0.0
        };
        let lead = median(&mut self.lead_hours);
        let restore = median(&mut self.restore_hours);
        let cfr = (self.deployments > 0).then(|| self.failed as f64 / self.deployments as f64);
        FourKeys {
            deployments: self.deployments,
            successful_deployments: self.successful,
            deploys_per_day: per_day,
            deployment_frequency_band: Band::deployment_frequency(per_day),
            changes: self.lead_hours.len() as u64,
            lead_time_median_hours: lead,
            lead_time_band: lead.map(Band::lead_time),
            failed_deployments: self.failed,
            change_failure_rate: cfr,
            change_failure_rate_band: cfr.map(Band::change_failure_rate),
            incidents: self.incidents,
            restored: self.restore_hours.len() as u64,
            time_to_restore_median_hours: restore,
            time_to_restore_band: restore.map(Band::time_to_restore),
        }
    }
}

/// The median (the mean of the middle two of an even count); `None` when empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// What [`four_keys`] computes.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub overall: FourKeys,
    /// Per service in scope, by name.
    pub services: BTreeMap<String, FourKeys>,
    /// Per owning team.
    pub teams: BTreeMap<String, FourKeys>,
    pub weekly: Vec<WeekRow>,
    pub lead_time_distribution: Vec<Bucket>,
}

/// When an alert or incident started, and ended (`None` while it fires).
type Window = (DateTime<Utc>, Option<DateTime<Utc>>);

/// A production deployment, after deduplication.
struct Deploy {
    service: usize,
    env: String,
    time: DateTime<Utc>,
    revision: Option<String>,
    succeeded: bool,
    lead_hours: Vec<f64>,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn hours(d: Duration) -> f64 {
    (d.num_milliseconds().max(0) as f64) / 3_600_000.0
}

/// The four keys of the services in `owners` (service -> owning team) over `[from, to)`, from
/// `events` (all of them up to `to`: commits and deployments before the period decide what a
/// deployment in it carries). `production` names the environments of type `prod`.
///
/// - A deployment is a `deployment` event to a production environment. idp's own merges count
///   only in environments that no deployment reporter (Argo CD, GitHub) reports on; a report of
///   the same GitOps revision and outcome as the one just before it in its environment is the
///   same deployment notified twice. A retry of a failed sync and a rollback count as
///   deployments of their own.
/// - A deployment of revision R carries every commit of its service up to R (by commit time)
///   that no earlier production deployment carried; each carried commit's lead time is the
///   deployment's time minus the commit's.
/// - A deployment failed when its outcome is `failed`, when the next deployment to the
///   environment went back to a revision deployed before it (a rollback), or when a production
///   incident of the service began after it and before the next deployment to the environment.
/// - An incident is a maximal run of overlapping SLO alerts of one service in one production
///   environment: from the first alert's start to the last one's end; it is restored when every
///   alert in it resolved.
pub fn four_keys(
    events: &[DeliveryEvent],
    owners: &BTreeMap<String, String>,
    production: &BTreeSet<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Delivery {
    let names: Vec<&String> = owners.keys().collect();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let n = names.len();

    // Commits per service, by time; deployments per (service, env, gitops revision); alerts.
    let mut commits: Vec<Vec<(DateTime<Utc>, &str)>> = vec![Vec::new(); n];
    let mut deploys: Vec<(usize, &DeliveryEvent, DateTime<Utc>)> = Vec::new();
    let mut alerts: HashMap<(usize, &str, &str, &str), Window> = HashMap::new();
    for e in events {
        let Some(&s) = index.get(e.service.as_str()) else {
            continue;
        };
        let Some(t) = parse_time(&e.time) else {
            continue;
        };
        if t >= to {
            continue;
        }
        let prod = e
            .environment
            .as_ref()
            .is_some_and(|x| production.contains(x));
        match e.kind {
            EventKind::Commit => {
                if let Some(r) = &e.revision {
                    commits[s].push((t, r));
                }
            }
            EventKind::Deployment if prod => deploys.push((s, e, t)),
            EventKind::AlertFiring | EventKind::AlertResolved if prod => {
                let (Some(a), Some(start)) = (&e.alert, &e.started_at) else {
                    continue;
                };
                let Some(st) = parse_time(start) else {
                    continue;
                };
                let env = e.environment.as_deref().unwrap_or_default();
                let slot = alerts.entry((s, env, a, start)).or_insert((st, None));
                if e.kind == EventKind::AlertResolved {
                    slot.1 = Some(t);
                }
            }
            _ => {}
        }
    }

    // One deployment per report, except:
    // - idp's own merges count only in environments no deployment reporter (Argo CD, GitHub)
    //   reports on: with a reporter there, it is the authority (a shared GitOps repo's sync
    //   rarely names idp's merge commit, so matching them up would count deployments twice);
    // - a report of the same GitOps revision with the same outcome as the one just before it in
    //   that environment is the same deployment notified twice. A retry of a failed sync, or a
    //   rollback to an older revision, is a deployment of its own.
    let reported: HashSet<(usize, &str)> = deploys
        .iter()
        .filter(|d| d.1.source != "idp")
        .map(|d| (d.0, d.1.environment.as_deref().unwrap_or_default()))
        .collect();
    deploys.retain(|d| {
        d.1.source != "idp"
            || !reported.contains(&(d.0, d.1.environment.as_deref().unwrap_or_default()))
    });
    deploys.sort_by(|a, b| (a.2, &a.1.id).cmp(&(b.2, &b.1.id)));
    let mut last: HashMap<(usize, &str), &DeliveryEvent> = HashMap::new();
    let mut kept: Vec<(usize, &DeliveryEvent, DateTime<Utc>)> = Vec::new();
    for d in deploys {
        let key = (d.0, d.1.environment.as_deref().unwrap_or_default());
        let repeat = last.get(&key).is_some_and(|p| {
            p.gitops_revision.is_some()
                && p.gitops_revision == d.1.gitops_revision
                && p.outcome == d.1.outcome
        });
        last.insert(key, d.1);
        if !repeat {
            kept.push(d);
        }
    }
    let mut deploys: Vec<Deploy> = kept
        .iter()
        .map(|(s, e, t)| Deploy {
            service: *s,
            env: e.environment.clone().unwrap_or_default(),
            time: *t,
            revision: e.revision.clone(),
            succeeded: e.outcome.as_deref() != Some("failed"),
            lead_hours: Vec::new(),
        })
        .collect();

    // Incidents: overlapping alerts of a service in an environment merge.
    let mut per_env: BTreeMap<(usize, &str), Vec<Window>> = BTreeMap::new();
    for ((s, env, _, _), w) in alerts {
        per_env.entry((s, env)).or_default().push(w);
    }
    // (service, env, start, end)
    let mut incidents: Vec<(usize, &str, Window)> = Vec::new();
    for ((s, env), mut ws) in per_env {
        ws.sort_by_key(|w| w.0);
        let mut cur: Option<Window> = None;
        for (st, en) in ws {
            match &mut cur {
                Some((_, ce)) if ce.is_none_or(|ce| st <= ce) => {
                    *ce = match (*ce, en) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => {
                    if let Some(w) = cur.take() {
                        incidents.push((s, env, w));
                    }
                    cur = Some((st, en));
                }
            }
        }
        if let Some(w) = cur {
            incidents.push((s, env, w));
        }
    }

    // Per (service, env): rollbacks and incidents mark deployments failed.
    let mut seq: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
    for (i, d) in deploys.iter().enumerate() {
        seq.entry((d.service, d.env.as_str())).or_default().push(i);
    }
    let mut failed = vec![false; deploys.len()];
    for idxs in seq.values() {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut prev: Option<usize> = None;
        for &i in idxs {
            let d = &deploys[i];
            if !d.succeeded {
                failed[i] = true;
                continue;
            }
            if let (Some(p), Some(r)) = (prev, d.revision.as_deref())
                && deploys[p].revision.as_deref() != Some(r)
                && seen.contains(r)
            {
                failed[p] = true;
            }
            if let Some(r) = deploys[i].revision.as_deref() {
                seen.insert(r);
            }
            prev = Some(i);
        }
    }
    for (s, env, (start, _)) in &incidents {
        if let Some(idxs) = seq.get(&(*s, *env))
            && let Some(&i) = idxs
                .iter()
                .rev()
                .find(|&&i| deploys[i].succeeded && deploys[i].time <= *start)
        {
            failed[i] = true;
        }
    }

    // Lead times: each commit is carried by the first production deployment that reaches it.
    for c in &mut commits {
        c.sort();
    }
    let mut carried = vec![0usize; n];
    for d in deploys.iter_mut() {
        if !d.succeeded {
            continue;
        }
        let Some(r) = d.revision.as_deref() else {
            continue;
        };
        let cs = &commits[d.service];
        let Some(k) = cs.iter().rposition(|c| c.1 == r) else {
            continue;
        };
        let from_i = carried[d.service];
        if k < from_i {
            continue;
        }
        d.lead_hours = cs[from_i..=k].iter().map(|c| hours(d.time - c.0)).collect();
        carried[d.service] = k + 1;
    }

    // Aggregate over the period.
    let in_period = |t: DateTime<Utc>| t >= from && t < to;
    let days = hours(to - from) / DAY;
    let week_of = |t: DateTime<Utc>| -> usize { ((t - week_start(from)).num_days() / 7) as usize };
    let weeks = if to > from {
        week_of(to - Duration::milliseconds(1)) + 1
    } else {
        0
    };
    let mut raw = vec![Raw::default(); n];
    let mut weekly = vec![Raw::default(); weeks];
    for (i, d) in deploys.iter().enumerate() {
        if !in_period(d.time) {
            continue;
        }
        for r in [&mut raw[d.service], &mut weekly[week_of(d.time)]] {
            r.deployments += 1;
            r.successful += d.succeeded as u64;
            r.failed += failed[i] as u64;
            r.lead_hours.extend_from_slice(&d.lead_hours);
        }
    }
    for (s, _, (start, end)) in &incidents {
        if !in_period(*start) {
            continue;
        }
        for r in [&mut raw[*s], &mut weekly[week_of(*start)]] {
            r.incidents += 1;
            if let Some(e) = end {
                r.restore_hours.push(hours(*e - *start));
            }
        }
    }

    let mut total = Raw::default();
    let mut teams: BTreeMap<String, Raw> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        total.add(&raw[i]);
        teams.entry(owners[*name].clone()).or_default().add(&raw[i]);
    }
    let mut distribution: Vec<Bucket> = LEAD_TIME_BUCKETS
        .iter()
        .map(|(_, l)| Bucket {
            label: (*l).into(),
            changes: 0,
        })
        .collect();
    for h in &total.lead_hours {
        let b = LEAD_TIME_BUCKETS
            .iter()
            .position(|(up, _)| *h < *up)
            .unwrap_or(LEAD_TIME_BUCKETS.len() - 1);
        distribution[b].changes += 1;
    }
    let first = week_start(from);
    let weekly = weekly
        .into_iter()
        .enumerate()
        .map(|(w, r)| {
            let start = first + Duration::days(7 * w as i64);
            let iso = start.iso_week();
            let k = r.keys(7.0);
            WeekRow {
                week: format!("{}-W{:02}", iso.year(), iso.week()),
                start: start.format("%Y-%m-%d").to_string(),
                deployments: k.deployments,
                failed_deployments: k.failed_deployments,
                lead_time_median_hours: k.lead_time_median_hours,
                incidents: k.incidents,
                time_to_restore_median_hours: k.time_to_restore_median_hours,
            }
        })
        .collect();
    Delivery {
        services: names
            .iter()
            .enumerate()
            .map(|(i, s)| ((*s).clone(), std::mem::take(&mut raw[i]).keys(days)))
            .collect(),
        teams: teams.into_iter().map(|(t, r)| (t, r.keys(days))).collect(),
        overall: total.keys(days),
        weekly,
        lead_time_distribution: distribution,
    }
}

/// Midnight of the Monday of `t`'s week.
fn week_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive() - Duration::days(t.weekday().num_days_from_monday() as i64);
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// What `insights` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InsightsReport {
    pub generated_at: String,
    pub period: Period,
    pub scope: Scope,
    /// The four keys of every service in scope together.
    pub four_keys: FourKeys,
    pub teams: Vec<TeamKeys>,
    pub services: Vec<ServiceKeys>,
    pub weekly: Vec<WeekRow>,
    pub lead_time_distribution: Vec<Bucket>,
    pub adoption: Adoption,
    pub drift: Drift,
    pub latches: Latches,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Period {
    pub from: String,
    pub to: String,
    pub days: f64,
}

/// The filters a report was made with (the principal's read scope always applies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scope {
    pub service: Option<String>,
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TeamKeys {
    pub team: String,
    pub services: u64,
    pub four_keys: FourKeys,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceKeys {
    pub service: String,
    pub owner: String,
    pub four_keys: FourKeys,
}

/// Who chooses the golden path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Adoption {
    /// Components in the catalog (the org directory's `Component` entities and the services idp
    /// created, which register themselves).
    pub catalog_components: u64,
    /// Of them, created or upgraded by a golden path.
    pub golden_path_components: u64,
    pub share: Option<f64>,
    /// Runs started in the period.
    pub runs: u64,
    /// By the face that started them: `cli`, `backstage`, `python`, `node`, `rust`, ...
    pub runs_by_face: BTreeMap<String, u64>,
    pub services_by_golden_path: BTreeMap<String, u64>,
}

/// How far services are behind their golden path's latest version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Drift {
    pub services: u64,
    pub behind: u64,
    pub by_team: Vec<TeamDrift>,
    pub services_behind: Vec<ServiceDrift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TeamDrift {
    pub team: String,
    pub services: u64,
    pub behind: u64,
    pub max_behind: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceDrift {
    pub service: String,
    pub owner: String,
    pub golden_path: String,
    pub version: String,
    pub latest: String,
    /// Released versions between the service's and the latest.
    pub behind: u64,
}

/// Escape latches in use: where teams stepped off the path, on purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Latches {
    /// Approved waivers that have not expired.
    pub active_waivers: Vec<ActiveWaiver>,
    /// Platform-managed files a team edited in its repos.
    pub managed_edits: Vec<ManagedEdits>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActiveWaiver {
    pub id: String,
    pub service: String,
    pub rule: String,
    pub environment: Option<String>,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ManagedEdits {
    pub service: String,
    /// `repo:path`
    pub files: Vec<String>,
}
