//! The GitHub-shaped REST API (v3), the subset idp's `github` provider and the tests use: repos and
//! branches here, the Git database API and contents in `git.rs`, pull requests, reviews and
//! labels in `pulls.rs`. Shapes,
//! status codes and messages follow GitHub's documentation: 404 for what the token cannot see,
//! 409 for the Git database API on an empty repository, 422 for validation, 405 for a pull
//! request that cannot be merged (conflicts, missing approvals), 409 for a merge whose `sha` is
//! stale.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

mod git;
mod pulls;

use crate::store::{self, Meta, Protection, branch_head};
use crate::{JsonBody, Login, Shared};

pub struct ApiError(StatusCode, String);

impl ApiError {
    pub fn not_found() -> ApiError {
        ApiError(StatusCode::NOT_FOUND, "Not Found".into())
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
    fn invalid(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::UNPROCESSABLE_ENTITY, msg.into())
    }
    fn empty() -> ApiError {
        ApiError(StatusCode::CONFLICT, "Git Repository is empty.".into())
    }
}

impl From<git2::Error> for ApiError {
    fn from(e: git2::Error) -> ApiError {
        match e.code() {
            git2::ErrorCode::NotFound => ApiError::not_found(),
            _ => ApiError::internal(e.message()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::error(self.0, self.1)
    }
}

pub(super) type Api = Result<Response, ApiError>;

pub(super) fn ok(status: StatusCode, v: Value) -> Api {
    Ok((status, Json(v)).into_response())
}

pub(super) fn b64(data: &[u8]) -> String {
    // GitHub wraps base64 content at 60 characters.
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(s.len() + s.len() / 60 + 1);
    for chunk in s.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out
}

pub(super) fn unb64(s: &str) -> Result<Vec<u8>, ApiError> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map_err(|_| ApiError::invalid("content is not valid base64"))
}

pub(super) fn user_json(login: &str) -> Value {
    json!({ "login": login, "id": login.len(), "type": "User" })
}

pub(super) fn repo_json(f: &Shared, m: &Meta) -> Value {
    let full = m.full_name();
    json!({
        "id": m.id,
        "node_id": format!("R_{}", m.id),
        "name": m.name,
        "full_name": full,
        "owner": { "login": m.owner, "type": "Organization" },
        "private": m.private,
        "visibility": if m.private { "private" } else { "public" },
        "description": m.description,
        "default_branch": m.default_branch,
        "html_url": format!("{}/{full}", f.base),
        "url": format!("{}/api/v3/repos/{full}", f.base),
        "clone_url": format!("{}/{full}.git", f.base),
        "created_at": m.created_at,
        "permissions": { "admin": true, "push": true, "pull": true },
    })
}

pub(super) fn repo(f: &Shared, owner: &str, name: &str) -> Result<Meta, ApiError> {
    f.store
        .get(&format!("{owner}/{name}"))
        .ok_or_else(ApiError::not_found)
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/user", get(user))
        .route("/user/repos", post(create_user_repo))
        .route(
            "/orgs/{org}/repos",
            post(create_org_repo).get(list_org_repos),
        )
        .route("/repos/{o}/{r}", get(get_repo))
        .route("/repos/{o}/{r}/branches/{*rest}", get(branch).put(protect))
        .merge(git::routes())
        .merge(pulls::routes())
}

async fn user(Extension(l): Extension<Login>) -> Json<Value> {
    Json(user_json(&l.0))
}

#[derive(Deserialize)]
struct NewRepo {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    auto_init: Option<bool>,
    #[serde(default)]
    visibility: Option<String>,
}

fn create_repo_in(f: &Shared, owner: &str, body: NewRepo) -> Api {
    if !store::valid_name(owner) || !store::valid_name(&body.name) {
        return Err(ApiError::invalid(format!(
            "Repository creation failed: name `{}` is invalid",
            body.name
        )));
    }
    let private = body.private.unwrap_or(false) || body.visibility.as_deref() == Some("private");
    match f.store.create(
        owner,
        &body.name,
        body.description.as_deref().unwrap_or(""),
        private,
        "main",
        body.auto_init.unwrap_or(false),
    ) {
        Ok(m) => ok(StatusCode::CREATED, repo_json(f, &m)),
        Err(None) => Err(ApiError::invalid(
            "Repository creation failed: name already exists on this account",
        )),
        Err(Some(e)) => Err(ApiError::internal(e)),
    }
}

async fn create_org_repo(
    State(f): State<Shared>,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewRepo>,
) -> Api {
    create_repo_in(&f, &org, body)
}

async fn create_user_repo(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    JsonBody(body): JsonBody<NewRepo>,
) -> Api {
    create_repo_in(&f, &l.0, body)
}

async fn list_org_repos(State(f): State<Shared>, Path(org): Path<String>) -> Json<Value> {
    Json(Value::Array(
        f.store
            .list(&org)
            .iter()
            .map(|m| repo_json(&f, m))
            .collect(),
    ))
}

async fn get_repo(State(f): State<Shared>, Path((o, r)): Path<(String, String)>) -> Api {
    let m = repo(&f, &o, &r)?;
    ok(StatusCode::OK, repo_json(&f, &m))
}

async fn branch(
    State(f): State<Shared>,
    Path((o, r, rest)): Path<(String, String, String)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    if let Some(b) = rest.strip_suffix("/protection") {
        let p = m.protection.get(b).ok_or(ApiError(
            StatusCode::NOT_FOUND,
            "Branch not protected".into(),
        ))?;
        return ok(StatusCode::OK, protection_json(&f, &m, b, p));
    }
    let git = f.store.git(&m.full_name())?;
    let head = branch_head(&git, &rest)
        .ok_or(ApiError(StatusCode::NOT_FOUND, "Branch not found".into()))?;
    ok(
        StatusCode::OK,
        json!({
            "name": rest,
            "commit": { "sha": head.to_string() },
            "protected": m.protection.contains_key(&rest),
        }),
    )
}

fn protection_json(f: &Shared, m: &Meta, branch: &str, p: &Protection) -> Value {
    json!({
        "url": format!("{}/api/v3/repos/{}/branches/{branch}/protection", f.base, m.full_name()),
        "required_pull_request_reviews": {
            "required_approving_review_count": p.required_approving_review_count,
        },
    })
}

async fn protect(
    State(f): State<Shared>,
    Path((o, r, rest)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Api {
    let Some(b) = rest.strip_suffix("/protection") else {
        return Err(ApiError::not_found());
    };
    let count = body
        .pointer("/required_pull_request_reviews/required_approving_review_count")
        .and_then(Value::as_u64)
        .unwrap_or(0) as u32;
    let full = format!("{o}/{r}");
    let (m, p) = f.store.update(&full, |m, git| {
        if branch_head(git, b).is_none() {
            return Err(ApiError(StatusCode::NOT_FOUND, "Branch not found".into()));
        }
        let p = Protection {
            required_approving_review_count: count,
        };
        m.protection.insert(b.to_string(), p.clone());
        Ok((m.clone(), p))
    })?;
    ok(StatusCode::OK, protection_json(&f, &m, b, &p))
}
