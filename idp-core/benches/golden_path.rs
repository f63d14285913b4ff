//! In-process golden path throughput: services per second through the whole golden path (four
//! steps, two repos, commits, state, audit) on the embedded default.
//!
//! Run: `cargo bench -p idp-core --bench golden_path`
//! (Whole-process timings beside `copier copy` are in bench/golden-path.sh.)

#[path = "common.rs"]
mod common;

use std::time::Instant;

use common::{pct, us};
use idp_core::ServiceRequest;
use idp_core::blocking::Platform;

fn main() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    let n = 200;
    let mut times = Vec::with_capacity(n);
    let t = Instant::now();
    for i in 0..n {
        let s = Instant::now();
        p.run_golden_path(
            &alice,
            &ServiceRequest::new(format!("svc-{i}"), "team-payments"),
        )
        .unwrap();
        times.push(s.elapsed());
    }
    let total = t.elapsed().as_secs_f64();
    times.sort();
    println!(
        "golden path in-process: {n} services in {total:.2} s = {:.1} services/s; per service p50 {:.1} ms, p99 {:.1} ms",
        n as f64 / total,
        us(pct(&times, 0.5)) / 1000.0,
        us(pct(&times, 0.99)) / 1000.0
    );
    let s = Instant::now();
    let m = 50;
    for i in 0..m {
        p.run_golden_path(
            &alice,
            &ServiceRequest::new(format!("svc-{i}"), "team-payments"),
        )
        .unwrap();
    }
    println!(
        "rerun (no-op) of an existing service: {:.1} ms each",
        s.elapsed().as_secs_f64() * 1000.0 / m as f64
    );
}
