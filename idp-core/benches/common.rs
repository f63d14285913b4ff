//! Shared helpers for the benchmarks: percentiles over individually timed iterations.
#![allow(dead_code)] // each bench uses a different subset

use std::time::{Duration, Instant};

/// Times `f` `n` times after `warmup` untimed calls; returns sorted durations.
pub fn sample(n: usize, warmup: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..warmup {
        f();
    }
    let mut out: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    out.sort();
    out
}

/// The `q`-quantile (0..=1) of sorted durations.
pub fn pct(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "meets goal" } else { "MISSES goal" }
}
