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

pub(super) use crate::ok;

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

/// A stable id for an account or a label name (FNV-1a, kept within 31 bits).
pub(super) fn stable_id(s: &str) -> u64 {
    let h = s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    u64::from(h & 0x7fff_ffff).max(1)
}

/// `User` for the forge's accounts, `Organization` for any other owner.
fn account_kind(f: &Shared, login: &str) -> &'static str {
    if f.cfg.users.iter().any(|(l, _)| l == login) {
        "User"
    } else {
        "Organization"
    }
}

/// An account as GitHub's `simple-user` has it (users and organizations alike).
pub(super) fn user_json(f: &Shared, login: &str) -> Value {
    let api = format!("{}/api/v3/users/{login}", f.base);
    let id = stable_id(login);
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("{}/avatars/u/{id}", f.base),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("{}/{login}", f.base),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": account_kind(f, login),
        "site_admin": false,
        "user_view_type": "public",
    })
}

/// When the forge's accounts were made: fixed, as the accounts are.
const ACCOUNTS_CREATED: &str = "2020-01-01T00:00:00Z";

/// A repository as GitHub's `full-repository` has it (a superset of `repository` and
/// `minimal-repository`). What the forge has no notion of (forks, stars, wikis, licenses) is
/// zero, false or null.
pub(super) fn repo_json(f: &Shared, m: &Meta) -> Value {
    let full = m.full_name();
    let api = format!("{}/api/v3/repos/{full}", f.base);
    let html = format!("{}/{full}", f.base);
    let host = f.base.trim_start_matches("http://");
    let open = m.pulls.iter().filter(|p| p.state == "open").count();
    let owner = user_json(f, &m.owner);
    let org = (account_kind(f, &m.owner) == "Organization").then(|| owner.clone());
    let mut v = json!({
        "id": m.id,
        "node_id": format!("R_{}", m.id),
        "name": m.name,
        "full_name": full,
        "owner": owner,
        "organization": org,
        "private": m.private,
        "visibility": if m.private { "private" } else { "public" },
        // GitHub has `null` for a repository without a description.
        "description": (!m.description.is_empty()).then_some(&m.description),
        "fork": false,
        "default_branch": m.default_branch,
        "html_url": html,
        "url": api,
        "clone_url": format!("{}/{full}.git", f.base),
        "git_url": format!("git://{host}/{full}.git"),
        "ssh_url": format!("git@{host}:{full}.git"),
        "svn_url": html,
        "mirror_url": null,
        "homepage": null,
        "language": null,
        "license": null,
        "topics": [],
        "open_issues": open,
        "open_issues_count": open,
        "created_at": m.created_at,
        "updated_at": m.created_at,
        "pushed_at": m.created_at,
        "permissions": { "admin": true, "maintain": true, "push": true, "triage": true, "pull": true },
    });
    // What the forge has no notion of: features off, nothing counted.
    for (key, on) in [
        ("is_template", false),
        ("archived", false),
        ("disabled", false),
        ("has_issues", true),
        ("has_projects", false),
        ("has_wiki", false),
        ("has_pages", false),
        ("has_downloads", false),
        ("has_discussions", false),
        ("allow_merge_commit", true),
        ("allow_squash_merge", true),
        ("allow_rebase_merge", true),
        ("allow_auto_merge", false),
        ("allow_update_branch", false),
        ("allow_forking", false),
        ("delete_branch_on_merge", false),
        ("web_commit_signoff_required", false),
    ] {
        v[key] = json!(on);
    }
    for key in [
        "forks",
        "forks_count",
        "stargazers_count",
        "watchers",
        "watchers_count",
        "network_count",
        "subscribers_count",
        "size",
    ] {
        v[key] = json!(0);
    }
    // The URL templates GitHub gives with every repository.
    for (key, path) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        v[key] = json!(format!("{api}{path}"));
    }
    v
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

/// The authenticated user, as GitHub's `private-user` has it.
async fn user(State(f): State<Shared>, Extension(l): Extension<Login>) -> Json<Value> {
    let repos = f.store.list(&l.0);
    let private = repos.iter().filter(|m| m.private).count();
    let mut v = user_json(&f, &l.0);
    let more = json!({
        "user_view_type": "private",
        "name": l.0,
        "company": null,
        "blog": "",
        "location": null,
        "email": null,
        "hireable": null,
        "bio": null,
        "public_repos": repos.len() - private,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": ACCOUNTS_CREATED,
        "updated_at": ACCOUNTS_CREATED,
        "private_gists": 0,
        "total_private_repos": private,
        "owned_private_repos": private,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": false,
    });
    if let (Some(o), Value::Object(more)) = (v.as_object_mut(), more) {
        o.extend(more);
    }
    Json(v)
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
    let full = m.full_name();
    let git = f.store.git(&full)?;
    let head = branch_head(&git, &rest)
        .ok_or(ApiError(StatusCode::NOT_FOUND, "Branch not found".into()))?;
    let api = format!("{}/api/v3/repos/{full}/branches/{rest}", f.base);
    let protection = m.protection.get(&rest);
    ok(
        StatusCode::OK,
        json!({
            "name": rest,
            "commit": commit_summary_json(&f, &full, &git.find_commit(head)?),
            "_links": { "self": api, "html": format!("{}/{full}/tree/{rest}", f.base) },
            "protected": protection.is_some(),
            "protection": {
                "enabled": protection.is_some(),
                "required_status_checks": { "enforcement_level": "off", "contexts": [], "checks": [] },
            },
            "protection_url": format!("{api}/protection"),
        }),
    )
}

/// An account of the forge by a signature's email (`LOGIN@forge.invalid`, as the forge signs its
/// merges), `null` for anyone else, as GitHub has it for an email no account claims.
fn signer(f: &Shared, s: &git2::Signature) -> Value {
    s.email()
        .ok()
        .and_then(|e| e.strip_suffix("@forge.invalid"))
        .filter(|l| f.cfg.users.iter().any(|(u, _)| u == l))
        .map_or(Value::Null, |l| user_json(f, l))
}

/// A commit as GitHub's REST `commit` has it (branches, commits), without files and stats.
pub(super) fn commit_summary_json(f: &Shared, full: &str, c: &git2::Commit) -> Value {
    let api = format!("{}/api/v3/repos/{full}", f.base);
    let sha = c.id().to_string();
    let mut git = git::commit_json(f, full, c);
    let (author, committer) = (signer(f, &c.author()), signer(f, &c.committer()));
    let parents: Vec<Value> = c
        .parent_ids()
        .map(|p| json!({ "sha": p.to_string(), "url": format!("{api}/commits/{p}"), "html_url": format!("{}/{full}/commit/{p}", f.base) }))
        .collect();
    if let Some(o) = git.as_object_mut() {
        for k in ["sha", "node_id", "html_url", "parents"] {
            o.remove(k);
        }
        o.insert("comment_count".into(), json!(0));
    }
    json!({
        "sha": sha,
        "node_id": format!("C_{sha}"),
        "url": format!("{api}/commits/{sha}"),
        "html_url": format!("{}/{full}/commit/{sha}", f.base),
        "comments_url": format!("{api}/commits/{sha}/comments"),
        "commit": git,
        "author": author,
        "committer": committer,
        "parents": parents,
    })
}

/// Branch protection as GitHub answers it. The forge enforces required approvals for everyone
/// (admins included) and counts only reviews of the current head, so `enforce_admins` and
/// `dismiss_stale_reviews` say so whatever was asked for.
fn protection_json(f: &Shared, m: &Meta, branch: &str, p: &Protection) -> Value {
    let url = format!(
        "{}/api/v3/repos/{}/branches/{branch}/protection",
        f.base,
        m.full_name()
    );
    let mut v = json!({
        "url": url,
        "enforce_admins": { "url": format!("{url}/enforce_admins"), "enabled": true },
        "required_signatures": { "url": format!("{url}/required_signatures"), "enabled": false },
        "required_linear_history": { "enabled": false },
        "allow_force_pushes": { "enabled": false },
        "allow_deletions": { "enabled": false },
        "block_creations": { "enabled": false },
        "required_conversation_resolution": { "enabled": false },
        "lock_branch": { "enabled": false },
        "allow_fork_syncing": { "enabled": false },
    });
    if p.required_approving_review_count > 0 {
        v["required_pull_request_reviews"] = json!({
            "url": format!("{url}/required_pull_request_reviews"),
            "dismiss_stale_reviews": true,
            "require_code_owner_reviews": false,
            "required_approving_review_count": p.required_approving_review_count,
            "require_last_push_approval": false,
        });
    }
    v
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
