//! The test forge: what idp's forge providers talk to in tests and examples, over real HTTP.
//!
//! - a GitHub-shaped REST API under `BASE/api/v3` (the subset idp's `github` provider uses, plus
//!   reviews and branch protection for the tests);
//! - a GitLab-shaped REST API (v4) under `BASE/api/v4` over the same repositories (pull requests
//!   are its merge requests), the subset idp's `gitlab` provider uses (see `gitlab/mod.rs`);
//! - a Gitea/Forgejo-shaped REST API (v1) under `BASE/api/v1` over the same repositories, the
//!   subset idp's `gitea` provider uses (see `gitea/mod.rs`);
//! - real bare repositories under `--root`, served over git smart HTTP by Debian's
//!   `git http-backend` at `BASE/OWNER/REPO.git`, so any git client can clone and push;
//! - real merges (merge commit, squash, fast-forward-only "rebase"), conflicts that make a pull
//!   request unmergeable, and branch protection that requires approving reviews (also enforced on
//!   `git push` by a pre-receive hook);
//! - fault injection (`POST BASE/_forge/faults`): latency, 5xx, 429 with `Retry-After`, and
//!   connections dropped before or after the request took effect; a primary rate limit with
//!   GitHub's `x-ratelimit-*` headers; request counts at `BASE/_forge/stats`.
//!
//! State that git has no place for (pull requests, reviews, labels, protection) is kept in
//! `forge.json` inside each bare repository, so a restarted forge finds its pull requests again.

mod app;
mod faults;
mod gitea;
mod github;
mod gitlab;
mod http_backend;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;

pub use app::App;
pub use faults::{Fault, FaultKind};

/// How a forge is started.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the bare repositories live (`ROOT/OWNER/REPO.git`).
    pub root: PathBuf,
    /// Accounts: `(login, token)`. The first is the forge's main user (the one idp acts as).
    pub users: Vec<(String, String)>,
    /// Requests per token per rate-limit window before the forge answers 403 with
    /// `x-ratelimit-remaining: 0`, as GitHub's primary rate limit does. `None`: no limit.
    pub rate_limit: Option<u64>,
    /// The rate-limit window.
    pub rate_window_secs: u64,
    /// Latency added to every API and git request.
    pub latency_ms: u64,
    /// Signs webhook deliveries (`X-Hub-Signature-256`), kept at `GET /_forge/deliveries`.
    pub webhook_secret: Option<String>,
    /// GitHub Apps, whose JWTs buy installation tokens.
    pub apps: Vec<App>,
    /// How long an installation token lasts (GitHub: an hour).
    pub app_token_ttl_secs: u64,
}

impl Config {
    pub fn new(root: impl Into<PathBuf>, token: &str) -> Config {
        Config {
            root: root.into(),
            users: vec![("idp-bot".into(), token.into())],
            rate_limit: None,
            rate_window_secs: 3600,
            latency_ms: 0,
            webhook_secret: None,
            apps: Vec::new(),
            app_token_ttl_secs: 3600,
        }
    }
}

pub(crate) struct Forge {
    pub cfg: Config,
    pub base: String,
    pub store: store::Store,
    pub faults: faults::Faults,
    /// Webhook deliveries, oldest first: `{"headers": {...}, "body": "..."}`.
    pub deliveries: std::sync::Mutex<Vec<serde_json::Value>>,
    /// GitHub App installation tokens handed out.
    pub issued: app::Issued,
}

pub(crate) type Shared = Arc<Forge>;

/// The logged-in user of a request.
#[derive(Clone, Debug)]
pub(crate) struct Login(pub String);

impl Forge {
    /// Records a webhook delivery as GitHub sends one: the event in `X-GitHub-Event`, the body
    /// signed with the secret in `X-Hub-Signature-256`.
    pub(crate) fn deliver(&self, event: &str, payload: &serde_json::Value) {
        let body = payload.to_string();
        self.record_delivery(|secret, n| {
            serde_json::json!({
                "headers": {
                    "x-github-event": event,
                    "x-github-delivery": format!("delivery-{}", n + 1),
                    "x-hub-signature-256": format!("sha256={}", hmac_sha256_hex(secret.as_bytes(), body.as_bytes())),
                    "content-type": "application/json",
                },
                "body": body,
            })
        });
    }

    /// Records the webhook delivery `make(secret, n)` makes (`{"headers": {...}, "body": "..."}`,
    /// `n` the number recorded before it), when the forge has a webhook secret; every API shape
    /// delivers through here.
    pub(crate) fn record_delivery(&self, make: impl FnOnce(&str, usize) -> serde_json::Value) {
        let Some(secret) = &self.cfg.webhook_secret else {
            return;
        };
        let mut d = self.deliveries.lock().unwrap();
        let n = d.len();
        d.push(make(secret, n));
    }

    fn login_for(&self, headers: &HeaderMap) -> Option<String> {
        // GitLab's personal access token header.
        if let Some(t) = headers.get("private-token") {
            return self.token_login(t.to_str().ok()?.trim());
        }
        let auth = headers.get("authorization")?.to_str().ok()?;
        let token = if let Some(t) = auth
            .strip_prefix("token ")
            .or_else(|| auth.strip_prefix("Bearer "))
            .or_else(|| auth.strip_prefix("bearer "))
        {
            t.trim().to_string()
        } else {
            // git sends Basic; the password is the token, the user name is ignored.
            let b = auth.strip_prefix("Basic ")?;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()?;
            let s = String::from_utf8(raw).ok()?;
            s.split_once(':')?.1.to_string()
        };
        self.token_login(&token)
    }

    /// Who a token acts as: a user, or a GitHub App's bot while its installation token lasts.
    fn token_login(&self, token: &str) -> Option<String> {
        self.cfg
            .users
            .iter()
            .find(|(_, t)| t == token)
            .map(|(l, _)| l.clone())
            .or_else(|| self.issued.login(token))
    }
}

/// A JSON answer: `v` with `status`, for any API shape's error type.
pub(crate) fn ok<E>(status: StatusCode, v: serde_json::Value) -> Result<Response, E> {
    Ok((status, axum::Json(v)).into_response())
}

/// A UUID (version 4 layout, `variant` its variant digit) from the first 32 hex digits of `hex`.
pub(crate) fn uuid_from_hex(hex: &str, variant: char) -> String {
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// A request's body for a JSON extractor: a blank one is `{}`.
pub(crate) async fn json_body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, Response> {
    use axum::extract::FromRequest as _;
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(IntoResponse::into_response)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(axum::body::Bytes::from_static(b"{}"))
    } else {
        Ok(bytes)
    }
}

/// A JSON error in GitHub's shape.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({
            "message": message.into(),
            "documentation_url": "https://docs.github.com/rest",
        })),
    )
        .into_response()
}

async fn authenticate(State(f): State<Shared>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let git = path.contains(".git/");
    let raw = path.contains("/raw/") && !path.starts_with("/api/");
    // A GitHub App proves itself with a JWT, checked by the route.
    let app_token = path.starts_with("/api/v3/app/installations/");
    match f.login_for(req.headers()) {
        Some(login) => {
            req.extensions_mut().insert(Login(login));
        }
        // Raw file reads are public, as a public repository's would be: Backstage's URL reader
        // fetches catalog files with no credentials.
        None if raw || app_token => {}
        None if git => {
            let mut r = (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Basic realm=\"idp-testforge\""),
            );
            return r;
        }
        None => return error(StatusCode::UNAUTHORIZED, "Bad credentials"),
    }
    next.run(req).await
}

/// The forge's routes, over `forge`.
fn router(forge: Shared) -> Router {
    Router::new()
        .route(
            "/api/v3/app/installations/{id}/access_tokens",
            axum::routing::post(app::access_token),
        )
        .nest("/api/v3", github::routes())
        .nest("/api/v1", gitea::routes())
        .nest("/api/v4", gitlab::routes())
        .nest("/_forge", faults::routes())
        .fallback(any(http_backend::fallback))
        .layer(middleware::from_fn_with_state(
            forge.clone(),
            faults::middleware,
        ))
        .layer(middleware::from_fn_with_state(forge.clone(), authenticate))
        .with_state(forge)
}

/// A running forge.
pub struct Running {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The GitHub-shaped API root.
    pub fn github_api(&self) -> String {
        format!("{}/api/v3", self.base_url)
    }

    /// `base_url` with `token` as the password, for git clone and push URLs.
    pub fn git_base(&self, token: &str) -> String {
        self.base_url
            .replacen("http://", &format!("http://x-access-token:{token}@"), 1)
    }

    /// `METHOD path` (`/api/v3/...`, `/_forge/...`) with `token`, as a plain HTTP/1.1 request
    /// over a socket: a client that shares no code with idp's. A dropped connection is
    /// `status: 0`.
    pub fn request(&self, token: &str, method: &str, path: &str, body: &str) -> Reply {
        self.request_with(&format!("Authorization: token {token}"), method, path, body)
    }

    /// [`Running::request`] with GitLab's `PRIVATE-TOKEN: TOKEN` header.
    pub fn request_private_token(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: &str,
    ) -> Reply {
        self.request_with(&format!("PRIVATE-TOKEN: {token}"), method, path, body)
    }

    /// `METHOD path` with `auth` (a whole header line, `Name: value`) as the credentials.
    pub fn request_with(&self, auth: &str, method: &str, path: &str, body: &str) -> Reply {
        use std::io::{Read, Write};
        let addr = self.base_url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("the forge listens");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\nAccept: application/vnd.github+json\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("the request is sent");
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return Reply {
                status: 0,
                headers: Vec::new(),
                body: String::new(),
            };
        };
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_string(),
        }
    }
}

/// An answer to [`Running::request`].
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `listen` and serves until `shutdown` resolves. Returns the bound address through `bound`
/// before serving.
pub async fn serve(
    listen: SocketAddr,
    cfg: Config,
    bound: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    std::fs::create_dir_all(&cfg.root)?;
    if cfg.users.is_empty() {
        return Err(std::io::Error::other("the forge needs at least one token"));
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let store = store::Store::open(&cfg.root).map_err(std::io::Error::other)?;
    let forge = Arc::new(Forge {
        deliveries: std::sync::Mutex::new(Vec::new()),
        issued: app::Issued::default(),
        faults: faults::Faults::new(&cfg),
        cfg,
        base,
        store,
    });
    bound(addr);
    axum::serve(listener, router(forge))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts a forge on a loopback port in a thread of its own (for Rust tests).
pub fn spawn(cfg: Config) -> std::io::Result<Running> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let err_tx = addr_tx.clone();
        let r = rt.block_on(serve(
            "127.0.0.1:0".parse().unwrap(),
            cfg,
            move |a| {
                let _ = addr_tx.send(Ok(a));
            },
            async {
                let _ = rx.await;
            },
        ));
        if let Err(e) = r {
            let _ = err_tx.send(Err(e));
        }
    });
    let addr = addr_rx
        .recv()
        .map_err(|_| std::io::Error::other("the forge thread ended before it bound"))??;
    Ok(Running {
        base_url: format!("http://{addr}"),
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// A JSON request body, whatever its `Content-Type` (GitHub does not insist on one); a body that
/// does not parse is a 400 in GitHub's shape, one of the wrong shape a 422.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let text = json_body_bytes(req, state).await?;
        let value: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "Problems parsing JSON"))?;
        serde_json::from_value(value).map(JsonBody).map_err(|e| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Invalid request: {e}"),
            )
        })
    }
}

/// HMAC-SHA-256 (RFC 2104), written out here so the forge shares no code with idp's check.
pub(crate) fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}
