//! Insights benchmark: `Platform::insights` over 1,000 services and 100,000 delivery events in
//! the embedded SQLite state store (commits, production and staging deployments, SLO alerts over
//! 90 days), end to end: the read scope (one policy decision per service), loading the events,
//! the four keys per service, team and week, adoption, drift and latches.
//! Goal: under 1 s.
//!
//! Run: `cargo bench -p idp-core --bench insights`

#[path = "common.rs"]
mod common;

use std::sync::Arc;

use common::{pct, sample, verdict};
use idp_core::insights::{DeliveryEvent, EventKind};
use idp_core::platform::insights::InsightsQuery;
use idp_core::state::{ServiceRecord, SqliteStateStore, StateStore};
use idp_core::{Platform, Principal};

const SERVICES: usize = 1_000;
const EVENTS: usize = 100_000;

/// Minutes between one service's events: 100 per service spread over the 90 days.
const STEP: i64 = 90 * 24 * 60 / 100;

fn at(m: i64) -> String {
    idp_core::time::rfc3339(
        chrono::DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
            + chrono::Duration::minutes(m),
    )
}

fn event(i: usize) -> DeliveryEvent {
    // Per service, cycles of five events: two commits, a staging and a prod deployment of the
    // second; the fifth fires an SLO page alert in even cycles and resolves it 45 minutes later
    // in odd ones (an incident every other cycle: 10 per service).
    let svc = i % SERVICES;
    let n = i / SERVICES;
    let minute = n as i64 * STEP + svc as i64 % 60;
    let cycle = n / 5;
    let base = DeliveryEvent {
        id: format!("e{i}"),
        kind: EventKind::Commit,
        source: "github".into(),
        service: format!("svc-{svc:04}"),
        environment: None,
        time: at(minute),
        revision: Some(format!("c{svc}-{}", n - n % 5 + 1)),
        gitops_revision: None,
        outcome: None,
        alert: None,
        started_at: None,
    };
    match n % 5 {
        0 | 1 => DeliveryEvent {
            revision: Some(format!("c{svc}-{n}")),
            ..base
        },
        2 | 3 => DeliveryEvent {
            kind: EventKind::Deployment,
            source: "argocd".into(),
            environment: Some(if n % 5 == 2 { "staging" } else { "prod" }.into()),
            gitops_revision: Some(format!("g{i}")),
            outcome: Some(
                if cycle % 13 == 7 {
                    "failed"
                } else {
                    "succeeded"
                }
                .into(),
            ),
            ..base
        },
        _ => {
            let fired = if cycle.is_multiple_of(2) {
                minute
            } else {
                minute - 5 * STEP
            };
            DeliveryEvent {
                kind: if cycle.is_multiple_of(2) {
                    EventKind::AlertFiring
                } else {
                    EventKind::AlertResolved
                },
                source: "alertmanager".into(),
                environment: Some("prod".into()),
                time: at(if cycle.is_multiple_of(2) {
                    fired
                } else {
                    fired + 45
                }),
                alert: Some(format!("ErrorBudgetFastBurn:{svc}-{}", cycle / 2)),
                started_at: Some(at(fired)),
                ..base
            }
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let state = Arc::new(SqliteStateStore::open(&ws.path().join("state.db")).unwrap());
    let p = rt.block_on(async {
        for i in 0..SERVICES {
            state
                .put_service(&ServiceRecord {
                    name: format!("svc-{i:04}"),
                    owner: format!("team-{}", i % 40),
                    golden_path: "python-fastapi-service".into(),
                    version: if i % 4 == 0 { "1.0.0" } else { "2.1.0" }.into(),
                    parameters: serde_json::json!({}),
                    environments: serde_json::json!({}),
                    created_at: "2026-08-01T00:00:00.000Z".into(),
                    updated_at: "2026-08-01T00:00:00.000Z".into(),
                })
                .await
                .unwrap();
        }
        let events: Vec<DeliveryEvent> = (0..EVENTS).map(event).collect();
        for chunk in events.chunks(10_000) {
            state.put_events(chunk).await.unwrap();
        }
        Platform::builder()
            .workspace(ws.path())
            .state(state.clone())
            .clock(Arc::new(
                idp_core::time::FixedClock::at("2026-11-30T00:00:00Z").unwrap(),
            ))
            .build()
            .await
            .unwrap()
    });
    let admin = Principal::new(
        "user:default/pat",
        vec!["group:default/platform-team".into()],
    );
    let q = InsightsQuery::default();
    let r = rt.block_on(p.insights(&admin, &q)).unwrap();
    println!(
        "insights over {} services, {EVENTS} events: {} prod deployments, {} changes, {} incidents ({} restored), {} services behind",
        r.services.len(),
        r.four_keys.deployments,
        r.four_keys.changes,
        r.four_keys.incidents,
        r.four_keys.restored,
        r.drift.behind
    );
    let times = sample(10, 1, || {
        std::hint::black_box(rt.block_on(p.insights(&admin, &q)).unwrap());
    });
    let (p50, max) = (pct(&times, 0.5), pct(&times, 1.0));
    println!(
        "insights: p50 {:.0} ms, max {:.0} ms (goal < 1000 ms: {})",
        p50.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        verdict(p50.as_secs_f64() < 1.0)
    );
    let events = rt.block_on(state.list_events(None)).unwrap();
    let owners: std::collections::BTreeMap<String, String> = (0..SERVICES)
        .map(|i| (format!("svc-{i:04}"), format!("team-{}", i % 40)))
        .collect();
    let prod = ["prod".to_string()].into();
    let from = chrono::DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let to = from + chrono::Duration::days(90);
    let times = sample(10, 1, || {
        std::hint::black_box(idp_core::insights::four_keys(
            &events, &owners, &prod, from, to,
        ));
    });
    let load = sample(10, 1, || {
        std::hint::black_box(rt.block_on(state.list_events(None)).unwrap());
    });
    println!(
        "  of which: loading {EVENTS} events p50 {:.0} ms; the four keys p50 {:.0} ms",
        pct(&load, 0.5).as_secs_f64() * 1e3,
        pct(&times, 0.5).as_secs_f64() * 1e3
    );
}
