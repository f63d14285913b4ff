//! Pull requests: open, list, merge (with conflicts and required reviews), close, reviews and
//! labels.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use git2::Repository;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, ApiError, ok, repo, repo_json, stable_id, user_json};
use crate::store::{Meta, Pull, Review, branch_head, now, trial_merge};
use crate::{JsonBody, Login, Shared};

fn find_pull(m: &Meta, n: u64) -> Result<usize, ApiError> {
    m.pull_index(n).ok_or_else(ApiError::not_found)
}

/// Why a pull request cannot merge now, if it cannot: conflicts, or missing approvals.
fn blocker(m: &Meta, git: &Repository, p: &Pull) -> Result<Option<(bool, String)>, ApiError> {
    let (Some(base), Some(head)) = (branch_head(git, &p.base), branch_head(git, &p.head)) else {
        return Ok(Some((false, "Base or head branch is missing".into())));
    };
    if let Err(paths) = trial_merge(git, base, head)? {
        return Ok(Some((
            true,
            format!(
                "Pull Request is not mergeable: conflicts in {}",
                paths.join(", ")
            ),
        )));
    }
    if let Some(prot) = m.protection.get(&p.base) {
        // The latest review of each reviewer on the current head counts.
        if m.approvals_left(p, &head.to_string()) > 0 {
            return Ok(Some((
                false,
                format!(
                    "At least {} approving review{} required by reviewers with write access.",
                    prot.required_approving_review_count,
                    if prot.required_approving_review_count == 1 {
                        " is"
                    } else {
                        "s are"
                    }
                ),
            )));
        }
    }
    Ok(None)
}

/// Commits, additions, deletions and changed files of `head` over its merge base with `base`.
fn pull_stats(git: &Repository, base: &str, head: &str) -> (usize, usize, usize, usize) {
    let stats = || -> Result<(usize, usize, usize, usize), git2::Error> {
        let (base, head) = (git2::Oid::from_str(base)?, git2::Oid::from_str(head)?);
        let from = git.merge_base(base, head)?;
        let mut walk = git.revwalk()?;
        walk.push(head)?;
        walk.hide(from)?;
        let commits = walk.count();
        let (old, new) = (
            git.find_commit(from)?.tree()?,
            git.find_commit(head)?.tree()?,
        );
        let s = git
            .diff_tree_to_tree(Some(&old), Some(&new), None)?
            .stats()?;
        Ok((commits, s.insertions(), s.deletions(), s.files_changed()))
    };
    stats().unwrap_or_default()
}

/// A label as GitHub's `label` has it: as the repository defines it, else derived from its name.
pub(super) fn label_json(f: &Shared, m: &Meta, name: &str) -> Value {
    let defined = m.labels.iter().find(|l| l.name == name);
    let id = defined.map_or_else(|| stable_id(name), |l| l.id);
    let escaped: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    json!({
        "id": id,
        "node_id": format!("LA_{id}"),
        "url": format!("{}/api/v3/repos/{}/labels/{escaped}", f.base, m.full_name()),
        "name": name,
        "description": defined.map(|l| l.description.clone()).filter(|d| !d.is_empty()),
        "color": defined.map_or_else(
            || format!("{:06x}", id & 0xff_ffff),
            |l| l.color.trim_start_matches('#').to_string(),
        ),
        "default": false,
    })
}

/// How a user stands to a repository, for `author_association`: the forge's users all have
/// write access.
fn association(m: &Meta, login: &str) -> &'static str {
    if login == m.owner {
        "OWNER"
    } else {
        "COLLABORATOR"
    }
}

fn pull_json(f: &Shared, m: &Meta, git: &Repository, p: &Pull) -> Result<Value, ApiError> {
    let full = m.full_name();
    let head_sha = p.head_sha(git).unwrap_or_default();
    let base_sha = branch_head(git, &p.base)
        .map(|o| o.to_string())
        .unwrap_or_default();
    let (mergeable, state) = if p.state != "open" {
        (Value::Null, "unknown")
    } else {
        match blocker(m, git, p)? {
            None => (json!(true), "clean"),
            Some((true, _)) => (json!(false), "dirty"),
            Some((false, _)) => (json!(true), "blocked"),
        }
    };
    // A merge or squash commit's first parent is the base the pull request was merged into.
    let merged_into = p
        .merge_commit_sha
        .as_deref()
        .filter(|s| *s != head_sha)
        .and_then(|s| git2::Oid::from_str(s).ok())
        .and_then(|o| git.find_commit(o).ok());
    let stats_base = merged_into
        .as_ref()
        .and_then(|c| c.parent_id(0).ok())
        .map_or(base_sha.clone(), |o| o.to_string());
    let (commits, additions, deletions, changed_files) = pull_stats(git, &stats_base, &head_sha);
    // Who merged it, as recorded; else the committer of the merge or squash commit (the forge
    // signs those as the user who merged).
    let merged_by = m
        .merged_by
        .get(&p.number)
        .cloned()
        .or_else(|| {
            let c = merged_into.as_ref()?.committer();
            Some(c.email().ok()?.strip_suffix("@forge.invalid")?.to_string())
        })
        .filter(|_| p.merged)
        .map_or(Value::Null, |l| user_json(f, &l));
    let side = |branch: &str, sha: &str| {
        json!({
            "label": format!("{}:{branch}", m.owner),
            "ref": branch,
            "sha": sha,
            "user": user_json(f, &m.owner),
            "repo": repo_json(f, m),
        })
    };
    let api = format!("{}/api/v3/repos/{full}", f.base);
    let url = format!("{api}/pulls/{}", p.number);
    let html_url = format!("{}/{full}/pull/{}", f.base, p.number);
    let issue_url = format!("{api}/issues/{}", p.number);
    let link = |href: &str| json!({ "href": href });
    let mut v = json!({
        "id": p.id,
        "node_id": format!("PR_{}", p.id),
        "number": p.number,
        "state": p.state,
        "locked": false,
        "active_lock_reason": null,
        "title": p.title,
        "body": p.body,
        "user": user_json(f, &p.user),
        "author_association": association(m, &p.user),
        "labels": p.labels.iter().map(|l| label_json(f, m, l)).collect::<Vec<_>>(),
        "milestone": null,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(&p.head, &head_sha),
        "base": side(&p.base, &base_sha),
        "merged": p.merged,
        "merged_at": p.merged_at,
        "merged_by": merged_by,
        "closed_at": p.closed_at,
        "merge_commit_sha": p.merge_commit_sha,
        "mergeable": mergeable,
        "mergeable_state": state,
        "rebaseable": mergeable,
        "maintainer_can_modify": false,
        "auto_merge": null,
        "draft": false,
        "commits": commits,
        "additions": additions,
        "deletions": deletions,
        "changed_files": changed_files,
        "comments": 0,
        "review_comments": 0,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    });
    let links = json!({
        "self": link(&url),
        "html": link(&html_url),
        "issue": link(&issue_url),
        "comments": link(&format!("{issue_url}/comments")),
        "review_comments": link(&format!("{url}/comments")),
        "review_comment": link(&format!("{api}/pulls/comments{{/number}}")),
        "commits": link(&format!("{url}/commits")),
        "statuses": link(&format!("{api}/statuses/{head_sha}")),
    });
    for (key, value) in [
        ("url", json!(url)),
        ("html_url", json!(html_url)),
        ("issue_url", json!(issue_url)),
        ("diff_url", json!(format!("{html_url}.diff"))),
        ("patch_url", json!(format!("{html_url}.patch"))),
        ("commits_url", json!(format!("{url}/commits"))),
        ("review_comments_url", json!(format!("{url}/comments"))),
        (
            "review_comment_url",
            json!(format!("{api}/pulls/comments{{/number}}")),
        ),
        ("comments_url", json!(format!("{issue_url}/comments"))),
        ("statuses_url", json!(format!("{api}/statuses/{head_sha}"))),
        ("_links", links),
    ] {
        v[key] = value;
    }
    Ok(v)
}

#[derive(Deserialize)]
struct NewPull {
    title: String,
    head: String,
    base: String,
    #[serde(default)]
    body: Option<String>,
}

async fn create_pull(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewPull>,
) -> Api {
    let full = format!("{o}/{r}");
    let head = body
        .head
        .split_once(':')
        .map(|(_, b)| b.to_string())
        .unwrap_or(body.head.clone());
    let v = f.store.update(&full, |m, git| {
        let (Some(h), Some(b)) = (branch_head(git, &head), branch_head(git, &body.base)) else {
            return Err(ApiError::invalid(
                "Validation Failed: head or base does not exist",
            ));
        };
        if m.open_pull_for(&head, &body.base).is_some() {
            return Err(ApiError::invalid(format!(
                "A pull request already exists for {}:{head}.",
                m.owner
            )));
        }
        if h == b || git.graph_descendant_of(b, h)? {
            return Err(ApiError::invalid(format!(
                "No commits between {} and {head}",
                body.base
            )));
        }
        let p = m.open_pull(
            &l.0,
            &head,
            &body.base,
            &body.title,
            body.body.as_deref().unwrap_or(""),
        );
        pull_json(&f, m, git, &p)
    })?;
    ok(StatusCode::CREATED, v)
}

#[derive(Deserialize)]
struct PullQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    head: Option<String>,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    per_page: Option<usize>,
    #[serde(default)]
    page: Option<usize>,
}

async fn list_pulls(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<PullQuery>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let state = q.state.as_deref().unwrap_or("open");
    let head = q
        .head
        .as_deref()
        .map(|h| h.split_once(':').map(|(_, b)| b).unwrap_or(h).to_string());
    let mut matching: Vec<&Pull> = m
        .pulls
        .iter()
        .filter(|p| state == "all" || p.state == state)
        .filter(|p| head.as_ref().is_none_or(|h| &p.head == h))
        .filter(|p| q.base.as_ref().is_none_or(|b| &p.base == b))
        .collect();
    matching.sort_by_key(|p| std::cmp::Reverse(p.number));
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<Value> = matching
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|p| pull_json(&f, &m, &git, p))
        .collect::<Result<_, _>>()?;
    let mut resp = Json(Value::Array(items)).into_response();
    if page * per_page < matching.len() {
        let mut next = format!(
            "{}/api/v3/repos/{}/pulls?state={state}&per_page={per_page}&page={}",
            f.base,
            m.full_name(),
            page + 1
        );
        if let Some(h) = &q.head {
            next.push_str(&format!("&head={h}"));
        }
        if let Some(b) = &q.base {
            next.push_str(&format!("&base={b}"));
        }
        if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            resp.headers_mut().insert("link", v);
        }
    }
    Ok(resp)
}

async fn get_pull(State(f): State<Shared>, Path((o, r, n)): Path<(String, String, u64)>) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let i = find_pull(&m, n)?;
    ok(StatusCode::OK, pull_json(&f, &m, &git, &m.pulls[i])?)
}

#[derive(Deserialize)]
struct UpdatePull {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

async fn update_pull(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
    JsonBody(body): JsonBody<UpdatePull>,
) -> Api {
    let v = f.store.update(&format!("{o}/{r}"), |m, git| {
        let i = find_pull(m, n)?;
        let head = branch_head(git, &m.pulls[i].head).map(|o| o.to_string());
        let p = &mut m.pulls[i];
        if let Some(t) = body.title {
            p.title = t;
        }
        if let Some(b) = body.body {
            p.body = b;
        }
        let mut closing = false;
        match body.state.as_deref() {
            Some("closed") if p.state == "open" => {
                p.close(head);
                closing = true;
            }
            Some("open") if p.state == "closed" => p.reopen(),
            Some("open") | Some("closed") | None => {}
            Some(other) => return Err(ApiError::invalid(format!("state {other} is invalid"))),
        }
        p.updated_at = now();
        let p = p.clone();
        let v = pull_json(&f, m, git, &p)?;
        if closing {
            f.deliver("pull_request", &event("closed", &f, m, &v));
        }
        Ok(v)
    })?;
    ok(StatusCode::OK, v)
}

/// A `pull_request` webhook payload, as GitHub shapes it.
fn event(action: &str, f: &Shared, m: &Meta, pull: &Value) -> Value {
    json!({
        "action": action,
        "number": pull["number"],
        "pull_request": pull,
        "repository": repo_json(f, m),
        "sender": pull["user"],
    })
}

#[derive(Deserialize, Default)]
struct MergeBody {
    #[serde(default)]
    merge_method: Option<String>,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    commit_title: Option<String>,
    #[serde(default)]
    commit_message: Option<String>,
}

async fn merge_pull(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r, n)): Path<(String, String, u64)>,
    JsonBody(body): JsonBody<MergeBody>,
) -> Api {
    let method = body.merge_method.as_deref().unwrap_or("merge").to_string();
    if !matches!(method.as_str(), "merge" | "squash" | "rebase") {
        return Err(ApiError::invalid(format!(
            "merge_method {method} is invalid"
        )));
    }
    let v = f.store.update(&format!("{o}/{r}"), |m, git| {
        let i = find_pull(m, n)?;
        let p = m.pulls[i].clone();
        if p.state != "open" {
            return Err(ApiError(
                StatusCode::METHOD_NOT_ALLOWED,
                "Pull Request is not mergeable".into(),
            ));
        }
        let (Some(base), Some(head)) = (branch_head(git, &p.base), branch_head(git, &p.head))
        else {
            return Err(ApiError(
                StatusCode::METHOD_NOT_ALLOWED,
                "Base or head branch is missing".into(),
            ));
        };
        if let Some(sha) = &body.sha
            && *sha != head.to_string()
        {
            return Err(ApiError(
                StatusCode::CONFLICT,
                "Head branch was modified. Review and try the merge again.".into(),
            ));
        }
        if let Some((_, why)) = blocker(m, git, &p)? {
            return Err(ApiError(StatusCode::METHOD_NOT_ALLOWED, why));
        }
        let tree = match trial_merge(git, base, head)? {
            Ok(t) => git.find_tree(t)?,
            Err(_) => unreachable!("blocker() reports conflicts"),
        };
        let sig = git2::Signature::now(&l.0, &format!("{}@forge.invalid", l.0))?;
        let title = body
            .commit_title
            .clone()
            .unwrap_or_else(|| format!("Merge pull request #{n} from {}/{}", m.owner, p.head));
        let message = match &body.commit_message {
            Some(msg) => format!("{title}\n\n{msg}"),
            None => format!("{title}\n\n{}", p.title),
        };
        let base_c = git.find_commit(base)?;
        let head_c = git.find_commit(head)?;
        let merged = match method.as_str() {
            "merge" => git.commit(None, &sig, &sig, &message, &tree, &[&base_c, &head_c])?,
            "squash" => git.commit(None, &sig, &sig, &message, &tree, &[&base_c])?,
            _ => {
                // Rebase is offered when the head already contains the base: a fast-forward.
                if !git.graph_descendant_of(head, base)? {
                    return Err(ApiError(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "This branch can't be rebased".into(),
                    ));
                }
                head
            }
        };
        git.reference(
            &format!("refs/heads/{}", p.base),
            merged,
            true,
            &format!("forge: merge #{n}"),
        )?;
        m.pulls[i].record_merge(merged, head);
        let p = m.pulls[i].clone();
        m.merged_by.insert(n, l.0.clone());
        let pull = pull_json(&f, m, git, &p)?;
        f.deliver("pull_request", &event("closed", &f, m, &pull));
        Ok(json!({ "sha": merged.to_string(), "merged": true, "message": "Pull Request successfully merged" }))
    })?;
    ok(StatusCode::OK, v)
}

async fn is_merged(State(f): State<Shared>, Path((o, r, n)): Path<(String, String, u64)>) -> Api {
    let m = repo(&f, &o, &r)?;
    let i = find_pull(&m, n)?;
    if m.pulls[i].merged {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found())
    }
}

#[derive(Deserialize)]
struct NewReview {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

fn review_json(f: &Shared, m: &Meta, n: u64, r: &Review) -> Value {
    let pull_url = format!("{}/api/v3/repos/{}/pulls/{n}", f.base, m.full_name());
    let html_url = format!(
        "{}/{}/pull/{n}#pullrequestreview-{}",
        f.base,
        m.full_name(),
        r.id
    );
    json!({
        "id": r.id,
        "node_id": format!("PRR_{}", r.id),
        "user": user_json(f, &r.user),
        "state": r.state,
        "body": r.body,
        "commit_id": r.commit,
        "html_url": html_url,
        "pull_request_url": pull_url,
        "author_association": association(m, &r.user),
        "_links": { "html": { "href": html_url }, "pull_request": { "href": pull_url } },
    })
}

async fn create_review(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r, n)): Path<(String, String, u64)>,
    JsonBody(body): JsonBody<NewReview>,
) -> Api {
    let state = match body.event.as_deref() {
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("COMMENT") => "COMMENTED",
        _ => {
            return Err(ApiError::invalid(
                "event must be APPROVE, REQUEST_CHANGES or COMMENT",
            ));
        }
    };
    let v = f.store.update(&format!("{o}/{r}"), |m, git| {
        let i = find_pull(m, n)?;
        let p = &mut m.pulls[i];
        if p.user == l.0 && state != "COMMENTED" {
            return Err(ApiError::invalid(
                "Unprocessable Entity: Can not approve your own pull request",
            ));
        }
        let head = branch_head(git, &p.head)
            .map(|o| o.to_string())
            .unwrap_or_default();
        let review = p.add_review(&l.0, state, body.body.as_deref().unwrap_or(""), head);
        Ok(review_json(&f, m, n, &review))
    })?;
    ok(StatusCode::OK, v)
}

async fn list_reviews(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let i = find_pull(&m, n)?;
    ok(
        StatusCode::OK,
        Value::Array(
            m.pulls[i]
                .reviews
                .iter()
                .map(|r| review_json(&f, &m, n, r))
                .collect(),
        ),
    )
}

#[derive(Deserialize)]
struct Labels {
    labels: Vec<String>,
}

async fn add_labels(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
    JsonBody(body): JsonBody<Labels>,
) -> Api {
    let v = f.store.update(&format!("{o}/{r}"), |m, _| {
        let i = find_pull(m, n)?;
        let p = &mut m.pulls[i];
        for l in body.labels {
            if l.trim().is_empty() || l.len() > 50 {
                return Err(ApiError::invalid(format!("label `{l}` is invalid")));
            }
            if !p.labels.contains(&l) {
                p.labels.push(l);
            }
        }
        let labels = p.labels.clone();
        Ok(Value::Array(
            labels.iter().map(|l| label_json(&f, m, l)).collect(),
        ))
    })?;
    ok(StatusCode::OK, v)
}

async fn list_labels(State(f): State<Shared>, Path((o, r, n)): Path<(String, String, u64)>) -> Api {
    let m = repo(&f, &o, &r)?;
    let i = find_pull(&m, n)?;
    ok(
        StatusCode::OK,
        Value::Array(
            m.pulls[i]
                .labels
                .iter()
                .map(|l| label_json(&f, &m, l))
                .collect(),
        ),
    )
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{o}/{r}/pulls", post(create_pull).get(list_pulls))
        .route("/repos/{o}/{r}/pulls/{n}", get(get_pull).patch(update_pull))
        .route(
            "/repos/{o}/{r}/pulls/{n}/merge",
            put(merge_pull).get(is_merged),
        )
        .route(
            "/repos/{o}/{r}/pulls/{n}/reviews",
            post(create_review).get(list_reviews),
        )
        .route(
            "/repos/{o}/{r}/issues/{n}/labels",
            post(add_labels).get(list_labels),
        )
}
