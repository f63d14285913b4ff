//! The GitLab-shaped REST API (v4), the subset idp's `gitlab` provider and the tests use, over the
//! same store as the GitHub shape: a repository is a project, a pull request a merge request (its
//! `iid` is the pull request's number), an approving review an approval, so what is done through
//! one shape reads the same through the other. Users, namespaces, groups and projects here; the
//! repository (branches, tree, blobs, files, the commits API) in `repository.rs`; merge requests,
//! approvals, approval rules, protected branches and merge request webhooks in
//! `merge_requests.rs`.
//!
//! Paths, bodies, status codes and messages follow GitLab's REST API v4 as its documentation and
//! sources (`lib/api/*.rb`) have them: errors are `{"message": ...}` (`"404 Project Not Found"`,
//! a validation failure as `{"message": {"path": ["has already been taken"]}}`), a parameter that
//! is missing or malformed is Grape's 400 `{"error": "title is missing"}`, lists use offset
//! pagination (`per_page` 20 by default, at most 100) with `x-page`, `x-per-page`, `x-next-page`
//! (empty on the last page), `x-prev-page`, `x-total`, `x-total-pages` and `link`. Parameters are
//! read from the query string and from a JSON or form-encoded body, merged, as Grape does.
//!
//! Identifiers:
//! - a project is addressed by its id (the store's) or its URL-encoded path (`acme%2Fsvc`);
//! - a user's id is its place in the forge's list of users, from 1;
//! - every owner is a namespace: of kind `user` when it is a forge user's login, else a group,
//!   which exists implicitly (as the GitHub shape treats any organization). A namespace's id is
//!   derived from its name (FNV-1a, see [`namespace_id`]), so it is stable across restarts with
//!   nothing stored; to turn an id back into a name the forge tries the users, the owners of
//!   repositories and the names it has been asked about by path, which it keeps one a line in
//!   `ROOT/.gitlab-namespaces`. Nested groups (`a/b`) do not exist.
//!
//! What GitLab keeps that the store has no place for (a project's display name and `internal`
//! visibility, the branches protected and the approval rules made through this API, who merged
//! or closed a merge request, its squash commit, whether to remove its source branch) is in
//! `gitlab.json` beside the repository's `forge.json`.
//!
//! Any authenticated user may do anything, as with the GitHub shape. A missing or wrong token is
//! answered by the forge's common authentication (401 in GitHub's shape).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

mod merge_requests;
mod repository;

use crate::store::{self, Meta};
use crate::{Login, Shared};

/// The prefix this API is nested under (axum strips it from the request's URI).
const PREFIX: &str = "/api/v4";

/// An error in GitLab's shape: a status and a JSON body.
pub(crate) struct GlError {
    status: StatusCode,
    body: Value,
}

impl GlError {
    /// `{"message": message}`.
    pub(crate) fn message(status: StatusCode, message: impl Into<Value>) -> GlError {
        GlError {
            status,
            body: json!({ "message": message.into() }),
        }
    }

    /// GitLab's `not_found!(what)`: 404 `{"message": "404 WHAT Not Found"}` (`"404 Not Found"`
    /// when `what` is empty).
    pub(crate) fn not_found(what: &str) -> GlError {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("{what} ")
        };
        GlError::message(StatusCode::NOT_FOUND, format!("404 {what}Not Found"))
    }

    /// 400 `{"message": message}`: a service refused (a file that exists, a branch that does not).
    pub(crate) fn bad_request(message: impl Into<Value>) -> GlError {
        GlError::message(StatusCode::BAD_REQUEST, message)
    }

    /// 400 `{"error": message}`: Grape's answer for a parameter that is missing or malformed.
    pub(crate) fn param(message: impl Into<String>) -> GlError {
        GlError {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": message.into() }),
        }
    }

    pub(crate) fn unauthorized() -> GlError {
        GlError::message(StatusCode::UNAUTHORIZED, "401 Unauthorized")
    }

    pub(crate) fn not_allowed() -> GlError {
        GlError::message(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed")
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> GlError {
        GlError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("500 Internal Server Error: {e}"),
        )
    }
}

impl From<git2::Error> for GlError {
    fn from(e: git2::Error) -> GlError {
        match e.code() {
            git2::ErrorCode::NotFound => GlError::not_found(""),
            _ => GlError::internal(e.message()),
        }
    }
}

impl IntoResponse for GlError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

pub(crate) type Api = Result<Response, GlError>;

pub(crate) use crate::ok;

/// A request's parameters: the query string and the body (a JSON object or a form) merged, the
/// body winning, as Grape merges them. `key[]` parameters (`iids[]=1&iids[]=2`) are arrays.
pub(crate) struct Input(Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut map = Map::new();
        for (k, v) in parse_form(req.uri().query().unwrap_or("")) {
            insert_param(&mut map, k, Value::String(v));
        }
        let form = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input(map));
        }
        if form {
            for (k, v) in parse_form(&String::from_utf8_lossy(&bytes)) {
                insert_param(&mut map, k, Value::String(v));
            }
            return Ok(Input(map));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(body)) => {
                for (k, v) in body {
                    insert_param(&mut map, k, v);
                }
                Ok(Input(map))
            }
            Ok(_) => Err(GlError::param("the body must be a JSON object").into_response()),
            Err(e) => {
                Err(GlError::param(format!("the body is not valid JSON: {e}")).into_response())
            }
        }
    }
}

fn insert_param(map: &mut Map<String, Value>, key: String, v: Value) {
    match key.strip_suffix("[]") {
        Some(base) => match map.entry(base.to_string()).or_insert_with(|| json!([])) {
            Value::Array(a) => a.push(v),
            other => *other = json!([v]),
        },
        None => {
            map.insert(key, v);
        }
    }
}

impl Input {
    pub(crate) fn value(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }

    /// A string parameter (a number is taken as its digits).
    pub(crate) fn str(&self, k: &str) -> Result<Option<String>, GlError> {
        match self.value(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(GlError::param(format!("{k} is invalid"))),
        }
    }

    pub(crate) fn bool(&self, k: &str) -> Result<Option<bool>, GlError> {
        match self.value(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if matches!(s.as_str(), "true" | "1" | "yes" | "t") => {
                Ok(Some(true))
            }
            Some(Value::String(s)) if matches!(s.as_str(), "false" | "0" | "no" | "f") => {
                Ok(Some(false))
            }
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
            Some(_) => Err(GlError::param(format!("{k} is invalid"))),
        }
    }

    pub(crate) fn u64(&self, k: &str) -> Result<Option<u64>, GlError> {
        match self.value(k) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| GlError::param(format!("{k} is invalid"))),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| GlError::param(format!("{k} is invalid"))),
            Some(_) => Err(GlError::param(format!("{k} is invalid"))),
        }
    }

    /// A list: a JSON array of strings, or a comma-separated string (Grape's
    /// `CommaSeparatedToArray`).
    pub(crate) fn list(&self, k: &str) -> Result<Option<Vec<String>>, GlError> {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        match self.value(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(split(s))),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for v in a {
                    match v {
                        Value::String(s) => out.extend(split(s)),
                        Value::Number(n) => out.push(n.to_string()),
                        _ => return Err(GlError::param(format!("{k} is invalid"))),
                    }
                }
                Ok(Some(out))
            }
            Some(_) => Err(GlError::param(format!("{k} is invalid"))),
        }
    }

    /// The required parameters `keys`, or Grape's `a is missing, b is missing`.
    pub(crate) fn required<const N: usize>(&self, keys: [&str; N]) -> Result<[String; N], GlError> {
        let mut missing = Vec::new();
        let mut out: [String; N] = std::array::from_fn(|_| String::new());
        for (i, k) in keys.iter().enumerate() {
            match self.str(k)? {
                Some(v) => out[i] = v,
                None => missing.push(format!("{k} is missing")),
            }
        }
        if !missing.is_empty() {
            return Err(GlError::param(missing.join(", ")));
        }
        Ok(out)
    }
}

/// `a=1&b=x+y` as pairs, percent-decoded.
fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `items`, one page of them as `per_page` and `page` ask, with GitLab's offset pagination
/// headers. The links keep the request's other parameters, sorted by name as Rails'
/// `to_query` writes them.
pub(crate) fn paginate(f: &Shared, uri: &Uri, input: &Input, items: Vec<Value>) -> Api {
    let per_page = match input.u64("per_page")? {
        None | Some(0) => 20,
        Some(n) => n.min(100) as usize,
    };
    let page = input.u64("page")?.unwrap_or(1).max(1) as usize;
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let body: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let others: Vec<(String, String)> = parse_form(uri.query().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .collect();
    let href = |p: usize| {
        let mut q = others.clone();
        q.push(("page".into(), p.to_string()));
        q.push(("per_page".into(), per_page.to_string()));
        q.sort();
        let q: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{}{PREFIX}{}?{}", f.base, uri.path(), q.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", href(page - 1)));
    }
    if page < pages {
        links.push(format!("<{}>; rel=\"next\"", href(page + 1)));
    }
    links.push(format!("<{}>; rel=\"first\"", href(1)));
    links.push(format!("<{}>; rel=\"last\"", href(pages)));
    let next = if page < pages {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let prev = if page > 1 {
        (page - 1).to_string()
    } else {
        String::new()
    };
    let mut resp = Json(Value::Array(body)).into_response();
    let h = resp.headers_mut();
    for (name, v) in [
        ("x-page", page.to_string()),
        ("x-per-page", per_page.to_string()),
        ("x-next-page", next),
        ("x-prev-page", prev),
        ("x-total", total.to_string()),
        ("x-total-pages", pages.to_string()),
        ("link", links.join(", ")),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(name, v);
        }
    }
    Ok(resp)
}

/// A stable id for a name: 64-bit FNV-1a, folded into 1000..1_000_001_000 (clear of the small
/// ids of users and projects, and safe as a JavaScript number).
pub(crate) fn stable_id(name: &str) -> u64 {
    1000 + store::fnv1a64(name) % 1_000_000_000
}

/// A namespace's id.
pub(crate) fn namespace_id(name: &str) -> u64 {
    stable_id(name)
}

pub(crate) fn is_user(f: &Shared, name: &str) -> bool {
    f.cfg.users.iter().any(|(l, _)| l == name)
}

pub(crate) fn user_id(f: &Shared, login: &str) -> u64 {
    f.cfg
        .users
        .iter()
        .position(|(l, _)| l == login)
        .map_or(0, |i| i as u64 + 1)
}

pub(crate) fn email(login: &str) -> String {
    format!("{login}@forge.invalid")
}

/// A user as GitLab's `UserBasic`.
pub(crate) fn user_json(f: &Shared, login: &str) -> Value {
    json!({
        "id": user_id(f, login),
        "username": login,
        "name": login,
        "state": "active",
        "locked": false,
        "avatar_url": null,
        "web_url": format!("{}/{login}", f.base),
    })
}

fn registry(f: &Shared) -> std::path::PathBuf {
    f.cfg.root.join(".gitlab-namespaces")
}

/// Every namespace name the forge knows: users, repository owners and the names asked about.
fn known_namespaces(f: &Shared) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = f.cfg.users.iter().map(|(l, _)| l.clone()).collect();
    names.extend(f.store.all().into_iter().map(|m| m.owner));
    if let Ok(text) = std::fs::read_to_string(registry(f)) {
        names.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_string));
    }
    names
}

/// Remembers a group's name so that its id can be turned back into it.
fn remember(f: &Shared, name: &str) {
    if known_namespaces(f).contains(name) {
        return;
    }
    use std::io::Write;
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(registry(f))
    {
        let _ = writeln!(file, "{name}");
    }
}

/// The namespace `key` (an id, or a path) names.
pub(crate) fn find_namespace(f: &Shared, key: &str) -> Option<String> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        let id: u64 = key.parse().ok()?;
        return known_namespaces(f)
            .into_iter()
            .find(|n| namespace_id(n) == id);
    }
    if !store::valid_name(key) {
        return None;
    }
    remember(f, key);
    Some(key.to_string())
}

pub(crate) fn namespace_json(f: &Shared, name: &str) -> Value {
    let user = is_user(f, name);
    json!({
        "id": namespace_id(name),
        "name": name,
        "path": name,
        "kind": if user { "user" } else { "group" },
        "full_path": name,
        "parent_id": null,
        "avatar_url": null,
        "web_url": if user { format!("{}/{name}", f.base) } else { format!("{}/groups/{name}", f.base) },
    })
}

fn group_json(f: &Shared, name: &str) -> Value {
    json!({
        "id": namespace_id(name),
        "web_url": format!("{}/groups/{name}", f.base),
        "name": name,
        "path": name,
        "description": "",
        "visibility": "private",
        "full_name": name,
        "full_path": name,
        "parent_id": null,
        "avatar_url": null,
    })
}

/// The per-repository state of this API that the store has no place for: `gitlab.json` beside
/// `forge.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Extra {
    /// The display name, when it is not the path.
    #[serde(default)]
    pub name: Option<String>,
    /// `visibility: internal` (the store only knows private and public).
    #[serde(default)]
    pub internal: bool,
    /// Branches protected through `/protected_branches`: `(push, merge)` access levels.
    #[serde(default)]
    pub protected: BTreeMap<String, (u32, u32)>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// By merge request iid.
    #[serde(default)]
    pub mrs: BTreeMap<u64, MrExtra>,
}

/// An approval rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Rule {
    pub id: u64,
    pub name: String,
    pub approvals_required: u32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct MrExtra {
    #[serde(default)]
    pub remove_source_branch: bool,
    #[serde(default)]
    pub squash: bool,
    #[serde(default)]
    pub squash_commit_sha: Option<String>,
    #[serde(default)]
    pub merged_by: Option<String>,
    #[serde(default)]
    pub closed_by: Option<String>,
}

impl Extra {
    fn file(f: &Shared, full: &str) -> std::path::PathBuf {
        f.store.path(full).join("gitlab.json")
    }

    pub(crate) fn load(f: &Shared, full: &str) -> Extra {
        std::fs::read(Extra::file(f, full))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes it (atomically: a temporary file renamed). Called under the store's lock.
    pub(crate) fn save(&self, f: &Shared, full: &str) -> Result<(), GlError> {
        let path = Extra::file(f, full);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).unwrap())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(GlError::internal)
    }
}

/// The project `id` names: its id, or its path (`OWNER/REPO`, URL-decoded by the router).
pub(crate) fn project(f: &Shared, id: &str) -> Result<Meta, GlError> {
    let found = if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = id.parse().map_err(|_| GlError::not_found("Project"))?;
        f.store.all().into_iter().find(|m| m.id == n)
    } else {
        f.store.get(id)
    };
    found.ok_or_else(|| GlError::not_found("Project"))
}

pub(crate) fn web_url(f: &Shared, m: &Meta) -> String {
    format!("{}/{}", f.base, m.full_name())
}

fn visibility(m: &Meta, extra: &Extra) -> &'static str {
    match (m.private, extra.internal) {
        (false, _) => "public",
        (true, true) => "internal",
        (true, false) => "private",
    }
}

/// A project's display name.
pub(crate) fn display_name(m: &Meta, extra: &Extra) -> String {
    extra.name.clone().unwrap_or_else(|| m.name.clone())
}

pub(crate) fn project_json(f: &Shared, m: &Meta) -> Value {
    let full = m.full_name();
    let extra = Extra::load(f, &full);
    let empty = f.store.is_empty_repo(&full);
    let name = display_name(m, &extra);
    let host = f.base.trim_start_matches("http://");
    let host = host.split(':').next().unwrap_or(host);
    let mut v = json!({
        "id": m.id,
        "description": m.description,
        "name": name,
        "name_with_namespace": format!("{} / {name}", m.owner),
        "path": m.name,
        "path_with_namespace": full,
        "created_at": m.created_at,
        "last_activity_at": m.created_at,
        "default_branch": if empty { Value::Null } else { json!(m.default_branch) },
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": format!("git@{host}:{full}.git"),
        "http_url_to_repo": format!("{}/{full}.git", f.base),
        "web_url": web_url(f, m),
        "readme_url": null,
        "avatar_url": null,
        "forks_count": 0,
        "star_count": 0,
        "namespace": namespace_json(f, &m.owner),
        "visibility": visibility(m, &extra),
        "empty_repo": empty,
        "archived": false,
        "merge_method": "merge",
        "squash_option": "default_off",
        "remove_source_branch_after_merge": false,
        "only_allow_merge_if_pipeline_succeeds": false,
        "merge_requests_enabled": true,
        "issues_enabled": true,
    });
    if is_user(f, &m.owner) {
        v["owner"] = user_json(f, &m.owner);
    }
    v
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/user", get(user))
        .route("/namespaces/{id}", get(namespace))
        .route("/groups/{id}", get(group))
        .route("/projects", post(create_project))
        .route("/projects/{id}", get(get_project))
        .merge(repository::routes())
        .merge(merge_requests::routes())
        // Grape's answer for a route it does not have.
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(json!({ "error": "404 Not Found" })),
            )
        })
}

async fn user(State(f): State<Shared>, Extension(l): Extension<Login>) -> Json<Value> {
    let mut v = user_json(&f, &l.0);
    v["email"] = json!(email(&l.0));
    v["is_admin"] = json!(false);
    v["bot"] = json!(false);
    Json(v)
}

async fn namespace(State(f): State<Shared>, Path(id): Path<String>) -> Api {
    let name = find_namespace(&f, &id).ok_or_else(|| GlError::not_found("Namespace"))?;
    ok(StatusCode::OK, namespace_json(&f, &name))
}

async fn group(State(f): State<Shared>, Path(id): Path<String>) -> Api {
    match find_namespace(&f, &id) {
        Some(name) if !is_user(&f, &name) => ok(StatusCode::OK, group_json(&f, &name)),
        _ => Err(GlError::not_found("Group")),
    }
}

async fn get_project(State(f): State<Shared>, Path(id): Path<String>) -> Api {
    let m = project(&f, &id)?;
    ok(StatusCode::OK, project_json(&f, &m))
}

/// Rails' `parameterize`, which makes a project's path from its name: `GitLab HQ` is
/// `gitlab-hq`.
fn parameterize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// GitLab's rule for a project's name: letters, digits, emoji, `_`, `.`, `+`, dashes and spaces,
/// starting with a letter, a digit, an emoji or `_`.
fn valid_project_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= 255
        && (first.is_alphanumeric() || first == '_' || !first.is_ascii())
        && chars.all(|c| {
            c.is_alphanumeric() || matches!(c, '_' | '.' | '+' | '-' | ' ') || !c.is_ascii()
        })
}

async fn create_project(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    input: Input,
) -> Api {
    let (name, path) = match (input.str("name")?, input.str("path")?) {
        (None, None) => {
            return Err(GlError::param(
                "name, path are missing, at least one parameter must be provided",
            ));
        }
        (Some(n), None) => {
            let p = parameterize(&n);
            (n, p)
        }
        (None, Some(p)) => (p.clone(), p),
        (Some(n), Some(p)) => (n, p),
    };
    let owner = match input.value("namespace_id") {
        None => l.0.clone(),
        Some(v) => {
            let key = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(GlError::param("namespace_id is invalid")),
            };
            find_namespace(&f, &key)
                .ok_or_else(|| GlError::bad_request(json!({ "namespace": ["is not valid"] })))?
        }
    };
    if !valid_project_name(&name) {
        return Err(GlError::bad_request(json!({ "name": [
            "can contain only letters, digits, emoji, '_', '.', '+', dashes, or spaces. It must start with a letter, digit, emoji, or '_'."
        ] })));
    }
    if !store::valid_name(&path) || path.starts_with('-') || path.ends_with(".atom") {
        return Err(GlError::bad_request(json!({ "path": [
            "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"
        ] })));
    }
    let visibility = input.str("visibility")?.unwrap_or_else(|| "private".into());
    if !matches!(visibility.as_str(), "private" | "internal" | "public") {
        return Err(GlError::param("visibility does not have a valid value"));
    }
    let default_branch = input
        .str("default_branch")?
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "main".into());
    if !git2::Reference::is_valid_name(&format!("refs/heads/{default_branch}")) {
        return Err(GlError::bad_request(
            json!({ "default_branch": ["is invalid"] }),
        ));
    }
    let readme = input.bool("initialize_with_readme")?.unwrap_or(false);
    let description = input.str("description")?.unwrap_or_default();
    let m = match f.store.create(
        &owner,
        &path,
        &description,
        visibility != "public",
        &default_branch,
        readme,
    ) {
        Ok(m) => m,
        Err(None) => {
            return Err(GlError::bad_request(json!({
                "name": ["has already been taken"],
                "path": ["has already been taken"],
            })));
        }
        Err(Some(e)) => return Err(GlError::internal(e)),
    };
    let extra = Extra {
        name: (name != path).then_some(name),
        internal: visibility == "internal",
        ..Extra::default()
    };
    extra.save(&f, &m.full_name())?;
    ok(StatusCode::CREATED, project_json(&f, &m))
}
