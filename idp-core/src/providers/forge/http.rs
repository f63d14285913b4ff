//! The HTTP client every forge provider shares: one token, bounded concurrency, and retries that
//! survive an unreliable network without repeating what already took effect (the providers make
//! each call safe to repeat; see `github.rs`).
//!
//! Retried: connection failures and timeouts, 500/502/503/504, 429, and 403 when it is a rate
//! limit (`x-ratelimit-remaining: 0`, `Retry-After`, or GitHub's "secondary rate limit").
//! Waits: `Retry-After` when given, else until `x-ratelimit-reset` for an exhausted primary
//! limit, else exponential backoff with full jitter. A wait longer than the budget allows ends
//! the call with a retryable [`ErrorKind::Provider`](crate::ErrorKind) error saying when to
//! come back. The token is sent in one header and appears nowhere else: not in URLs, errors or
//! `Debug`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::config::Secret;
use crate::error::{Error, Result};

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// The first backoff; doubles on each retry.
    pub base_delay: Duration,
    /// No single wait is longer than this; a rate limit that resets later fails the call.
    pub max_delay: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A response the provider interprets: status, headers and the JSON body (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as sent, for [`Http::get_raw`] (empty otherwise).
    pub raw: Vec<u8>,
}

impl Reply {
    /// The forge's error message, if the body has one (GitLab's may be a list or an object).
    pub fn message(&self) -> String {
        match self.body.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }

    /// A header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Whether a paginated answer has a next page (a `Link: <...>; rel="next"` header, as GitHub,
/// Gitea and GitLab send).
pub fn has_next(r: &Reply) -> bool {
    r.header("link").is_some_and(|l| l.contains("rel=\"next\""))
}

/// How requests are authenticated.
pub enum Auth {
    /// A token, as one sensitive `Authorization` header.
    Token(HeaderValue),
    /// A GitHub App's installation tokens, minted and renewed as needed.
    App(Box<super::app::AppAuth>),
}

impl Auth {
    /// `Authorization: SCHEME TOKEN` (`token`, `Bearer`).
    pub fn token(provider: &str, scheme: &str, token: &Secret) -> Result<Auth> {
        let mut auth =
            HeaderValue::from_str(&format!("{scheme} {}", token.expose())).map_err(|_| {
                Error::invalid(format!(
                    "the {provider} token has characters a header cannot carry"
                ))
            })?;
        auth.set_sensitive(true);
        Ok(Auth::Token(auth))
    }
}

pub struct Http {
    client: reqwest::Client,
    api: String,
    auth: Auth,
    retry: RetryPolicy,
    permits: tokio::sync::Semaphore,
    provider: &'static str,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("api", &self.api)
            .field("token", &"***")
            .field("retry", &self.retry)
            .finish()
    }
}

/// True for an `http://` URL that stays on this machine (the test forge); a token is never sent
/// in the clear anywhere else.
fn loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback()),
        None => false,
    }
}

impl Http {
    pub fn new(
        provider: &'static str,
        api_url: &str,
        auth: Auth,
        retry: RetryPolicy,
        concurrency: usize,
    ) -> Result<Http> {
        let url = reqwest::Url::parse(api_url).map_err(|e| {
            Error::invalid(format!("providers.source_control.api_url `{api_url}`: {e}"))
                .with("field", "providers.source_control.api_url")
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid(
                "providers.source_control.api_url carries credentials: give the token in `token` instead",
            )
            .with("field", "providers.source_control.api_url"));
        }
        match url.scheme() {
            "https" => {}
            "http" if loopback(&url) => {}
            _ => {
                return Err(Error::invalid(format!(
                    "providers.source_control.api_url `{api_url}` must be https (plain http only to a loopback address): the token would travel in the clear"
                ))
                .with("field", "providers.source_control.api_url"));
            }
        }
        // A process-wide default only if the host has not chosen one: rustls needs exactly one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("idp/", env!("CARGO_PKG_VERSION")))
            .timeout(retry.timeout)
            .connect_timeout(Duration::from_secs(10))
            // Redirects could carry the Authorization header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Error::provider(format!("{provider}: cannot build an HTTP client: {e}"))
            })?;
        Ok(Http {
            client,
            api: api_url.trim_end_matches('/').to_string(),
            auth,
            retry,
            permits: tokio::sync::Semaphore::new(concurrency.max(1)),
            provider,
        })
    }

    /// Sends `method path` (relative to the API root, query included) with an optional JSON
    /// body, retrying what is worth retrying. Any status that is not retried comes back as a
    /// [`Reply`] for the provider to interpret.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply> {
        self.send(method, path, body, false).await
    }

    /// `GET path` for a file's raw bytes: the answer's body is in [`Reply::raw`], unparsed
    /// (a file that happens to be JSON stays bytes).
    pub async fn get_raw(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None, true).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        raw_body: bool,
    ) -> Result<Reply> {
        let url = format!("{}{path}", self.api);
        let endpoint = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let payload = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        let mut attempt = 0;
        let mut reminted = false;
        loop {
            attempt += 1;
            let auth = match &self.auth {
                Auth::Token(h) => h.clone(),
                Auth::App(app) => app.header(&self.client, &self.api).await?,
            };
            let outcome = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let mut req = self
                    .client
                    .request(method.clone(), &url)
                    .header(reqwest::header::AUTHORIZATION, auth.clone());
                req = if self.provider == "github" {
                    req.header(reqwest::header::ACCEPT, "application/vnd.github+json")
                        .header("x-github-api-version", "2022-11-28")
                } else {
                    req.header(reqwest::header::ACCEPT, "application/json")
                };
                if let Some(p) = &payload {
                    req = req
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(p.clone());
                }
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        let headers = resp.headers().clone();
                        match resp.bytes().await {
                            Ok(bytes) => Ok((status, headers, bytes)),
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            };
            let (status, headers, bytes) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    // No answer (refused, reset, timed out): the request may or may not have
                    // taken effect; the providers' calls are safe to repeat.
                    let why = if e.is_timeout() {
                        "timed out".to_string()
                    } else if e.is_connect() {
                        "could not connect".to_string()
                    } else {
                        "the connection failed".to_string()
                    };
                    if attempt < self.retry.attempts {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        continue;
                    }
                    return Err(self.gave_up(&endpoint, attempt, &why, None));
                }
            };
            // A raw read keeps the bytes (a success's body is the file); anything else is
            // parsed as JSON (an error's body too).
            let (body, raw) = if raw_body && status.is_success() {
                (Value::Null, bytes.to_vec())
            } else {
                (
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    Vec::new(),
                )
            };
            let reply = Reply {
                status,
                headers,
                body,
                raw,
            };
            if let Some(wait) = self.retry_after(&reply, attempt) {
                let why = format!("{} {}", status.as_u16(), reply.message());
                if attempt >= self.retry.attempts {
                    return Err(self.gave_up(&endpoint, attempt, &why, Some(wait)));
                }
                if wait > self.retry.max_delay {
                    return Err(self
                        .gave_up(&endpoint, attempt, &why, Some(wait))
                        .with("retry_after_secs", wait.as_secs().to_string()));
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                // An installation token revoked or expired early: mint another, once.
                if let Auth::App(app) = &self.auth
                    && !reminted
                {
                    reminted = true;
                    app.refused(&auth).await;
                    continue;
                }
                return Err(Error::provider(format!(
                    "{}: the token was refused ({endpoint}: 401 {}); check providers.source_control.token",
                    self.provider,
                    reply.message()
                ))
                .with_retryable(false));
            }
            return Ok(reply);
        }
    }

    /// How long to wait before retrying `reply` (the `attempt`-th answer), or `None` when it is
    /// final.
    fn retry_after(&self, reply: &Reply, attempt: u32) -> Option<Duration> {
        // GitHub and Gitea send `x-ratelimit-*`, GitLab `ratelimit-*`.
        let header = |name: &str| {
            [name, name.trim_start_matches("x-")]
                .iter()
                .find_map(|n| reply.headers.get(*n))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let status = reply.status.as_u16();
        let rate_limited = status == 429
            || (status == 403
                && (header("x-ratelimit-remaining") == Some(0)
                    || header("retry-after").is_some()
                    || reply.message().to_lowercase().contains("rate limit")));
        if !rate_limited && !matches!(status, 500 | 502 | 503 | 504) {
            return None;
        }
        if let Some(secs) = header("retry-after") {
            return Some(Duration::from_secs(secs) + jitter(Duration::from_millis(100)));
        }
        if rate_limited
            && header("x-ratelimit-remaining") == Some(0)
            && let Some(reset) = header("x-ratelimit-reset")
        {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
        }
        // GitHub asks for at least a minute after a secondary limit without Retry-After; the
        // budget decides whether that is waited for.
        if rate_limited && status == 403 {
            return Some(Duration::from_secs(60));
        }
        Some(self.backoff(attempt))
    }

    /// Exponential backoff with full jitter for the `attempt`-th retry.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1u32 << attempt.min(16).saturating_sub(1))
            .min(self.retry.max_delay);
        jitter(exp)
    }

    fn gave_up(&self, endpoint: &str, attempts: u32, why: &str, wait: Option<Duration>) -> Error {
        let mut msg = format!(
            "{}: {endpoint} failed after {attempts} attempt(s): {why}",
            self.provider
        );
        if let Some(w) = wait {
            msg.push_str(&format!(
                "; the forge asks to wait {} s: run the same command again later (it resumes where it stopped)",
                w.as_secs()
            ));
        } else {
            msg.push_str("; run the same command again (it resumes where it stopped)");
        }
        Error::provider(msg)
            .with("endpoint", endpoint.to_string())
            .with_retryable(true)
    }
}

/// A uniformly random duration in `[0, max]`.
fn jitter(max: Duration) -> Duration {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    let r = u64::from_le_bytes(b) as f64 / u64::MAX as f64;
    max.mul_f64(r)
}

/// Percent-encodes one path segment (a branch name in a URL, a file path's parts).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a path, keeping its slashes.
pub fn path(s: &str) -> String {
    s.split('/').map(segment).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> Http {
        let retry = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let auth = Auth::token("test", "token", &Secret::new("t")).unwrap();
        Http::new("test", "http://127.0.0.1:1", auth, retry, 1).unwrap()
    }

    fn reply(status: u16, headers: &[(&str, &str)]) -> Reply {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: Value::Null,
            raw: Vec::new(),
        }
    }

    #[test]
    fn backoff_grows_with_each_attempt_up_to_the_cap_with_full_jitter() {
        let h = http();
        let most = |attempt| (0..200).map(|_| h.backoff(attempt)).max().unwrap();
        assert!(most(1) <= Duration::from_millis(100));
        assert!(most(4) > Duration::from_millis(400), "{:?}", most(4));
        assert!(most(4) <= Duration::from_millis(800));
        assert!(most(20) <= Duration::from_secs(1), "capped at max_delay");
        let r = reply(503, &[]);
        assert!(
            h.retry_after(&r, 4)
                .is_some_and(|w| w <= Duration::from_millis(800))
        );
    }

    #[test]
    fn what_is_retried_and_how_long_it_waits() {
        let h = http();
        for final_status in [200, 201, 404, 409, 422, 405, 401] {
            assert!(
                h.retry_after(&reply(final_status, &[]), 1).is_none(),
                "{final_status}"
            );
        }
        // A plain 403 is a permission problem, not a rate limit.
        assert!(h.retry_after(&reply(403, &[]), 1).is_none());
        let wait = h
            .retry_after(&reply(429, &[("retry-after", "3")]), 1)
            .unwrap();
        assert!(wait >= Duration::from_secs(3) && wait <= Duration::from_millis(3100));
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 30;
        let wait = h
            .retry_after(
                &reply(
                    403,
                    &[
                        ("x-ratelimit-remaining", "0"),
                        ("x-ratelimit-reset", &reset.to_string()),
                    ],
                ),
                1,
            )
            .unwrap();
        assert!(
            wait >= Duration::from_secs(29) && wait <= Duration::from_secs(31),
            "{wait:?}"
        );
        assert!(h.retry_after(&reply(502, &[]), 1).is_some());
    }

    #[test]
    fn a_token_goes_only_over_https_or_to_this_machine_and_debug_hides_it() {
        let make = |url: &str| {
            let auth = Auth::token("t", "token", &Secret::new("sekrit")).unwrap();
            Http::new("t", url, auth, RetryPolicy::default(), 1)
        };
        assert!(make("http://api.example.com").is_err());
        assert!(make("https://user:ghp_secret@api.github.com").is_err());
        assert!(make("ftp://localhost").is_err());
        for ok in [
            "https://api.github.com",
            "http://127.0.0.1:9",
            "http://[::1]:9",
            "http://localhost",
        ] {
            let h = make(ok).unwrap();
            assert!(!format!("{h:?}").contains("sekrit"));
        }
    }
}
