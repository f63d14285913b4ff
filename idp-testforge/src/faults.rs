//! Fault injection, the primary rate limit and request counts.
//!
//! `POST /_forge/faults` with a JSON list of [`Fault`]s queues them; each matching request takes
//! one (in order) until its `count` is used up. `DELETE /_forge/faults` clears them.
//! `GET /_forge/stats` counts requests by method and route; `DELETE /_forge/stats` resets.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::{Config, JsonBody, Shared, error};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (5xx, or 429/403 with `retry_after`) without doing anything.
    Status,
    /// Close the connection before the request takes effect.
    DropBefore,
    /// Do the request, then close the connection: the client cannot know it took effect.
    DropAfter,
    /// Wait `latency_ms` before handling.
    Latency,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// Only requests whose path contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only requests with this method.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub status: Option<u16>,
    /// Seconds, sent as `Retry-After`.
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

pub struct Faults {
    queue: Mutex<Vec<Fault>>,
    stats: Mutex<BTreeMap<String, u64>>,
    statuses: Mutex<BTreeMap<u16, u64>>,
    limit: Option<u64>,
    window: Duration,
    latency: Duration,
    used: Mutex<HashMap<String, (Instant, SystemTime, u64)>>,
}

impl Faults {
    pub fn new(cfg: &Config) -> Faults {
        Faults {
            queue: Mutex::new(Vec::new()),
            stats: Mutex::new(BTreeMap::new()),
            statuses: Mutex::new(BTreeMap::new()),
            limit: cfg.rate_limit,
            window: Duration::from_secs(cfg.rate_window_secs.max(1)),
            latency: Duration::from_millis(cfg.latency_ms),
            used: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut q = self.queue.lock().unwrap();
        let i = q.iter().position(|f| {
            f.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let f = q[i].clone();
        q[i].count -= 1;
        if q[i].count == 0 {
            q.remove(i);
        }
        Some(f)
    }

    /// `(limit, remaining, reset epoch seconds, exceeded)` after counting one request by
    /// `login`.
    fn count(&self, login: &str) -> Option<(u64, u64, u64, bool)> {
        let limit = self.limit?;
        let mut used = self.used.lock().unwrap();
        let e = used
            .entry(login.to_string())
            .or_insert((Instant::now(), SystemTime::now(), 0));
        if e.0.elapsed() >= self.window {
            *e = (Instant::now(), SystemTime::now(), 0);
        }
        e.2 += 1;
        let reset = (e.1 + self.window)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Some((limit, limit.saturating_sub(e.2), reset, e.2 > limit))
    }
}

impl Faults {
    fn count_status(&self, status: u16) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
    }
}

/// Route key for the stats: the path with numbers and hex ids folded.
fn route_key(method: &str, path: &str) -> String {
    let folded: Vec<&str> = path
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "N"
            } else if seg.len() == 40 && seg.chars().all(|c| c.is_ascii_hexdigit()) {
                "SHA"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", folded.join("/"))
}

pub async fn middleware(State(f): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_forge/") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    *f.faults
        .stats
        .lock()
        .unwrap()
        .entry(route_key(&method, &path))
        .or_default() += 1;
    if !f.faults.latency.is_zero() {
        tokio::time::sleep(f.faults.latency).await;
    }
    let login = req
        .extensions()
        .get::<crate::Login>()
        .map(|l| l.0.clone())
        .unwrap_or_default();
    let limited = if path.starts_with("/api/") {
        f.faults.count(&login)
    } else {
        None
    };
    if let Some((limit, _, reset, true)) = limited {
        f.faults.count_status(403);
        let mut r = error(
            StatusCode::FORBIDDEN,
            format!("API rate limit exceeded for {login}."),
        );
        set_rate_headers(&mut r, limit, 0, reset);
        return r;
    }
    let mut drop_after = false;
    if let Some(fault) = f.faults.take(&method, &path) {
        match fault.kind {
            FaultKind::Latency => {
                tokio::time::sleep(Duration::from_millis(fault.latency_ms.unwrap_or(0))).await
            }
            FaultKind::DropBefore => drop_connection(),
            FaultKind::DropAfter => drop_after = true,
            FaultKind::Status => {
                let status = StatusCode::from_u16(fault.status.unwrap_or(503))
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let msg = if status == StatusCode::FORBIDDEN || status.as_u16() == 429 {
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                } else {
                    "injected fault"
                };
                f.faults.count_status(status.as_u16());
                let mut r = error(status, msg);
                if let Some(s) = fault.retry_after {
                    r.headers_mut().insert("retry-after", HeaderValue::from(s));
                }
                return r;
            }
        }
    }
    let mut resp = next.run(req).await;
    if drop_after {
        // The handler ran to the end: its effect stays, the client never hears of it.
        drop(resp);
        drop_connection();
    }
    f.faults.count_status(resp.status().as_u16());
    if let Some((limit, remaining, reset, _)) = limited {
        set_rate_headers(&mut resp, limit, remaining, reset);
    }
    resp
}

fn set_rate_headers(r: &mut Response, limit: u64, remaining: u64, reset: u64) {
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
    h.insert("x-ratelimit-used", HeaderValue::from(limit - remaining));
}

/// Ends the connection's task: hyper closes the socket without a response.
fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new("idp-testforge: injected dropped connection"))
}

async fn add(State(f): State<Shared>, JsonBody(faults): JsonBody<Vec<Fault>>) -> Response {
    for x in &faults {
        if x.count == 0 {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "count must be at least 1");
        }
    }
    f.faults.queue.lock().unwrap().extend(faults);
    StatusCode::NO_CONTENT.into_response()
}

async fn list(State(f): State<Shared>) -> Json<Vec<Fault>> {
    Json(f.faults.queue.lock().unwrap().clone())
}

async fn clear(State(f): State<Shared>) -> StatusCode {
    f.faults.queue.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

async fn stats(State(f): State<Shared>) -> Json<serde_json::Value> {
    let s = f.faults.stats.lock().unwrap();
    let total: u64 = s.values().sum();
    let statuses = f.faults.statuses.lock().unwrap();
    Json(serde_json::json!({ "total": total, "by_route": *s, "by_status": *statuses }))
}

async fn reset_stats(State(f): State<Shared>) -> StatusCode {
    f.faults.stats.lock().unwrap().clear();
    f.faults.statuses.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

async fn deliveries(State(f): State<Shared>) -> Json<Vec<serde_json::Value>> {
    Json(f.deliveries.lock().unwrap().clone())
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/deliveries", get(deliveries))
        .route("/faults", get(list).post(add).delete(clear))
        .route("/stats", get(stats).delete(reset_stats))
}
