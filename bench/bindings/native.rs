//! The native baseline of bench/bindings.sh: the same workload as python.py and node.mjs beside
//! it, through the Rust API a Rust embedder calls. Built as an example of idp-python (a crate
//! that already depends on idp-core) so that it shares the bindings' release build.
//!
//! Usage: native WORKSPACE SERVICES EXPLAIN_CALLS  (prints one JSON line)

use std::time::Instant;

use idp_core::ServiceRequest;
use idp_core::blocking::Platform;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, ws, n, calls] = &args[..] else {
        eprintln!("usage: native WORKSPACE SERVICES EXPLAIN_CALLS");
        std::process::exit(2);
    };
    let (n, calls): (usize, usize) = (n.parse().unwrap(), calls.parse().unwrap());
    let p = Platform::builtin(ws).unwrap();
    let who = p.principal("user:default/alice");
    let t = Instant::now();
    for i in 0..n {
        let req = ServiceRequest::new(format!("svc-{i}"), "team-payments");
        let r = p.run_golden_path(&who, &req).unwrap();
        assert_eq!(r.steps.len(), 4);
    }
    let golden_path_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..calls {
        p.explain(&who, "svc-0").unwrap();
    }
    let explain_s = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "face": "native",
            "services": n,
            "golden_path_s": golden_path_s,
            "explain_calls": calls,
            "explain_s": explain_s,
        })
    );
}
