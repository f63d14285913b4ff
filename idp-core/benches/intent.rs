//! Intent resolution and rendering, in process: an intent resolved against the whole catalog
//! (every candidate checked and explained, every input's provenance) and rendered to canonical
//! HCL or a Crossplane claim checked against its XRD. Goal: >= 10,000 intents/s.
//!
//! Run: `cargo bench -p idp-core --bench intent`

#[path = "common.rs"]
mod common;

use std::time::Instant;

use common::verdict;
use idp_core::blocking::Platform;
use idp_core::intent::{Intent, render::render_resolution, resolve};

fn main() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let def = p.definition();
    let team = def.directory.team("team-payments").unwrap();
    let intents: Vec<Intent> = [
        "bucket:logs",
        "bucket:data",
        "postgres",
        "queue:events",
        "cache",
    ]
    .iter()
    .map(|s| Intent::parse_short(s).unwrap())
    .collect();
    let labels = serde_json::json!({"app.kubernetes.io/name": "svc", "team": "team-payments"});
    let mut n = 0usize;
    let mut bytes = 0usize;
    let t = Instant::now();
    for round in 0..4000 {
        for i in &intents {
            for env in &def.config.environments {
                let r = resolve(
                    &def.catalog,
                    &def.config,
                    team,
                    &format!("svc-{}", round % 50),
                    i,
                    env,
                )
                .unwrap();
                let m = def
                    .catalog
                    .modules
                    .iter()
                    .find(|m| m.def.name == r.module)
                    .unwrap();
                bytes += render_resolution(&r, m, "team-payments-dev", &labels)
                    .unwrap()
                    .len();
                n += 1;
            }
        }
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "resolve + render: {n} intents in {:.2} s = {rate:.0} intents/s ({:.1} us each, {} bytes rendered)",
        t.elapsed().as_secs_f64(),
        1e6 / rate,
        bytes
    );
    println!("goal: >= 10,000 intents/s: {}", verdict(rate >= 10_000.0));
}
