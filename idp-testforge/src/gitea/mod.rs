//! The Gitea/Forgejo-shaped REST API (v1), over the same store as the GitHub shape: a pull
//! request opened here is one there. The subset idp's `gitea` provider uses, plus reviews, labels
//! and branch protection for the tests; files and trees in `files.rs`, pull requests in
//! `pulls.rs`. What follows Gitea 1.22's behaviour rather than GitHub's:
//!
//! - errors are `{"message", "url"}` (`url` is the instance's `/api/swagger`); a 404 for what does
//!   not exist also carries `errors`, and a merge conflict is Gitea's bare conflict object;
//! - a repository that exists is 409, an invalid name 422; a repository's first commit (through
//!   the contents API) makes its branch the default one;
//! - `POST /contents` makes one commit of many files, optionally on a new branch: 422 for a
//!   branch that exists, a create of a file that exists, a missing or stale `sha`; 404 for a
//!   base branch or an updated or deleted file that does not exist; 403 on a protected branch;
//! - trees are paged (`per_page` at most 1000) and, as in 1.22, `truncated` says the tree has
//!   more entries than a page holds, on every page; an unknown SHA is 400, like an unknown blob;
//! - lists take `page` and `limit` (30 by default, at most 50) and answer with `X-Total-Count`
//!   and a `Link` header;
//! - a second open pull request for the same head and base is 409; editing answers 201;
//! - a merge takes `Do` (merge, rebase, rebase-merge, squash, fast-forward-only) and answers 200
//!   with no body; 405 when it is not allowed: already merged (empty message), conflicted ("Please
//!   try again later": Gitea's background check has marked it), too few approvals ("Does not have
//!   enough approvals": the latest approving or rejecting review of each reviewer other than the
//!   author counts, on any commit, as Gitea counts them unless stale approvals are dismissed); 404
//!   for a closed one; 409 "head out of date" for a stale `head_commit_id`;
//! - reviews use `APPROVED`, `REQUEST_CHANGES` and `COMMENT`; the author approving or rejecting
//!   their own pull request is 422;
//! - webhooks (when the forge has a secret) are recorded with Gitea's headers (`X-Gitea-Event`,
//!   `X-Gitea-Signature`: the hex HMAC-SHA-256 of the body), Forgejo's (`X-Forgejo-*`) and the
//!   GitHub-compatible ones Gitea also sends (`X-GitHub-Event`, `X-Hub-Signature-256`).

use std::collections::HashMap;

use axum::body::Body as HttpBody;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

mod files;
mod pulls;

use crate::store::{self, Label, Meta, Protection, branch_head};
use crate::{Login, Shared};

/// An answer that is not a success, rendered in Gitea's shape by [`render_errors`] (which knows
/// the instance's URL).
#[derive(Debug, Clone)]
pub(crate) struct Error {
    status: StatusCode,
    body: Value,
    /// Gitea's `APIError` (`message` and `url`); otherwise `body` is sent as it is.
    api_error: bool,
}

impl Error {
    fn new(status: StatusCode, message: impl std::fmt::Display) -> Error {
        Error {
            status,
            body: json!({ "message": message.to_string() }),
            api_error: true,
        }
    }

    /// `ctx.NotFound()`: "The target couldn't be found.", with no errors.
    fn not_found() -> Error {
        Error::not_found_because(None)
    }

    /// `ctx.NotFound(err)`: the default message, with the error's text in `errors`.
    fn not_found_because(error: Option<String>) -> Error {
        Error {
            status: StatusCode::NOT_FOUND,
            body: json!({
                "errors": error.map(|e| vec![e]),
                "message": "The target couldn't be found.",
            }),
            api_error: true,
        }
    }

    fn invalid(message: impl std::fmt::Display) -> Error {
        Error::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    fn internal(message: impl std::fmt::Display) -> Error {
        Error::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A body sent as it is (Gitea writes some errors, such as merge conflicts, as the Go error
    /// value).
    fn raw(status: StatusCode, body: Value) -> Error {
        Error {
            status,
            body,
            api_error: false,
        }
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Error {
        match e.code() {
            git2::ErrorCode::NotFound => Error::not_found(),
            _ => Error::internal(e.message()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut r = self.status.into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Writes an [`Error`]'s body, with the instance's swagger URL (from the `Host` the client
/// used) in Gitea's `APIError`s.
async fn render_errors(req: Request, next: axum::middleware::Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let mut resp = next.run(req).await;
    let Some(e) = resp.extensions_mut().remove::<Error>() else {
        return resp;
    };
    let mut body = e.body;
    if e.api_error {
        body["url"] = json!(format!("http://{host}/api/swagger"));
    }
    let mut out = (e.status, Json(body)).into_response();
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    out
}

pub(crate) type Api = Result<Response, Error>;

use crate::ok;

/// A JSON request body: an empty one is `{}`; one that does not parse or has the wrong shape is
/// a 422, as Gitea's form binding answers.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let text = crate::json_body_bytes(req, state).await?;
        serde_json::from_slice(&text)
            .map(Body)
            .map_err(|e| Error::invalid(format!("[]: {e}")).into_response())
    }
}

/// The API's root URL.
fn api(f: &Shared) -> String {
    format!("{}/api/v1", f.base)
}

/// A user's id: the forge's accounts in order from 1, anything else (an organization) a stable
/// number from its name.
fn user_id(f: &Shared, login: &str) -> u64 {
    if let Some(i) = f.cfg.users.iter().position(|(l, _)| l == login) {
        return i as u64 + 1;
    }
    1000 + store::fnv1a64(login) % 1_000_000
}

/// A `User`.
fn user_json(f: &Shared, login: &str) -> Value {
    json!({
        "id": user_id(f, login),
        "login": login,
        "login_name": "",
        "source_id": 0,
        "full_name": "",
        "email": format!("{login}@noreply.localhost"),
        "avatar_url": format!("{}/avatars/{login}", f.base),
        "html_url": format!("{}/{login}", f.base),
        "language": "",
        "is_admin": false,
        "last_login": "0001-01-01T00:00:00Z",
        "created": "0001-01-01T00:00:00Z",
        "restricted": false,
        "active": true,
        "prohibit_login": false,
        "location": "",
        "website": "",
        "description": "",
        "visibility": "public",
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0,
        "username": login,
    })
}

/// A `Repository`.
fn repo_json(f: &Shared, m: &Meta) -> Value {
    let full = m.full_name();
    let empty = f.store.is_empty_repo(&full);
    let open_pulls = m.pulls.iter().filter(|p| p.state == "open").count();
    let mut v = json!({
        "id": m.id,
        "owner": user_json(f, &m.owner),
        "name": m.name,
        "full_name": full,
        "description": m.description,
        "empty": empty,
        "private": m.private,
        "fork": false,
        "template": false,
        "parent": null,
        "mirror": false,
        "size": 0,
        "language": "",
        "languages_url": format!("{}/repos/{full}/languages", api(f)),
        "html_url": format!("{}/{full}", f.base),
        "url": format!("{}/repos/{full}", api(f)),
        "link": "",
        "ssh_url": "",
        "clone_url": format!("{}/{full}.git", f.base),
        "original_url": "",
        "website": "",
        "stars_count": 0,
        "forks_count": 0,
        "watchers_count": 0,
        "open_issues_count": 0,
        "open_pr_counter": open_pulls,
        "release_counter": 0,
        "default_branch": m.default_branch,
        "archived": false,
        "created_at": m.created_at,
        "updated_at": m.created_at,
        "archived_at": "1970-01-01T00:00:00Z",
        "permissions": { "admin": true, "push": true, "pull": true },
    });
    // In two parts: one `json!` this long is past the macro's recursion limit.
    let settings = json!({
        "has_issues": true,
        "has_wiki": true,
        "has_pull_requests": true,
        "has_projects": true,
        "has_releases": true,
        "has_packages": true,
        "has_actions": true,
        "ignore_whitespace_conflicts": false,
        "allow_merge_commits": true,
        "allow_rebase": true,
        "allow_rebase_explicit": true,
        "allow_squash_merge": true,
        "allow_fast_forward_only_merge": true,
        "allow_rebase_update": true,
        "default_delete_branch_after_merge": false,
        "default_merge_style": "merge",
        "default_allow_maintainer_edit": false,
        "avatar_url": "",
        "internal": false,
        "mirror_interval": "",
        "object_format_name": "sha1",
        "mirror_updated": "0001-01-01T00:00:00Z",
        "repo_transfer": null,
        "topics": [],
        "licenses": [],
    });
    if let (Some(v), Value::Object(rest)) = (v.as_object_mut(), settings) {
        v.extend(rest);
    }
    v
}

/// A `Label`; Gitea gives the colour without its `#`.
fn label_json(f: &Shared, m: &Meta, l: &Label) -> Value {
    json!({
        "id": l.id,
        "name": l.name,
        "exclusive": false,
        "is_archived": false,
        "color": l.color.trim_start_matches('#'),
        "description": l.description,
        "url": format!("{}/repos/{}/labels/{}", api(f), m.full_name(), l.id),
    })
}

/// The labels a pull request has, by name, as the repository's labels; a name no label of the
/// repository has (one added through another API shape) is shown with id 0.
fn labels_of(f: &Shared, m: &Meta, names: &[String]) -> Vec<Value> {
    names
        .iter()
        .map(|n| match m.labels.iter().find(|l| &l.name == n) {
            Some(l) => label_json(f, m, l),
            None => label_json(
                f,
                m,
                &Label {
                    id: 0,
                    name: n.clone(),
                    color: "#ededed".into(),
                    description: String::new(),
                },
            ),
        })
        .collect()
}

/// An RFC 3339 time with the signature's own offset, as Go prints a commit's time.
fn git_time(t: git2::Time) -> String {
    let offset = chrono::FixedOffset::east_opt(t.offset_minutes() * 60)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).unwrap());
    chrono::DateTime::from_timestamp(t.seconds(), 0)
        .unwrap_or_default()
        .with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Gitea's answer for an unsigned commit.
fn unsigned() -> Value {
    json!({
        "verified": false,
        "reason": "gpg.error.not_signed_commit",
        "signature": "",
        "signer": null,
        "payload": "",
    })
}

/// A `PayloadCommit` (a branch's commit).
fn payload_commit(f: &Shared, full: &str, c: &git2::Commit) -> Value {
    let person = |s: git2::Signature| json!({ "name": s.name().unwrap_or(""), "email": s.email().unwrap_or(""), "username": "" });
    json!({
        "id": c.id().to_string(),
        "message": String::from_utf8_lossy(c.message_bytes()),
        "url": format!("{}/{full}/commit/{}", f.base, c.id()),
        "author": person(c.author()),
        "committer": person(c.committer()),
        "verification": unsigned(),
        "timestamp": git_time(c.committer().when()),
        "added": null,
        "removed": null,
        "modified": null,
    })
}

fn repo(f: &Shared, owner: &str, name: &str) -> Result<Meta, Error> {
    f.store
        .get(&format!("{owner}/{name}"))
        .ok_or_else(Error::not_found)
}

/// Runs `f` on the repository's metadata under the store's lock (see [`store::Store::update`]).
fn update<T>(
    f: &Shared,
    owner: &str,
    name: &str,
    op: impl FnOnce(&mut Meta, &git2::Repository) -> Result<T, Error>,
) -> Result<T, Error> {
    f.store
        .update_with(&format!("{owner}/{name}"), Error::not_found, op)
}

/// `page` and `limit` as Gitea reads them: page from 1, `limit` 30 by default and at most 50.
#[derive(Clone, Copy, Debug)]
struct ListOptions {
    page: usize,
    limit: usize,
}

impl ListOptions {
    fn from_query(q: &HashMap<String, String>) -> ListOptions {
        let num = |k: &str| {
            q.get(k)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(0)
        };
        let limit = match num("limit") {
            l if l <= 0 => 30,
            l => l.min(50) as usize,
        };
        ListOptions {
            page: num("page").max(1) as usize,
            limit,
        }
    }

    /// This page of `items`.
    fn page<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = ((self.page - 1) * self.limit).min(items.len());
        let end = (start + self.limit).min(items.len());
        &items[start..end]
    }
}

/// Percent-encodes a query value as Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A list's answer: `X-Total-Count`, and Gitea's `Link` header (next, last, first, prev; the
/// request's query with `page` replaced, keys sorted) when there is more than one page.
fn list_response(
    f: &Shared,
    path: &str,
    query: &HashMap<String, String>,
    opts: ListOptions,
    total: usize,
    items: Vec<Value>,
) -> Response {
    let mut resp = Json(Value::Array(items)).into_response();
    let pages = total.div_ceil(opts.limit).max(1);
    let link = |page: usize, rel: &str| {
        let mut q: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        q.push(("page".into(), page.to_string()));
        q.sort();
        let q: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
            .collect();
        format!("<{}{path}?{}>; rel=\"{rel}\"", api(f), q.join("&"))
    };
    let mut links = Vec::new();
    if opts.page < pages {
        links.push(link(opts.page + 1, "next"));
        links.push(link(pages, "last"));
    }
    if opts.page > 1 {
        links.push(link(1, "first"));
        links.push(link((opts.page - 1).min(pages), "prev"));
    }
    let h = resp.headers_mut();
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(","))
    {
        h.insert(header::LINK, v);
    }
    h.insert("x-total-count", HeaderValue::from(total as u64));
    resp
}

/// Records a webhook delivery as Gitea sends one, when the forge has a secret: the body
/// indented as Gitea's, signed (hex HMAC-SHA-256, no prefix) in `X-Gitea-Signature` and its
/// companions.
fn deliver(f: &Shared, event: &str, payload: &Value) {
    let body = serde_json::to_string_pretty(payload).unwrap();
    f.record_delivery(|secret, n| {
        let sig = crate::hmac_sha256_hex(secret.as_bytes(), body.as_bytes());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_nanos())
            .unwrap_or(0);
        let seed = crate::hmac_sha256_hex(format!("{n}-{nanos}").as_bytes(), body.as_bytes());
        let id = crate::uuid_from_hex(&seed, 'a');
        json!({
            "headers": {
                "content-type": "application/json",
                "x-gitea-delivery": id,
                "x-gitea-event": event,
                "x-gitea-event-type": event,
                "x-gitea-signature": sig,
                "x-gogs-delivery": id,
                "x-gogs-event": event,
                "x-gogs-event-type": event,
                "x-gogs-signature": sig,
                "x-forgejo-delivery": id,
                "x-forgejo-event": event,
                "x-forgejo-event-type": event,
                "x-forgejo-signature": sig,
                "x-github-delivery": id,
                "x-github-event": event,
                "x-github-event-type": event,
                "x-hub-signature-256": format!("sha256={sig}"),
            },
            "body": body,
        })
    });
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/version", get(version))
        .route("/user", get(user))
        .route("/user/repos", axum::routing::post(create_user_repo))
        .route("/orgs/{org}/repos", axum::routing::post(create_org_repo))
        .route("/repos/{o}/{r}", get(get_repo))
        .route(
            "/repos/{o}/{r}/branches/{*branch}",
            get(get_branch).delete(delete_branch),
        )
        .route(
            "/repos/{o}/{r}/branch_protections",
            get(list_protections).post(create_protection),
        )
        .route(
            "/repos/{o}/{r}/branch_protections/{name}",
            get(get_protection)
                .patch(edit_protection)
                .delete(delete_protection),
        )
        .route("/repos/{o}/{r}/labels", get(list_labels).post(create_label))
        .route("/repos/{o}/{r}/raw/{*path}", get(raw))
        .merge(files::routes())
        .merge(pulls::routes())
        .layer(axum::middleware::from_fn(render_errors))
}

async fn version() -> Json<Value> {
    Json(json!({ "version": "1.22.0" }))
}

async fn user(State(f): State<Shared>, Extension(l): Extension<Login>) -> Json<Value> {
    Json(user_json(&f, &l.0))
}

/// `CreateRepoOption`.
#[derive(Deserialize)]
struct CreateRepo {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    auto_init: Option<bool>,
    #[serde(default)]
    default_branch: Option<String>,
}

fn create_repo_in(f: &Shared, owner: &str, body: CreateRepo) -> Api {
    let name = body.name.as_str();
    if name.is_empty() {
        return Err(Error::invalid("[Name]: Required"));
    }
    if name.len() > 100 {
        return Err(Error::invalid("[Name]: MaxSize"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::invalid("[Name]: AlphaDashDot"));
    }
    if matches!(name, "." | ".." | "-") {
        return Err(Error::invalid(format!("name is reserved [name: {name}]")));
    }
    for pattern in ["*.git", "*.rss", "*.atom", "*.wiki"] {
        if name.ends_with(&pattern[1..]) {
            return Err(Error::invalid(format!(
                "name pattern is not allowed [pattern: {pattern}]"
            )));
        }
    }
    if !store::valid_name(owner) {
        return Err(Error::not_found());
    }
    let branch = body
        .default_branch
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "main".into());
    if !git2::Branch::name_is_valid(&branch).unwrap_or(false) {
        return Err(Error::invalid(format!("invalid default branch [{branch}]")));
    }
    match f.store.create(
        owner,
        name,
        body.description.as_deref().unwrap_or(""),
        body.private.unwrap_or(false),
        &branch,
        body.auto_init.unwrap_or(false),
    ) {
        Ok(m) => ok(StatusCode::CREATED, repo_json(f, &m)),
        Err(None) => Err(Error::new(
            StatusCode::CONFLICT,
            "The repository with the same name already exists.",
        )),
        Err(Some(e)) => Err(Error::internal(e)),
    }
}

async fn create_org_repo(
    State(f): State<Shared>,
    Path(org): Path<String>,
    Body(body): Body<CreateRepo>,
) -> Api {
    create_repo_in(&f, &org, body)
}

async fn create_user_repo(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Body(body): Body<CreateRepo>,
) -> Api {
    create_repo_in(&f, &l.0, body)
}

async fn get_repo(State(f): State<Shared>, Path((o, r)): Path<(String, String)>) -> Api {
    let m = repo(&f, &o, &r)?;
    ok(StatusCode::OK, repo_json(&f, &m))
}

/// A `Branch`.
fn branch_json(f: &Shared, m: &Meta, name: &str, c: &git2::Commit) -> Value {
    let rule = m.protection.get(name);
    json!({
        "name": name,
        "commit": payload_commit(f, &m.full_name(), c),
        "protected": rule.is_some(),
        "required_approvals": rule.map_or(0, |p| p.required_approving_review_count),
        "enable_status_check": false,
        "status_check_contexts": [],
        // Pushing to a protected branch is never allowed here (its rule's enable_push is off).
        "user_can_push": rule.is_none(),
        "user_can_merge": true,
        "effective_branch_protection_name": if rule.is_some() { name } else { "" },
    })
}

async fn get_branch(
    State(f): State<Shared>,
    Path((o, r, branch)): Path<(String, String, String)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let Some(head) = branch_head(&git, &branch) else {
        return Err(Error::not_found_because(Some(format!(
            "branch does not exist [name: {branch}]"
        ))));
    };
    ok(
        StatusCode::OK,
        branch_json(&f, &m, &branch, &git.find_commit(head)?),
    )
}

async fn delete_branch(
    State(f): State<Shared>,
    Path((o, r, branch)): Path<(String, String, String)>,
) -> Api {
    update(&f, &o, &r, |m, git| {
        if store::is_empty(git)? {
            return Err(Error::new(
                StatusCode::NOT_FOUND,
                "Git Repository is empty.",
            ));
        }
        if branch == m.default_branch {
            return Err(Error::new(
                StatusCode::FORBIDDEN,
                "can not delete default branch",
            ));
        }
        if m.protection.contains_key(&branch) {
            return Err(Error::new(StatusCode::FORBIDDEN, "branch protected"));
        }
        let mut rf = git
            .find_reference(&format!("refs/heads/{branch}"))
            .map_err(|_| {
                Error::not_found_because(Some(format!("branch does not exist [name: {branch}]")))
            })?;
        rf.delete()?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A `BranchProtection`. Only the required approvals are kept; the rest is Gitea's defaults
/// (and pushing is never allowed: the forge's hook refuses every push to a protected branch).
fn protection_json(m: &Meta, name: &str, p: &Protection) -> Value {
    json!({
        "branch_name": name,
        "rule_name": name,
        "enable_push": false,
        "enable_push_whitelist": false,
        "push_whitelist_usernames": [],
        "push_whitelist_teams": [],
        "push_whitelist_deploy_keys": false,
        "enable_merge_whitelist": false,
        "merge_whitelist_usernames": [],
        "merge_whitelist_teams": [],
        "enable_status_check": false,
        "status_check_contexts": [],
        "required_approvals": p.required_approving_review_count,
        "enable_approvals_whitelist": false,
        "approvals_whitelist_username": [],
        "approvals_whitelist_teams": [],
        "block_on_rejected_reviews": false,
        "block_on_official_review_requests": false,
        "block_on_outdated_branch": false,
        "dismiss_stale_approvals": false,
        "ignore_stale_approvals": false,
        "require_signed_commits": false,
        "protected_file_patterns": "",
        "unprotected_file_patterns": "",
        "created_at": m.created_at,
        "updated_at": m.created_at,
    })
}

/// `CreateBranchProtectionOption` / `EditBranchProtectionOption`: what the forge keeps of it.
#[derive(Deserialize)]
struct ProtectionBody {
    #[serde(default)]
    rule_name: Option<String>,
    #[serde(default)]
    branch_name: Option<String>,
    #[serde(default)]
    required_approvals: Option<i64>,
}

async fn list_protections(State(f): State<Shared>, Path((o, r)): Path<(String, String)>) -> Api {
    let m = repo(&f, &o, &r)?;
    ok(
        StatusCode::OK,
        Value::Array(
            m.protection
                .iter()
                .map(|(b, p)| protection_json(&m, b, p))
                .collect(),
        ),
    )
}

async fn create_protection(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    Body(body): Body<ProtectionBody>,
) -> Api {
    let name = body
        .rule_name
        .filter(|n| !n.is_empty())
        .or(body.branch_name)
        .unwrap_or_default();
    if name.is_empty() {
        return Err(Error::new(
            StatusCode::BAD_REQUEST,
            "both rule_name and branch_name are empty",
        ));
    }
    let v = update(&f, &o, &r, |m, _| {
        if m.protection.contains_key(&name) {
            return Err(Error::new(
                StatusCode::FORBIDDEN,
                "Branch protection already exist",
            ));
        }
        let p = Protection {
            required_approving_review_count: body.required_approvals.unwrap_or(0).max(0) as u32,
        };
        m.protection.insert(name.clone(), p.clone());
        Ok(protection_json(m, &name, &p))
    })?;
    ok(StatusCode::CREATED, v)
}

async fn get_protection(
    State(f): State<Shared>,
    Path((o, r, name)): Path<(String, String, String)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let p = m.protection.get(&name).ok_or_else(Error::not_found)?;
    ok(StatusCode::OK, protection_json(&m, &name, p))
}

async fn edit_protection(
    State(f): State<Shared>,
    Path((o, r, name)): Path<(String, String, String)>,
    Body(body): Body<ProtectionBody>,
) -> Api {
    let v = update(&f, &o, &r, |m, _| {
        let p = m.protection.get_mut(&name).ok_or_else(Error::not_found)?;
        if let Some(n) = body.required_approvals {
            p.required_approving_review_count = n.max(0) as u32;
        }
        let p = p.clone();
        Ok(protection_json(m, &name, &p))
    })?;
    ok(StatusCode::OK, v)
}

async fn delete_protection(
    State(f): State<Shared>,
    Path((o, r, name)): Path<(String, String, String)>,
) -> Api {
    update(&f, &o, &r, |m, _| {
        m.protection
            .remove(&name)
            .map(|_| ())
            .ok_or_else(Error::not_found)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_labels(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let opts = ListOptions::from_query(&q);
    let items = opts
        .page(&m.labels)
        .iter()
        .map(|l| label_json(&f, &m, l))
        .collect();
    let mut resp = Json(Value::Array(items)).into_response();
    resp.headers_mut()
        .insert("x-total-count", HeaderValue::from(m.labels.len() as u64));
    Ok(resp)
}

/// `CreateLabelOption`.
#[derive(Deserialize)]
struct CreateLabel {
    #[serde(default)]
    name: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    description: String,
}

/// `#rgb`, `rgb`, `#rrggbb` or `rrggbb` as `#rrggbb`, lower case (Gitea's `NormalizeColor`).
fn normalize_color(c: &str) -> Option<String> {
    let hex = c.trim().trim_start_matches('#');
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_ascii_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => None,
    }
}

async fn create_label(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    Body(body): Body<CreateLabel>,
) -> Api {
    if body.name.trim().is_empty() {
        return Err(Error::invalid("[Name]: Required"));
    }
    if body.color.trim().is_empty() {
        return Err(Error::invalid("[Color]: Required"));
    }
    let color = normalize_color(&body.color)
        .ok_or_else(|| Error::invalid(format!("invalid color format: {}", body.color)))?;
    let v = update(&f, &o, &r, |m, _| {
        // Label ids are unique in the forge: the repository's id, then a sequence.
        let n = m.labels.iter().map(|l| l.id % 1000).max().unwrap_or(0) + 1;
        let l = Label {
            id: m.id * 1000 + n,
            name: body.name.clone(),
            color,
            description: body.description.clone(),
        };
        m.labels.push(l.clone());
        Ok(label_json(&f, m, &l))
    })?;
    ok(StatusCode::CREATED, v)
}

/// `GET /repos/{o}/{r}/raw/{filepath}`: the file at `ref` (a branch, tag or commit); without
/// it, the path may start with one (`/raw/BRANCH/PATH`, a branch may hold slashes), else the
/// default branch.
async fn raw(
    State(f): State<Shared>,
    Path((o, r, path)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let tree_at = |reference: &str| {
        git.revparse_single(reference)
            .and_then(|o| o.peel_to_tree())
            .ok()
    };
    let (tree, path) = match q.get("ref").filter(|r| !r.is_empty()) {
        Some(reference) => (tree_at(reference).ok_or_else(Error::not_found)?, path),
        None => {
            let parts: Vec<&str> = path.split('/').collect();
            let found = (1..parts.len())
                .find_map(|i| tree_at(&parts[..i].join("/")).map(|t| (t, parts[i..].join("/"))));
            match found {
                Some(x) => x,
                None => (
                    tree_at(&m.default_branch).ok_or_else(Error::not_found)?,
                    path,
                ),
            }
        }
    };
    let blob = tree
        .get_path(std::path::Path::new(&path))
        .and_then(|e| e.to_object(&git))
        .and_then(|o| o.peel_to_blob())
        .map_err(|_| Error::not_found())?;
    let kind = if std::str::from_utf8(blob.content()).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    Ok((
        [(header::CONTENT_TYPE, kind)],
        HttpBody::from(blob.content().to_vec()),
    )
        .into_response())
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Go's `base64.StdEncoding.DecodeString`, which skips line breaks.
fn unb64(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}
