//! Insights over a synthetic history: a few hundred services, thousands of deployments,
//! commits and incidents, ingested as the webhook payloads Argo CD, Alertmanager and GitHub
//! send. The generator keeps its own books (which commits each deployment carries, which
//! deployments failed and why, how long each incident lasted), and the test compares the
//! report with the figures computed from those books.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use idp_core::insights::{Band, FourKeys, InsightsReport};
use idp_core::platform::insights::{IngestRequest, InsightsQuery};
use idp_core::state::{MemoryStateStore, ServiceRecord, StateStore};
use idp_core::{ErrorKind, Platform, Principal};
use serde_json::{Value, json};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::minutes(lo + self.below((hi - lo) as u64) as i64)
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What the generator knows happened in the period, per service.
#[derive(Default, Clone)]
struct Books {
    deployments: u64,
    successful: u64,
    failed: u64,
    lead_hours: Vec<f64>,
    incidents: u64,
    restore_hours: Vec<f64>,
}

impl Books {
    fn add(&mut self, o: &Books) {
        self.deployments += o.deployments;
        self.successful += o.successful;
        self.failed += o.failed;
        self.lead_hours.extend_from_slice(&o.lead_hours);
        self.incidents += o.incidents;
        self.restore_hours.extend_from_slice(&o.restore_hours);
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-6, "{what}: {x} != {y}"),
        _ => panic!("{what}: {a:?} != {b:?}"),
    }
}

fn compare(k: &FourKeys, b: &Books, days: f64, what: &str) {
    assert_eq!(k.deployments, b.deployments, "{what}: deployments");
    assert_eq!(k.successful_deployments, b.successful, "{what}: successful");
    assert_eq!(k.failed_deployments, b.failed, "{what}: failed");
    assert_eq!(k.changes, b.lead_hours.len() as u64, "{what}: changes");
    assert_eq!(k.incidents, b.incidents, "{what}: incidents");
    assert_eq!(k.restored, b.restore_hours.len() as u64, "{what}: restored");
    close(
        Some(k.deploys_per_day),
        Some(b.successful as f64 / days),
        &format!("{what}: frequency"),
    );
    close(
        k.lead_time_median_hours,
        median(b.lead_hours.clone()),
        &format!("{what}: lead time"),
    );
    close(
        k.change_failure_rate,
        (b.deployments > 0).then(|| b.failed as f64 / b.deployments as f64),
        &format!("{what}: failure rate"),
    );
    close(
        k.time_to_restore_median_hours,
        median(b.restore_hours.clone()),
        &format!("{what}: time to restore"),
    );
}

struct History {
    pushes: Vec<Value>,
    syncs: Vec<Value>,
    alerts: Vec<Value>,
    books: BTreeMap<String, Books>,
    owners: BTreeMap<String, String>,
}

const FROM: &str = "2026-09-01T00:00:00Z";
const TO: &str = "2026-11-30T00:00:00Z";

fn argo(
    service: &str,
    env: &str,
    rev: &str,
    gitops: &str,
    phase: &str,
    at: DateTime<Utc>,
) -> Value {
    json!({"app": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": format!("{service}-{env}"), "namespace": "argocd",
            "labels": {"app.kubernetes.io/name": service, "env": env, "app.kubernetes.io/managed-by": "idp"}},
        "status": {"sync": {"status": "Synced", "revision": gitops},
            "summary": {"images": [format!("ghcr.io/acme/team/{service}:sha-{rev}")]},
            "operationState": {"phase": phase, "finishedAt": text(at), "syncResult": {"revision": gitops}}}}})
}

fn alert(service: &str, name: &str, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Value {
    json!({"version": "4", "status": if end.is_some() { "resolved" } else { "firing" }, "receiver": "idp",
        "groupKey": "{}:{}", "alerts": [{
            "status": if end.is_some() { "resolved" } else { "firing" },
            "labels": {"alertname": name, "service": service, "env": "prod", "slo": "availability",
                "severity": "page", "team": "x"},
            "startsAt": text(start),
            "endsAt": end.map(text).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "fingerprint": format!("{service}-{name}")}]})
}

/// `services` services, each with a history from August (before the period) to the period's
/// end: batches of commits, deployments to prod (some failing, some rolled back, some followed
/// by an incident of one or two overlapping alerts), and staging deployments that never count.
fn history(services: usize, seed: u64) -> History {
    let mut r = Rng(seed);
    let (from, to) = (t(FROM), t(TO));
    let mut h = History {
        pushes: Vec::new(),
        syncs: Vec::new(),
        alerts: Vec::new(),
        books: BTreeMap::new(),
        owners: BTreeMap::new(),
    };
    let mut gitops = 0u64;
    for i in 0..services {
        let svc = format!("svc-{i:03}");
        h.owners.insert(svc.clone(), format!("team-{}", i % 7));
        let mut books = Books::default();
        let mut now = t("2026-08-01T00:00:00Z") + r.minutes(0, 60 * 24 * 10);
        let mut pending: Vec<(String, DateTime<Utc>)> = Vec::new();
        let mut deployed: Vec<String> = Vec::new(); // successful revisions, in order
        let mut n_commit = 0;
        let mut last_incident_open = false;
        while now < to && !last_incident_open {
            // A batch of commits, pushed to main in one or two pushes.
            let m = 1 + r.below(4) as usize;
            let mut commits = Vec::new();
            for _ in 0..m {
                now += r.minutes(5, 60 * 30);
                n_commit += 1;
                let sha = format!("{i:03}c{n_commit:05}");
                commits.push(json!({"id": sha, "timestamp": text(now)}));
                pending.push((sha, now));
            }
            h.pushes.push(json!({"ref": "refs/heads/main",
                "repository": {"name": svc, "default_branch": "main"}, "commits": commits}));
            if r.chance(20) {
                // A push to a branch: never counted.
                h.pushes.push(json!({"ref": "refs/heads/feature", "repository": {"name": svc, "default_branch": "main"},
                    "commits": [{"id": format!("{i:03}f{n_commit}"), "timestamp": text(now)}]}));
            }
            now += r.minutes(10, 60 * 48);
            if now >= to {
                break;
            }
            let in_period = now >= from;
            let rev = pending.last().unwrap().0.clone();
            gitops += 1;
            // Staging first (never counted).
            h.syncs.push(argo(
                &svc,
                "staging",
                &rev,
                &format!("g{gitops}s"),
                "Succeeded",
                now - Duration::minutes(3),
            ));
            if r.chance(8) {
                // The sync fails: a failed deployment that carries nothing.
                h.syncs.push(argo(
                    &svc,
                    "prod",
                    &rev,
                    &format!("g{gitops}"),
                    "Failed",
                    now,
                ));
                if in_period {
                    books.deployments += 1;
                    books.failed += 1;
                }
                now += r.minutes(30, 60 * 6);
                continue;
            }
            // A successful deployment (reported twice by Argo CD: one deployment).
            h.syncs.push(argo(
                &svc,
                "prod",
                &rev,
                &format!("g{gitops}"),
                "Succeeded",
                now,
            ));
            if r.chance(10) {
                h.syncs.push(argo(
                    &svc,
                    "prod",
                    &rev,
                    &format!("g{gitops}"),
                    "Succeeded",
                    now + Duration::seconds(40),
                ));
            }
            let deployed_at = now;
            let mut failed = false;
            if in_period {
                books.deployments += 1;
                books.successful += 1;
                for (_, c) in &pending {
                    books.lead_hours.push(hours(deployed_at - *c));
                }
            }
            pending.clear();
            let previous = deployed.last().cloned();
            deployed.push(rev.clone());
            let next_gap = r.minutes(60 * 4, 60 * 24 * 4);
            if r.chance(10) {
                // An incident: one or two overlapping page alerts, within the gap.
                let start = deployed_at + r.minutes(1, 60);
                let d = r.minutes(5, (hours(next_gap) * 60.0 / 3.0) as i64);
                let open = now + next_gap > to - Duration::days(2) && r.chance(50);
                let end = (!open).then(|| start + d);
                // Alertmanager notifies when an alert fires, and again when it resolves.
                h.alerts
                    .push(alert(&svc, "ErrorBudgetFastBurn", start, None));
                h.alerts
                    .push(alert(&svc, "ErrorBudgetFastBurn", start, end));
                let mut last_end = end;
                if r.chance(50) {
                    let s2 = start + d / 3;
                    let e2 = end.map(|e| e + d / 2);
                    h.alerts.push(alert(&svc, "ErrorBudgetSlowBurn", s2, None));
                    h.alerts.push(alert(&svc, "ErrorBudgetSlowBurn", s2, e2));
                    last_end = e2;
                }
                // What is known at the period's end: an incident after it is not, nor is a
                // restore after it.
                failed = start < to;
                if start >= from && start < to {
                    books.incidents += 1;
                    if let Some(e) = last_end.filter(|e| *e < to) {
                        books.restore_hours.push(hours(e - start));
                    }
                }
                last_incident_open = open;
            } else if let Some(prev) = previous.filter(|p| *p != rev && r.chance(6)) {
                // Rolled back to the previous revision: this deployment failed.
                now += r.minutes(10, 120);
                if now < to {
                    gitops += 1;
                    h.syncs.push(argo(
                        &svc,
                        "prod",
                        &prev,
                        &format!("g{gitops}"),
                        "Succeeded",
                        now,
                    ));
                    failed = true;
                    if now >= from {
                        books.deployments += 1;
                        books.successful += 1;
                    }
                    deployed.push(prev);
                }
            }
            if failed && deployed_at >= from {
                books.failed += 1;
            }
            now += next_gap;
        }
        h.books.insert(svc, books);
    }
    h
}

fn period_days() -> f64 {
    hours(t(TO) - t(FROM)) / 24.0
}

async fn platform(owners: &BTreeMap<String, String>) -> (tempfile::TempDir, Platform) {
    let ws = tempfile::tempdir().unwrap();
    let state = MemoryStateStore::new();
    for (name, owner) in owners {
        state
            .put_service(&ServiceRecord {
                name: name.clone(),
                owner: owner.clone(),
                golden_path: "python-fastapi-service".into(),
                version: if name.ends_with('3') {
                    "1.0.0"
                } else {
                    "2.1.0"
                }
                .into(),
                parameters: json!({}),
                environments: json!({}),
                created_at: "2026-08-01T00:00:00.000Z".into(),
                updated_at: "2026-08-01T00:00:00.000Z".into(),
            })
            .await
            .unwrap();
    }
    let p = Platform::builder()
        .workspace(ws.path())
        .state(Arc::new(state))
        .clock(Arc::new(
            idp_core::time::FixedClock::at("2026-11-30T12:00:00Z").unwrap(),
        ))
        .build()
        .await
        .unwrap();
    (ws, p)
}

fn admin() -> Principal {
    Principal::new(
        "user:default/pat",
        vec!["group:default/platform-team".into()],
    )
}

async fn ingest(p: &Platform, source: &str, payloads: &[Value]) -> u64 {
    let mut recorded = 0;
    for chunk in payloads.chunks(500) {
        let r = p
            .ingest_events(
                &admin(),
                &IngestRequest {
                    source: source.into(),
                    payload: Value::Array(chunk.to_vec()),
                },
            )
            .await
            .unwrap();
        recorded += r.recorded;
    }
    recorded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_four_keys_match_the_books_of_a_synthetic_history() {
    let h = history(300, 0x1d9_2026);
    let (_ws, p) = platform(&h.owners).await;
    ingest(&p, "github", &h.pushes).await;
    ingest(&p, "argocd", &h.syncs).await;
    ingest(&p, "alertmanager", &h.alerts).await;
    // The same payloads again record nothing.
    assert_eq!(ingest(&p, "argocd", &h.syncs[..200]).await, 0);

    let q = InsightsQuery {
        since: Some(FROM.into()),
        until: Some("2026-11-30".into()),
        ..Default::default()
    };
    let report: InsightsReport = p.insights(&admin(), &q).await.unwrap();
    let days = period_days();
    let mut total = Books::default();
    let mut teams: BTreeMap<String, Books> = BTreeMap::new();
    for (svc, b) in &h.books {
        total.add(b);
        teams.entry(h.owners[svc].clone()).or_default().add(b);
    }
    // The history is big enough to mean something.
    assert!(total.deployments > 2000, "{}", total.deployments);
    assert!(
        total.incidents > 150 && total.failed > 300,
        "{} {}",
        total.incidents,
        total.failed
    );
    assert!(
        total.restore_hours.len() < total.incidents as usize,
        "some incidents stay open"
    );
    assert_eq!(report.services.len(), 300);
    for s in &report.services {
        compare(&s.four_keys, &h.books[&s.service], days, &s.service);
    }
    compare(&report.four_keys, &total, days, "overall");
    assert_eq!(report.teams.len(), 7);
    for tk in &report.teams {
        compare(&tk.four_keys, &teams[&tk.team], days, &tk.team);
        assert_eq!(
            tk.services,
            h.owners.values().filter(|o| **o == tk.team).count() as u64
        );
    }
    // Weeks add up to the period, and buckets to the changes.
    let weekly_deploys: u64 = report.weekly.iter().map(|w| w.deployments).sum();
    let weekly_failed: u64 = report.weekly.iter().map(|w| w.failed_deployments).sum();
    let weekly_incidents: u64 = report.weekly.iter().map(|w| w.incidents).sum();
    assert_eq!(weekly_deploys, total.deployments);
    assert_eq!(weekly_failed, total.failed);
    assert_eq!(weekly_incidents, total.incidents);
    assert_eq!(report.weekly.len(), 13, "Mon 31 Aug .. Sun 29 Nov");
    assert_eq!(report.weekly[0].week, "2026-W36");
    let bucketed: u64 = report
        .lead_time_distribution
        .iter()
        .map(|b| b.changes)
        .sum();
    assert_eq!(bucketed, total.lead_hours.len() as u64);
    let under_an_hour = total.lead_hours.iter().filter(|h| **h < 1.0).count() as u64;
    assert_eq!(report.lead_time_distribution[0].changes, under_an_hour);

    // One team, and one service.
    let team = p
        .insights(
            &admin(),
            &InsightsQuery {
                team: Some("team-3".into()),
                ..q.clone()
            },
        )
        .await
        .unwrap();
    compare(&team.four_keys, &teams["team-3"], days, "team-3 alone");
    assert!(team.services.iter().all(|s| s.owner == "team-3"));
    let one = p
        .insights(
            &admin(),
            &InsightsQuery {
                service: Some("svc-042".into()),
                ..q.clone()
            },
        )
        .await
        .unwrap();
    compare(&one.four_keys, &h.books["svc-042"], days, "svc-042 alone");
    assert_eq!(one.services.len(), 1);

    // Drift from the state store: every service whose name ends in 3 is on 1.0.0.
    let behind = h.owners.keys().filter(|s| s.ends_with('3')).count() as u64;
    assert_eq!(report.drift.behind, behind);
    assert_eq!(report.drift.services, 300);
    assert!(
        report
            .drift
            .services_behind
            .iter()
            .all(|d| d.version == "1.0.0" && d.behind == 2)
    );
    assert_eq!(report.adoption.golden_path_components, 300);
}

#[test]
fn bands_follow_doras_thresholds() {
    assert_eq!(Band::deployment_frequency(3.0), Band::Elite);
    assert_eq!(Band::deployment_frequency(1.0 / 3.0), Band::High);
    assert_eq!(Band::deployment_frequency(1.0 / 10.0), Band::Medium);
    assert_eq!(Band::deployment_frequency(1.0 / 60.0), Band::Low);
    assert_eq!(Band::lead_time(23.0), Band::Elite);
    assert_eq!(Band::lead_time(24.0 * 6.0), Band::High);
    assert_eq!(Band::lead_time(24.0 * 20.0), Band::Medium);
    assert_eq!(Band::lead_time(24.0 * 40.0), Band::Low);
    assert_eq!(Band::change_failure_rate(0.05), Band::Elite);
    assert_eq!(Band::change_failure_rate(0.08), Band::High);
    assert_eq!(Band::change_failure_rate(0.15), Band::Medium);
    assert_eq!(Band::change_failure_rate(0.4), Band::Low);
    assert_eq!(Band::time_to_restore(0.5), Band::Elite);
    assert_eq!(Band::time_to_restore(5.0), Band::High);
    assert_eq!(Band::time_to_restore(48.0), Band::Medium);
    assert_eq!(Band::time_to_restore(24.0 * 9.0), Band::Low);
}

#[tokio::test]
async fn events_of_other_teams_services_are_refused_and_nothing_is_recorded() {
    let owners: BTreeMap<String, String> = [
        ("payments-api".to_string(), "team-payments".to_string()),
        ("search-api".to_string(), "team-search".to_string()),
    ]
    .into();
    let (_ws, p) = platform(&owners).await;
    let alice = Principal::new(
        "user:default/alice",
        vec!["group:default/team-payments".into()],
    );
    let at = t("2026-11-20T10:00:00Z");
    let own = argo("payments-api", "prod", "c1", "g1", "Succeeded", at);
    let other = argo("search-api", "prod", "c2", "g2", "Succeeded", at);
    let unknown = argo("nobody-api", "prod", "c3", "g3", "Succeeded", at);
    let r = p
        .ingest_events(
            &alice,
            &IngestRequest {
                source: "argocd".into(),
                payload: json!([own.clone(), unknown]),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (r.received, r.recorded, r.skipped_count),
        (1, 1, 1),
        "{r:?}"
    );
    let e = p
        .ingest_events(
            &alice,
            &IngestRequest {
                source: "argocd".into(),
                payload: json!([other, own]),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(e.to_string().contains("search-api"), "{e}");
    let report = p
        .insights(&admin(), &InsightsQuery::default())
        .await
        .unwrap();
    assert_eq!(
        report.four_keys.deployments, 1,
        "the refused payload recorded nothing"
    );
    // Alice reads only her team's services.
    let hers = p.insights(&alice, &InsightsQuery::default()).await.unwrap();
    assert_eq!(hers.services.len(), 1);
    let denied = p
        .insights(
            &alice,
            &InsightsQuery {
                service: Some("search-api".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Denied);
    // Bad input: a typed error, nothing recorded.
    for (source, payload) in [
        ("jenkins", json!({})),
        (
            "argocd",
            json!({"kind": "Deployment", "metadata": {"name": "x"}}),
        ),
        ("alertmanager", json!({"version": "4"})),
        (
            "github",
            json!([{"ref": "refs/heads/main", "repository": {"name": "payments-api"},
            "commits": [{"id": "c", "timestamp": "{{ now }}"}]}]),
        ),
        (
            "github",
            json!({"ref": "refs/heads/main", "repository": {"name": "payments-api"},
            "commits": [{"id": "{{ 7 * 7 }}", "timestamp": "2026-11-20T10:00:00Z"}]}),
        ),
        ("argocd", {
            let mut a = argo("payments-api", "prod", "c9", "g9", "Succeeded", at);
            a["app"]["metadata"]["labels"]["env"] = json!("x".repeat(5000));
            a
        }),
    ] {
        let e = p
            .ingest_events(
                &alice,
                &IngestRequest {
                    source: source.into(),
                    payload,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{source}: {e}");
    }
    assert_eq!(
        p.state().list_events(None).await.unwrap().len(),
        1,
        "a refused payload recorded nothing"
    );
    // A period that is not a time, and one of centuries (a report has a row per week).
    for (since, says) in [("last tuesday", "RFC 3339"), ("0001-01-01", "five years")] {
        let q = InsightsQuery {
            since: Some(since.into()),
            ..Default::default()
        };
        let e = p.insights(&admin(), &q).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains(says), "{e}");
    }
    let audit = p
        .audit_list(&admin(), &idp_core::audit::AuditFilter::default())
        .await
        .unwrap();
    let ingests: Vec<_> = audit
        .iter()
        .filter(|r| r.event.operation == "ingest_events")
        .collect();
    assert_eq!(ingests.len(), 2, "one allowed, one denied");
    assert_eq!(ingests[1].event.decision, "deny");
}

fn deploy(
    id: &str,
    source: &str,
    env: &str,
    rev: &str,
    gitops: &str,
    outcome: &str,
    at: &str,
) -> idp_core::insights::DeliveryEvent {
    idp_core::insights::DeliveryEvent {
        id: id.into(),
        kind: idp_core::insights::EventKind::Deployment,
        source: source.into(),
        service: "payments-api".into(),
        environment: Some(env.into()),
        time: format!("2026-11-20T{at}:00.000Z"),
        revision: Some(rev.into()),
        gitops_revision: Some(gitops.into()),
        outcome: Some(outcome.into()),
        alert: None,
        started_at: None,
    }
}

fn keys_of(events: &[idp_core::insights::DeliveryEvent]) -> FourKeys {
    let mut events = events.to_vec();
    events.push(idp_core::insights::DeliveryEvent {
        id: "commit-c1".into(),
        kind: idp_core::insights::EventKind::Commit,
        source: "github".into(),
        service: "payments-api".into(),
        environment: None,
        time: "2026-11-20T08:00:00.000Z".into(),
        revision: Some("c1".into()),
        gitops_revision: None,
        outcome: None,
        alert: None,
        started_at: None,
    });
    let owners = [("payments-api".to_string(), "team-payments".to_string())].into();
    let prod = ["prod".to_string()].into();
    idp_core::insights::four_keys(
        &events,
        &owners,
        &prod,
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
    )
    .overall
}

#[test]
fn repeated_reports_retries_and_rollbacks_are_told_apart() {
    // Argo CD notifying one sync twice: one deployment.
    let k = keys_of(&[
        deploy("a", "argocd", "prod", "c1", "g1", "succeeded", "10:00"),
        deploy("b", "argocd", "prod", "c1", "g1", "succeeded", "10:01"),
    ]);
    assert_eq!((k.deployments, k.failed_deployments, k.changes), (1, 0, 1));
    // A failed sync retried with the same revision: two deployments, one failed, and the commit
    // reached production with the retry (lead time 4 h, not 2).
    let k = keys_of(&[
        deploy("a", "argocd", "prod", "c1", "g1", "failed", "10:00"),
        deploy("b", "argocd", "prod", "c1", "g1", "succeeded", "12:00"),
    ]);
    assert_eq!((k.deployments, k.failed_deployments), (2, 1));
    assert_eq!(k.lead_time_median_hours, Some(4.0));
    // A rollback to an older GitOps revision: a deployment of its own, and the one it undid
    // failed.
    let k = keys_of(&[
        deploy("a", "argocd", "prod", "c0", "g0", "succeeded", "09:00"),
        deploy("b", "argocd", "prod", "c1", "g1", "succeeded", "10:00"),
        deploy("c", "argocd", "prod", "c0", "g0", "succeeded", "11:00"),
    ]);
    assert_eq!((k.deployments, k.failed_deployments), (3, 1));
    // idp's own merge counts where no reporter reports on the environment, and not where one
    // does (Argo CD's report is the deployment there, with its outcome).
    let k = keys_of(&[deploy("i", "idp", "prod", "c1", "m1", "succeeded", "10:00")]);
    assert_eq!((k.deployments, k.failed_deployments), (1, 0));
    let k = keys_of(&[
        deploy("i", "idp", "prod", "c1", "m1", "succeeded", "10:00"),
        deploy("a", "argocd", "prod", "c1", "g7", "failed", "10:02"),
    ]);
    assert_eq!((k.deployments, k.failed_deployments), (1, 1));
    // Deployments to other environments never count.
    let k = keys_of(&[deploy(
        "s",
        "argocd",
        "staging",
        "c1",
        "g1",
        "succeeded",
        "10:00",
    )]);
    assert_eq!(k.deployments, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idps_own_gitops_merges_are_deployments_of_the_environments_argo_cd_syncs_itself() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builder()
        .workspace(ws.path())
        .clock(Arc::new(
            idp_core::time::FixedClock::at("2026-11-20T10:00:00Z").unwrap(),
        ))
        .build()
        .await
        .unwrap();
    let alice = Principal::new(
        "user:default/alice",
        vec!["group:default/team-payments".into()],
    );
    let mut req = idp_core::ServiceRequest::new("payments-api", "team-payments");
    req.parameters
        .insert("image_tag".into(), json!("sha-0123abcd"));
    let receipt = p.run_golden_path(&alice, &req).await.unwrap();
    // provision_gitops and attach_observability each merge one change into the GitOps repo.
    let merges: Vec<String> = receipt
        .steps
        .iter()
        .filter_map(|s| s.change_request.as_ref())
        .filter(|c| c.repo == "gitops")
        .map(|c| c.commit.clone())
        .collect();
    assert_eq!(merges.len(), 2);
    let events = p.state().list_events(None).await.unwrap();
    let mut deployed: Vec<(String, String)> = events
        .iter()
        .filter(|e| e.kind == idp_core::insights::EventKind::Deployment && e.source == "idp")
        .map(|e| {
            (
                e.environment.clone().unwrap(),
                e.gitops_revision.clone().unwrap(),
            )
        })
        .collect();
    deployed.sort();
    // prod is protected: Argo CD syncs it by hand, and reports it.
    let mut want: Vec<(String, String)> = ["dev", "staging"]
        .iter()
        .flat_map(|env| merges.iter().map(|m| (env.to_string(), m.clone())))
        .collect();
    want.sort();
    assert_eq!(deployed, want, "{events:?}");
    for e in &events {
        assert_eq!(e.revision.as_deref(), Some("0123abcd"));
        assert_eq!(e.time, "2026-11-20T10:00:00.000Z");
    }
    // The same request again changes nothing, and records no deployment.
    p.run_golden_path(&alice, &req).await.unwrap();
    assert_eq!(
        p.state().list_events(None).await.unwrap().len(),
        events.len()
    );
}
