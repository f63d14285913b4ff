//! Pull requests: open, list, edit (close, labels), merge in each of Gitea's styles, reviews and
//! an issue's labels.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use git2::Repository;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Api, Body, Error, ListOptions, deliver, labels_of, list_response, ok, repo, repo_json, update,
    user_json,
};
use crate::store::{self, MergeRefused, MergeStyle, Meta, Pull, Review, branch_head, now};
use crate::{Login, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{o}/{r}/pulls", get(list_pulls).post(create_pull))
        .route("/repos/{o}/{r}/pulls/{n}", get(get_pull).patch(edit_pull))
        .route(
            "/repos/{o}/{r}/pulls/{n}/merge",
            get(is_merged).post(merge_pull),
        )
        .route(
            "/repos/{o}/{r}/pulls/{n}/reviews",
            get(list_reviews).post(create_review),
        )
        .route(
            "/repos/{o}/{r}/issues/{n}/labels",
            get(issue_labels)
                .post(add_issue_labels)
                .put(replace_issue_labels),
        )
}

fn find_pull(m: &Meta, n: u64) -> Result<usize, Error> {
    m.pull_index(n).ok_or_else(Error::not_found)
}

/// Gitea's 409 for a second open pull request from `p`'s head into its base.
fn already_exists(m: &Meta, p: &Pull) -> Error {
    Error::new(
        StatusCode::CONFLICT,
        format!(
            "pull request already exists for these targets [id: {}, issue_id: {}, head_repo_id: {}, base_repo_id: {}, head_branch: {}, base_branch: {}]",
            p.id, p.number, m.id, m.id, p.head, p.base
        ),
    )
}

/// Git's report of conflicts in `paths`, as Gitea passes it on.
fn conflict_report(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("CONFLICT (content): Merge conflict in {p}\n"))
        .collect()
}

/// Approvals as Gitea counts them: the latest approving or rejecting review of each reviewer
/// other than the author, on whatever commit (stale approvals count unless the rule dismisses
/// them, which the forge's rules never do).
fn approvals(p: &Pull) -> u32 {
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &p.reviews {
        if r.user != p.user && matches!(r.state.as_str(), "APPROVED" | "CHANGES_REQUESTED") {
            latest.insert(&r.user, &r.state);
        }
    }
    latest.values().filter(|s| **s == "APPROVED").count() as u32
}

/// Whether the pull request merges without conflicts (Gitea's `mergeable`, which says nothing
/// of approvals).
fn mergeable(git: &Repository, p: &Pull) -> Result<bool, Error> {
    if p.merged {
        return Ok(true);
    }
    let (Some(base), Some(head)) = (branch_head(git, &p.base), branch_head(git, &p.head)) else {
        return Ok(false);
    };
    Ok(store::trial_merge(git, base, head)?.is_ok())
}

/// A `PullRequest`. Its `url` is the web page, as Gitea's is; once the head branch is gone, the
/// head is `refs/pull/N/head` at the commit it was closed at.
fn pull_json(f: &Shared, m: &Meta, git: &Repository, p: &Pull) -> Result<Value, Error> {
    let full = m.full_name();
    let html = format!("{}/{full}/pulls/{}", f.base, p.number);
    let branch = branch_head(git, &p.head);
    let head_sha = p.head_sha(git).unwrap_or_default();
    let head_ref = match branch {
        Some(_) => p.head.clone(),
        None => format!("refs/pull/{}/head", p.number),
    };
    let base = branch_head(git, &p.base);
    let merge_base = match (base, git2::Oid::from_str(&head_sha)) {
        (Some(b), Ok(h)) => git
            .merge_base(b, h)
            .map(|o| o.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let repo = repo_json(f, m);
    let merged_by = match m.merged_by.get(&p.number) {
        Some(login) if p.merged => user_json(f, login),
        _ => Value::Null,
    };
    Ok(json!({
        "id": p.id,
        "url": html,
        "number": p.number,
        "user": user_json(f, &p.user),
        "title": p.title,
        "body": p.body,
        "labels": labels_of(f, m, &p.labels),
        "milestone": null,
        "assignee": null,
        "assignees": null,
        "requested_reviewers": null,
        "requested_reviewers_teams": null,
        "state": p.state,
        "draft": false,
        "is_locked": false,
        "comments": 0,
        "review_comments": 0,
        "additions": null,
        "deletions": null,
        "changed_files": null,
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "mergeable": mergeable(git, p)?,
        "merged": p.merged,
        "merged_at": if p.merged { json!(p.merged_at) } else { Value::Null },
        "merge_commit_sha": if p.merged { json!(p.merge_commit_sha) } else { Value::Null },
        "merged_by": merged_by,
        "allow_maintainer_edit": false,
        "base": {
            "label": p.base,
            "ref": p.base,
            "sha": base.map(|o| o.to_string()).unwrap_or_default(),
            "repo_id": m.id,
            "repo": repo,
        },
        "head": {
            "label": p.head,
            "ref": head_ref,
            "sha": head_sha,
            "repo_id": m.id,
            "repo": repo,
        },
        "merge_base": merge_base,
        "due_date": null,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "closed_at": p.closed_at,
        "pin_order": 0,
    }))
}

/// A `pull_request` webhook payload, as Gitea shapes it.
fn event(f: &Shared, m: &Meta, action: &str, pull: &Value, sender: &str) -> Value {
    json!({
        "action": action,
        "number": pull["number"],
        "pull_request": pull,
        "requested_reviewer": null,
        "repository": repo_json(f, m),
        "sender": user_json(f, sender),
        "commit_id": "",
        "review": null,
    })
}

/// Label ids as names of the repository's labels; ids it does not have are ignored, as Gitea
/// ignores them.
fn label_names(m: &Meta, ids: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for id in ids {
        let found = match id {
            Value::Number(n) => m.labels.iter().find(|l| Some(l.id) == n.as_u64()),
            Value::String(s) => m.labels.iter().find(|l| &l.name == s),
            _ => None,
        };
        if let Some(l) = found
            && !names.contains(&l.name)
        {
            names.push(l.name.clone());
        }
    }
    names
}

/// `CreatePullRequestOption`.
#[derive(Deserialize)]
struct CreatePull {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    head: String,
    #[serde(default)]
    base: String,
    #[serde(default)]
    labels: Vec<Value>,
}

async fn create_pull(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r)): Path<(String, String)>,
    Body(body): Body<CreatePull>,
) -> Api {
    if body.title.trim().is_empty() {
        return Err(Error::invalid("[Title]: Required"));
    }
    if body.head == body.base {
        return Err(Error::invalid(
            "Invalid PullRequest: There are no changes between the head and the base",
        ));
    }
    // `owner:branch` names the head repository; only the base repository itself is known here.
    let head = match body.head.split_once(':') {
        Some((owner, _)) if owner != o => return Err(Error::not_found()),
        Some((_, b)) => b.to_string(),
        None => body.head.clone(),
    };
    let v = update(&f, &o, &r, |m, git| {
        if branch_head(git, &body.base).is_none() || branch_head(git, &head).is_none() {
            return Err(Error::not_found());
        }
        if let Some(p) = m.open_pull_for(&head, &body.base) {
            return Err(already_exists(m, p));
        }
        let labels = label_names(m, &body.labels);
        let mut p = m.open_pull(&l.0, &head, &body.base, &body.title, &body.body);
        p.labels = labels;
        if let Some(stored) = m.pulls.iter_mut().find(|x| x.number == p.number) {
            stored.labels = p.labels.clone();
        }
        pull_json(&f, m, git, &p)
    })?;
    ok(StatusCode::CREATED, v)
}

async fn list_pulls(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let state = q.get("state").map(String::as_str).unwrap_or("open");
    let mut matching: Vec<&Pull> = m
        .pulls
        .iter()
        .filter(|p| !matches!(state, "open" | "closed") || p.state == state)
        .collect();
    matching.sort_by_key(|p| std::cmp::Reverse(p.number));
    if q.get("sort").map(String::as_str) == Some("oldest") {
        matching.reverse();
    }
    let opts = ListOptions::from_query(&q);
    let items = opts
        .page(&matching)
        .iter()
        .map(|p| pull_json(&f, &m, &git, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(
        &f,
        &format!("/repos/{}/pulls", m.full_name()),
        &q,
        opts,
        matching.len(),
        items,
    ))
}

async fn get_pull(State(f): State<Shared>, Path((o, r, n)): Path<(String, String, u64)>) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let i = find_pull(&m, n)?;
    ok(StatusCode::OK, pull_json(&f, &m, &git, &m.pulls[i])?)
}

/// `EditPullRequestOption`: what the forge keeps of it.
#[derive(Deserialize)]
struct EditPull {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    labels: Option<Vec<Value>>,
}

/// `PATCH /pulls/{n}`: answers 201, as Gitea does.
async fn edit_pull(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r, n)): Path<(String, String, u64)>,
    Body(body): Body<EditPull>,
) -> Api {
    let v = update(&f, &o, &r, |m, git| {
        let i = find_pull(m, n)?;
        if body.state.is_some() && m.pulls[i].merged {
            return Err(Error::new(
                StatusCode::PRECONDITION_FAILED,
                "cannot change state of this pull request, it was already merged",
            ));
        }
        let labels = body.labels.as_ref().map(|ids| label_names(m, ids));
        let reopen = body.state.as_deref().is_some_and(|s| s != "closed");
        if reopen && m.pulls[i].state == "closed" {
            // This one is closed: an open one for the same branches is another.
            let p = &m.pulls[i];
            if let Some(other) = m.open_pull_for(&p.head, &p.base) {
                return Err(already_exists(m, other));
            }
        }
        let head = branch_head(git, &m.pulls[i].head).map(|o| o.to_string());
        let p = &mut m.pulls[i];
        if let Some(t) = body.title.as_ref().filter(|t| !t.is_empty()) {
            p.title = t.clone();
        }
        if let Some(b) = &body.body {
            p.body = b.clone();
        }
        if let Some(names) = labels {
            p.labels = names;
        }
        let closing = body.state.as_deref() == Some("closed") && p.state == "open";
        if closing {
            p.close(head);
        } else if reopen && p.state == "closed" {
            p.reopen();
        }
        p.updated_at = now();
        let p = p.clone();
        let v = pull_json(&f, m, git, &p)?;
        if closing {
            deliver(&f, "pull_request", &event(&f, m, "closed", &v, &l.0));
        }
        Ok(v)
    })?;
    ok(StatusCode::CREATED, v)
}

/// `MergePullRequestOption`.
#[derive(Deserialize)]
struct MergeBody {
    #[serde(rename = "Do", default)]
    merge_do: String,
    #[serde(default)]
    head_commit_id: Option<String>,
    #[serde(rename = "MergeTitleField", default)]
    title: Option<String>,
    #[serde(rename = "MergeMessageField", default)]
    message: Option<String>,
    #[serde(default)]
    delete_branch_after_merge: bool,
}

/// The title Gitea gives a merge when none is given.
fn default_title(p: &Pull, style: MergeStyle) -> String {
    match style {
        MergeStyle::Squash => format!("{} (#{})", p.title, p.number),
        _ => format!(
            "Merge pull request '{}' (#{}) from {} into {}",
            p.title, p.number, p.head, p.base
        ),
    }
}

/// Gitea's work-in-progress title prefixes.
fn work_in_progress(title: &str) -> bool {
    let t = title.trim_start().to_ascii_uppercase();
    t.starts_with("WIP:") || t.starts_with("[WIP]")
}

/// `POST /pulls/{n}/merge`: 200 with no body when merged.
async fn merge_pull(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r, n)): Path<(String, String, u64)>,
    Body(body): Body<MergeBody>,
) -> Api {
    let style = match body.merge_do.as_str() {
        "merge" => MergeStyle::Merge,
        "rebase" => MergeStyle::Rebase,
        "rebase-merge" => MergeStyle::RebaseMerge,
        "squash" => MergeStyle::Squash,
        "fast-forward-only" => MergeStyle::FastForwardOnly,
        // Off in a repository's default settings.
        "manually-merged" => {
            return Err(Error::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "manually-merged is not allowed an allowed merge style for this repository",
            ));
        }
        "" => return Err(Error::invalid("[Do]: Required")),
        _ => return Err(Error::invalid("[Do]: In")),
    };
    update(&f, &o, &r, |m, git| {
        let i = find_pull(m, n).map_err(|_| {
            let mut e = Error::not_found_because(Some("pull request does not exist".into()));
            e.body["message"] = json!("GetPullRequestByIndex");
            e
        })?;
        let p = m.pulls[i].clone();
        let not_allowed = |msg: &str| Error::new(StatusCode::METHOD_NOT_ALLOWED, msg);
        // The order of Gitea's CheckPullMergeable.
        if p.merged {
            return Err(not_allowed(""));
        }
        if p.state != "open" {
            return Err(Error::not_found());
        }
        if work_in_progress(&p.title) {
            return Err(not_allowed("Work in progress PRs cannot be merged"));
        }
        let (Some(base), Some(head)) = (branch_head(git, &p.base), branch_head(git, &p.head))
        else {
            return Err(not_allowed("Please try again later"));
        };
        if store::trial_merge(git, base, head)?.is_err() {
            // Gitea's background check has marked it conflicted: not in a mergeable state.
            return Err(not_allowed("Please try again later"));
        }
        if let Some(rule) = m.protection.get(&p.base)
            && approvals(&p) < rule.required_approving_review_count
        {
            return Err(not_allowed("Does not have enough approvals"));
        }
        if let Some(expected) = body.head_commit_id.as_deref().filter(|s| !s.is_empty())
            && expected != head.to_string()
        {
            return Err(Error::new(StatusCode::CONFLICT, "head out of date"));
        }
        let title = body
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map_or_else(|| default_title(&p, style), str::to_string);
        let message = match body.message.as_deref().map(str::trim) {
            Some(extra) if !extra.is_empty() => format!("{title}\n\n{extra}\n"),
            _ => format!("{title}\n"),
        };
        let doer = git2::Signature::now(&l.0, &format!("{}@noreply.localhost", l.0))?;
        let poster = git2::Signature::now(&p.user, &format!("{}@noreply.localhost", p.user))?;
        // A squash is the poster's commit; the rest are the merger's.
        let author = if style == MergeStyle::Squash {
            &poster
        } else {
            &doer
        };
        let merged = match store::merge(git, base, head, style, author, &doer, &message)? {
            Ok(c) => c,
            Err(MergeRefused::Conflict(paths)) => {
                return Err(Error::raw(
                    StatusCode::CONFLICT,
                    json!({
                        "Style": body.merge_do,
                        "StdOut": conflict_report(&paths),
                        "StdErr": "",
                        "Err": {},
                    }),
                ));
            }
            Err(MergeRefused::RebaseConflict(commit, paths)) => {
                return Err(Error::raw(
                    StatusCode::CONFLICT,
                    json!({
                        "Style": body.merge_do,
                        "CommitSHA": commit.to_string(),
                        "StdOut": "",
                        "StdErr": conflict_report(&paths),
                        "Err": {},
                    }),
                ));
            }
            Err(MergeRefused::NotFastForward) => {
                // Gitea does not map this error: it is a 500.
                return Err(Error::internal(
                    "Merge DivergingFastForwardOnly Error: exit status 128: fatal: Not possible to fast-forward, aborting.\n",
                ));
            }
        };
        git.reference_matching(
            &format!("refs/heads/{}", p.base),
            merged,
            true,
            base,
            &format!("gitea: merge #{n}"),
        )?;
        m.pulls[i].record_merge(merged, head);
        m.merged_by.insert(n, l.0.clone());
        let pull = pull_json(&f, m, git, &m.pulls[i])?;
        deliver(&f, "pull_request", &event(&f, m, "closed", &pull, &l.0));
        // Kept when another open pull request uses it, or it cannot be deleted.
        let in_use = m
            .pulls
            .iter()
            .any(|x| x.state == "open" && x.head == p.head);
        if body.delete_branch_after_merge
            && !in_use
            && p.head != m.default_branch
            && !m.protection.contains_key(&p.head)
            && let Ok(mut rf) = git.find_reference(&format!("refs/heads/{}", p.head))
        {
            rf.delete()?;
        }
        Ok(())
    })?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /pulls/{n}/merge`: 204 when merged, 404 when not.
async fn is_merged(State(f): State<Shared>, Path((o, r, n)): Path<(String, String, u64)>) -> Api {
    let m = repo(&f, &o, &r)?;
    let i = find_pull(&m, n)?;
    if m.pulls[i].merged {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Error::not_found())
    }
}

/// The store keeps GitHub's review states; Gitea names them its own way.
fn gitea_state(state: &str) -> &str {
    match state {
        "CHANGES_REQUESTED" => "REQUEST_CHANGES",
        "COMMENTED" => "COMMENT",
        s => s,
    }
}

/// A `PullReview`. The store keeps no review times: a review is dated by its pull request's
/// last update.
fn review_json(f: &Shared, m: &Meta, p: &Pull, r: &Review, head: &str) -> Value {
    let html = format!("{}/{}/pulls/{}", f.base, m.full_name(), p.number);
    let state = gitea_state(&r.state);
    json!({
        "id": r.id,
        "user": user_json(f, &r.user),
        "team": null,
        "state": state,
        "body": r.body,
        "commit_id": r.commit,
        "stale": r.commit != head,
        "official": matches!(state, "APPROVED" | "REQUEST_CHANGES"),
        "dismissed": false,
        "comments_count": 0,
        "submitted_at": p.updated_at,
        "updated_at": p.updated_at,
        "html_url": format!("{html}#issuecomment-{}", r.id),
        "pull_request_url": html,
    })
}

/// `CreatePullReviewOptions`.
#[derive(Deserialize)]
struct CreateReview {
    #[serde(default)]
    event: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    commit_id: Option<String>,
}

async fn create_review(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r, n)): Path<(String, String, u64)>,
    Body(body): Body<CreateReview>,
) -> Api {
    let event = body.event.to_ascii_uppercase();
    let v = update(&f, &o, &r, |m, git| {
        let i = find_pull(m, n)?;
        let own = m.pulls[i].user == l.0;
        let (state, needs_body) = match event.as_str() {
            "APPROVED" if own => {
                return Err(Error::invalid("approve your own pull is not allowed"));
            }
            "REQUEST_CHANGES" if own => {
                return Err(Error::invalid("reject your own pull is not allowed"));
            }
            "APPROVED" => ("APPROVED", false),
            "REQUEST_CHANGES" => ("CHANGES_REQUESTED", true),
            "COMMENT" => ("COMMENTED", true),
            _ => ("PENDING", false),
        };
        if needs_body && body.body.trim().is_empty() {
            return Err(Error::invalid(format!(
                "review event {event} requires a body"
            )));
        }
        let head = m.pulls[i].head_sha(git).unwrap_or_default();
        let p = &mut m.pulls[i];
        let commit = body
            .commit_id
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| head.clone());
        let review = p.add_review(&l.0, state, &body.body, commit);
        p.updated_at = now();
        let p = p.clone();
        Ok(review_json(&f, m, &p, &review, &head))
    })?;
    ok(StatusCode::OK, v)
}

async fn list_reviews(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let p = &m.pulls[find_pull(&m, n)?];
    let head = p.head_sha(&git).unwrap_or_default();
    ok(
        StatusCode::OK,
        Value::Array(
            p.reviews
                .iter()
                .map(|r| review_json(&f, &m, p, r, &head))
                .collect(),
        ),
    )
}

/// `IssueLabelsOption`: label ids (or names).
#[derive(Deserialize)]
struct IssueLabels {
    #[serde(default)]
    labels: Vec<Value>,
}

async fn issue_labels(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let i = find_pull(&m, n)?;
    ok(
        StatusCode::OK,
        Value::Array(labels_of(&f, &m, &m.pulls[i].labels)),
    )
}

/// Adds (or with `replace`, sets) an issue's labels; answers with all of them.
fn set_issue_labels(f: &Shared, o: &str, r: &str, n: u64, ids: &[Value], replace: bool) -> Api {
    let v = update(f, o, r, |m, _| {
        let i = find_pull(m, n)?;
        let names = label_names(m, ids);
        let p = &mut m.pulls[i];
        if replace {
            p.labels.clear();
        }
        for name in names {
            if !p.labels.contains(&name) {
                p.labels.push(name);
            }
        }
        p.updated_at = now();
        let labels = p.labels.clone();
        Ok(Value::Array(labels_of(f, m, &labels)))
    })?;
    ok(StatusCode::OK, v)
}

async fn add_issue_labels(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
    Body(body): Body<IssueLabels>,
) -> Api {
    set_issue_labels(&f, &o, &r, n, &body.labels, false)
}

async fn replace_issue_labels(
    State(f): State<Shared>,
    Path((o, r, n)): Path<(String, String, u64)>,
    Body(body): Body<IssueLabels>,
) -> Api {
    set_issue_labels(&f, &o, &r, n, &body.labels, true)
}
