//! Upgrades, in process: one service with a real three-way merge (team edits in a merged YAML
//! file and a merged Dockerfile), and a fleet of N services upgraded in parallel.
//! Goal: a fleet of 1,000 services in under 10 s on 2 cores.
//! (Whole-process timings beside `copier update` are in bench/upgrade.sh.)
//!
//! Run: `cargo bench -p idp-core --bench upgrade` (IDP_BENCH_FLEET=N to change the fleet size)

#[path = "common.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use common::verdict;
use idp_core::ServiceRequest;
use idp_core::blocking::Platform;
use idp_core::platform::{FleetUpgradeRequest, UpgradeRequest, UpgradeStatus};
use idp_core::providers::{ChangeRequestSpec, Signature};

fn team_edit(p: &Platform, service: &str) {
    let read = |path: &str| {
        String::from_utf8(
            p.block_on(p.source_control().read_files(service, None, &[path.into()]))
                .unwrap()
                .unwrap()[0]
                .clone()
                .unwrap(),
        )
        .unwrap()
    };
    let catalog = read("catalog-info.yaml").replace(
        "    backstage.io/kubernetes-label-selector:",
        "    pagerduty.com/service-id: PX1234\n    backstage.io/kubernetes-label-selector:",
    );
    let docker = read("Dockerfile").replace("WORKDIR /build", "WORKDIR /src");
    let sig = Signature {
        name: "team".into(),
        email: "team@acme.example".into(),
    };
    p.block_on(p.source_control().submit(&ChangeRequestSpec {
        key: format!("team-{service}"),
        repo: service.into(),
        branch: "team/edits".into(),
        title: "team edits".into(),
        body: String::new(),
        files: vec![
            (
                "catalog-info.yaml".into(),
                Some(Arc::new(catalog.into_bytes())),
            ),
            ("Dockerfile".into(), Some(Arc::new(docker.into_bytes()))),
        ],
        author: sig.clone(),
        committer: sig,
        trailers: vec![],
        hold: false,
    }))
    .unwrap()
    .unwrap();
}

fn main() {
    let n: usize = std::env::var("IDP_BENCH_FLEET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    let pat = p.principal("pat");
    let t = Instant::now();
    for i in 0..=n {
        let s = format!("svc-{i:04}");
        let req = ServiceRequest {
            version: Some("1.0.0".into()),
            ..ServiceRequest::new(&s, "team-payments")
        };
        p.run_golden_path(&alice, &req).unwrap();
        team_edit(&p, &s);
    }
    println!(
        "setup: {} services at 1.0.0 with team edits in {:.1} s",
        n + 1,
        t.elapsed().as_secs_f64()
    );

    // One service, alone (its merge is real: both files have team edits next to 2.0.0 changes).
    // To 2.0.0, not the latest: one hop, as measured before 2.1.0 (the same files) existed.
    let t = Instant::now();
    let r = p
        .upgrade(
            &pat,
            &UpgradeRequest {
                service: format!("svc-{n:04}"),
                to: Some("2.0.0".into()),
                keep: false,
            },
            false,
        )
        .unwrap();
    let one = t.elapsed().as_secs_f64();
    assert_eq!(r.status, UpgradeStatus::Upgraded, "{:?}", r.conflicts);
    let merged = r
        .files
        .iter()
        .filter(|f| format!("{:?}", f.action) == "MergeClean")
        .count();
    println!(
        "one upgrade with {merged} three-way merged file(s): {:.1} ms",
        one * 1000.0
    );

    let t = Instant::now();
    let report = p
        .upgrade_fleet(
            &pat,
            &FleetUpgradeRequest {
                to: Some("2.0.0".into()),
                ..Default::default()
            },
            false,
        )
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(
        report.failed,
        0,
        "{:?}",
        report.rows.iter().find(|r| r.error.is_some())
    );
    println!(
        "fleet: {} upgraded, {} conflicts, {} already up to date in {:.2} s ({:.1} ms/service, {} threads)",
        report.upgraded,
        report.conflicts,
        report.up_to_date,
        secs,
        secs * 1000.0 / n as f64,
        std::thread::available_parallelism()
            .map(|x| x.get())
            .unwrap_or(1)
    );
    if n >= 1000 {
        println!(
            "goal: 1,000 services in under 10 s: {}",
            verdict(secs * 1000.0 / n as f64 <= 10.0)
        );
    }
}
