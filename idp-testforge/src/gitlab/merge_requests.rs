//! Merge requests (the store's pull requests: `iid` is the number), their approvals (the store's
//! approving reviews), approval rules and protected branches, and the `Merge Request Hook`
//! webhook.
//!
//! A merge is real: by default a merge commit (`Merge branch 'SRC' into 'DST'`, GitLab's
//! default merge method); with `squash: true` a squash commit of the source's changes on the
//! merge base, merged by a merge commit, as GitLab does for a project that merges with merge
//! commits. Conflicts, missing approvals, a draft or a closed merge request make it unmergeable.
//!
//! Simplifications: an approval rule (a Premium feature) is any-approver and applies to merge
//! requests into the default branch only: it is kept as the store's required approving review
//! count on the default branch's protection (the largest of the rules), so approvals count the
//! same through every shape; as with any protection in the store, that branch then takes no
//! direct push. Access levels of protected branches are answered as asked but not enforced
//! beyond the store's protection (no direct change by anyone). Webhooks are sent for merges and
//! closes made through this API (`action` `merge` and `close`), not for opens, updates or
//! approvals.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post, put};
use axum::{Extension, Router};
use git2::Repository;
use serde_json::{Value, json};

use super::{
    Api, Extra, GlError, Input, MrExtra, Rule, display_name, email, ok, paginate, project,
    stable_id, user_id, user_json, web_url,
};
use crate::store::{Meta, Pull, branch_head, trial_merge};
use crate::{Login, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/projects/{id}/merge_requests", get(list).post(create))
        .route(
            "/projects/{id}/merge_requests/{iid}",
            get(get_one).put(update),
        )
        .route("/projects/{id}/merge_requests/{iid}/merge", put(merge))
        .route("/projects/{id}/merge_requests/{iid}/approve", post(approve))
        .route(
            "/projects/{id}/merge_requests/{iid}/approvals",
            get(approvals),
        )
        .route(
            "/projects/{id}/approval_rules",
            post(create_rule).get(list_rules),
        )
        .route(
            "/projects/{id}/protected_branches",
            post(protect).get(list_protected),
        )
}

/// GitLab's draft prefixes.
fn is_draft(title: &str) -> bool {
    let t = title.trim_start().to_ascii_lowercase();
    ["draft:", "[draft]", "(draft)", "draft -"]
        .iter()
        .any(|p| t.starts_with(p))
}

/// GitLab's `detailed_merge_status` of `p` now: `not_open`, `draft_status`, `commits_status`
/// (a branch is gone, or the source has nothing the target lacks), `conflict`, `not_approved`
/// or `mergeable`.
fn status(m: &Meta, git: &Repository, p: &Pull) -> Result<&'static str, GlError> {
    if p.state != "open" {
        return Ok("not_open");
    }
    if is_draft(&p.title) {
        return Ok("draft_status");
    }
    let (Some(base), Some(head)) = (branch_head(git, &p.base), branch_head(git, &p.head)) else {
        return Ok("commits_status");
    };
    if head == base || git.graph_descendant_of(base, head)? {
        return Ok("commits_status");
    }
    if trial_merge(git, base, head)?.is_err() {
        return Ok("conflict");
    }
    if m.approvals_left(p, &head.to_string()) > 0 {
        return Ok("not_approved");
    }
    Ok("mergeable")
}

fn mr_state(p: &Pull) -> &'static str {
    match (p.merged, p.state.as_str()) {
        (true, _) => "merged",
        (false, "open") => "opened",
        _ => "closed",
    }
}

fn mr_url(f: &Shared, m: &Meta, iid: u64) -> String {
    format!("{}/-/merge_requests/{iid}", web_url(f, m))
}

/// A merge request as GitLab's `MergeRequest` entity.
fn mr_json(
    f: &Shared,
    m: &Meta,
    git: &Repository,
    p: &Pull,
    extra: &Extra,
) -> Result<Value, GlError> {
    let x = extra.mrs.get(&p.number).cloned().unwrap_or_default();
    let head = p.head_sha(git);
    let detailed = status(m, git, p)?;
    let draft = is_draft(&p.title);
    let full = m.full_name();
    let base = branch_head(git, &p.base);
    let start = base.map(|b| b.to_string());
    let merge_base = match (
        base,
        head.as_deref().and_then(|h| git2::Oid::from_str(h).ok()),
    ) {
        (Some(b), Some(h)) => git.merge_base(b, h).ok().map(|o| o.to_string()),
        _ => None,
    };
    let user = |login: &Option<String>| login.as_deref().map(|l| user_json(f, l));
    let mut v = json!({
        "id": p.id,
        "iid": p.number,
        "project_id": m.id,
        "title": p.title,
        "description": p.body,
        "state": mr_state(p),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "merged_by": user(&x.merged_by),
        "merge_user": user(&x.merged_by),
        "merged_at": p.merged_at,
        "closed_by": user(&x.closed_by),
        "closed_at": p.closed_at,
        "target_branch": p.base,
        "source_branch": p.head,
    });
    // Two objects: one `json!` of them all is past the macro's recursion limit.
    let more = json!({
        "user_notes_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "author": user_json(f, &p.user),
        "assignees": [],
        "assignee": null,
        "reviewers": [],
        "source_project_id": m.id,
        "target_project_id": m.id,
        "labels": p.labels,
        "draft": draft,
        "work_in_progress": draft,
        "milestone": null,
        "merge_when_pipeline_succeeds": false,
        "merge_status": if detailed == "conflict" { "cannot_be_merged" } else { "can_be_merged" },
        "detailed_merge_status": detailed,
        "sha": head,
        "merge_commit_sha": p.merge_commit_sha,
        "squash_commit_sha": x.squash_commit_sha,
        "discussion_locked": null,
        "should_remove_source_branch": null,
        "force_remove_source_branch": x.remove_source_branch,
        "squash": x.squash,
        "squash_on_merge": x.squash,
        "has_conflicts": detailed == "conflict",
        "blocking_discussions_resolved": true,
        "reference": format!("!{}", p.number),
        "references": {
            "short": format!("!{}", p.number),
            "relative": format!("!{}", p.number),
            "full": format!("{full}!{}", p.number),
        },
        "web_url": mr_url(f, m, p.number),
        "diff_refs": { "base_sha": merge_base, "head_sha": head, "start_sha": start },
        "task_completion_status": { "count": 0, "completed_count": 0 },
    });
    if let (Value::Object(v), Value::Object(more)) = (&mut v, more) {
        v.extend(more);
    }
    Ok(v)
}

fn find(m: &Meta, iid: &str) -> Result<usize, GlError> {
    let n: u64 = iid
        .parse()
        .map_err(|_| GlError::param("merge_request_iid is invalid"))?;
    m.pull_index(n)
        .ok_or_else(|| GlError::not_found("Merge Request"))
}

/// Runs `f` on the project `id` under the store's lock, with its GitLab state, saved after.
fn update_mr<T>(
    f: &Shared,
    id: &str,
    body: impl FnOnce(&mut Meta, &Repository, &mut Extra) -> Result<T, GlError>,
) -> Result<T, GlError> {
    let m = project(f, id)?;
    let full = m.full_name();
    f.store.update_with(
        &full,
        || GlError::not_found("Project"),
        |m, git| {
            let mut extra = Extra::load(f, &full);
            let out = body(m, git, &mut extra)?;
            extra.save(f, &full)?;
            Ok(out)
        },
    )
}

async fn list(State(f): State<Shared>, uri: Uri, Path(id): Path<String>, input: Input) -> Api {
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let extra = Extra::load(&f, &m.full_name());
    let state = input.str("state")?.unwrap_or_else(|| "all".into());
    if !matches!(
        state.as_str(),
        "opened" | "closed" | "locked" | "merged" | "all"
    ) {
        return Err(GlError::param("state does not have a valid value"));
    }
    let source = input.str("source_branch")?;
    let target = input.str("target_branch")?;
    let author = input.str("author_username")?;
    let labels = input.list("labels")?.unwrap_or_default();
    let iids: Option<Vec<u64>> = match input.list("iids")? {
        None => None,
        Some(l) => Some(
            l.iter()
                .map(|s| s.parse())
                .collect::<Result<_, _>>()
                .map_err(|_| GlError::param("iids is invalid"))?,
        ),
    };
    let order_by = input
        .str("order_by")?
        .unwrap_or_else(|| "created_at".into());
    if !matches!(order_by.as_str(), "created_at" | "updated_at" | "title") {
        return Err(GlError::param("order_by does not have a valid value"));
    }
    let sort = input.str("sort")?.unwrap_or_else(|| "desc".into());
    if !matches!(sort.as_str(), "asc" | "desc") {
        return Err(GlError::param("sort does not have a valid value"));
    }
    let mut matching: Vec<&Pull> = m
        .pulls
        .iter()
        .filter(|p| state == "all" || mr_state(p) == state)
        .filter(|p| source.as_ref().is_none_or(|b| &p.head == b))
        .filter(|p| target.as_ref().is_none_or(|b| &p.base == b))
        .filter(|p| author.as_ref().is_none_or(|a| &p.user == a))
        .filter(|p| labels.iter().all(|l| p.labels.contains(l)))
        .filter(|p| iids.as_ref().is_none_or(|i| i.contains(&p.number)))
        .collect();
    // Timestamps are to the second: the iid orders what was made in the same second.
    matching.sort_by(|a, b| {
        let key = |p: &Pull| match order_by.as_str() {
            "updated_at" => p.updated_at.clone(),
            "title" => p.title.clone(),
            _ => p.created_at.clone(),
        };
        (key(a), a.number).cmp(&(key(b), b.number))
    });
    if sort == "desc" {
        matching.reverse();
    }
    let items = matching
        .into_iter()
        .map(|p| mr_json(&f, &m, &git, p, &extra))
        .collect::<Result<Vec<_>, _>>()?;
    paginate(&f, &uri, &input, items)
}

async fn get_one(State(f): State<Shared>, Path((id, iid)): Path<(String, String)>) -> Api {
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let extra = Extra::load(&f, &m.full_name());
    let i = find(&m, &iid)?;
    ok(StatusCode::OK, mr_json(&f, &m, &git, &m.pulls[i], &extra)?)
}

/// Label names: trimmed, none empty, no repeats, at most 255 characters (GitLab's limit).
fn clean_labels(labels: Vec<String>) -> Result<Vec<String>, GlError> {
    let mut out: Vec<String> = Vec::new();
    for l in labels {
        if l.chars().count() > 255 {
            return Err(GlError::bad_request(json!({ "labels": ["is invalid"] })));
        }
        if !out.contains(&l) {
            out.push(l);
        }
    }
    Ok(out)
}

async fn create(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path(id): Path<String>,
    input: Input,
) -> Api {
    let [title, source, target] = input.required(["title", "source_branch", "target_branch"])?;
    let description = input.str("description")?.unwrap_or_default();
    let labels = clean_labels(input.list("labels")?.unwrap_or_default())?;
    let remove_source_branch = input.bool("remove_source_branch")?.unwrap_or(false);
    let squash = input.bool("squash")?.unwrap_or(false);
    let v = update_mr(&f, &id, |m, git, extra| {
        // MergeRequests::BuildService's checks (422, errors on `base`), then the model's
        // (409 for a second open merge request from the same source branch).
        let mut errors = Vec::new();
        if source == target {
            errors.push("You must select different branches".to_string());
        }
        if branch_head(git, &source).is_none() {
            errors.push(format!("Source branch \"{source}\" does not exist"));
        }
        if branch_head(git, &target).is_none() {
            errors.push(format!("Target branch \"{target}\" does not exist"));
        }
        if !errors.is_empty() {
            return Err(GlError::message(StatusCode::UNPROCESSABLE_ENTITY, errors));
        }
        another_open(m, &source)?;
        m.open_pull(&l.0, &source, &target, &title, &description);
        let stored = m.pulls.last_mut().expect("just opened");
        stored.labels = labels;
        let p = stored.clone();
        extra.mrs.insert(
            p.number,
            MrExtra {
                remove_source_branch,
                squash,
                ..MrExtra::default()
            },
        );
        mr_json(&f, m, git, &p, extra)
    })?;
    ok(StatusCode::CREATED, v)
}

/// GitLab's 409 when a merge request from `source` is open already.
fn another_open(m: &Meta, source: &str) -> Result<(), GlError> {
    match m
        .pulls
        .iter()
        .find(|q| q.state == "open" && q.head == source)
    {
        Some(open) => Err(GlError::message(
            StatusCode::CONFLICT,
            vec![format!(
                "Another open merge request already exists for this source branch: !{}",
                open.number
            )],
        )),
        None => Ok(()),
    }
}

/// The parameters of which `PUT /merge_requests/:iid` needs at least one (those it reads).
const UPDATE_PARAMS: [&str; 9] = [
    "title",
    "description",
    "state_event",
    "labels",
    "add_labels",
    "remove_labels",
    "target_branch",
    "remove_source_branch",
    "squash",
];

async fn update(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((id, iid)): Path<(String, String)>,
    input: Input,
) -> Api {
    if !UPDATE_PARAMS.iter().any(|k| input.has(k)) {
        return Err(GlError::param(format!(
            "{} are missing, at least one parameter must be provided",
            UPDATE_PARAMS.join(", ")
        )));
    }
    let title = input.str("title")?;
    if title.as_deref() == Some("") {
        return Err(GlError::param("title is empty"));
    }
    let description = input.str("description")?;
    let state_event = input.str("state_event")?;
    if state_event
        .as_deref()
        .is_some_and(|s| s != "close" && s != "reopen")
    {
        return Err(GlError::param("state_event does not have a valid value"));
    }
    let labels = input.list("labels")?.map(clean_labels).transpose()?;
    let add = input.list("add_labels")?.map(clean_labels).transpose()?;
    let remove = input.list("remove_labels")?.unwrap_or_default();
    let target = input.str("target_branch")?;
    let remove_source_branch = input.bool("remove_source_branch")?;
    let squash = input.bool("squash")?;
    let v = update_mr(&f, &id, |m, git, extra| {
        let i = find(m, &iid)?;
        if let Some(t) = &target
            && branch_head(git, t).is_none()
        {
            return Err(GlError::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![format!("Target branch \"{t}\" does not exist")],
            ));
        }
        let p = &m.pulls[i];
        if state_event.as_deref() == Some("reopen") && p.state != "open" && !p.merged {
            another_open(m, &p.head)?;
        }
        let head = branch_head(git, &m.pulls[i].head).map(|o| o.to_string());
        let p = &mut m.pulls[i];
        if let Some(t) = &title {
            p.title = t.clone();
        }
        if let Some(d) = &description {
            p.body = d.clone();
        }
        if let Some(t) = &target {
            p.base = t.clone();
        }
        if let Some(ls) = &labels {
            p.labels = ls.clone();
        }
        for l in add.iter().flatten() {
            if !p.labels.contains(l) {
                p.labels.push(l.clone());
            }
        }
        p.labels.retain(|l| !remove.contains(l));
        let x = extra.mrs.entry(p.number).or_default();
        if let Some(r) = remove_source_branch {
            x.remove_source_branch = r;
        }
        if let Some(s) = squash {
            x.squash = s;
        }
        let mut closing = false;
        match state_event.as_deref() {
            Some("close") if p.state == "open" => {
                p.close(head);
                x.closed_by = Some(l.0.clone());
                closing = true;
            }
            Some("reopen") if p.state != "open" && !p.merged => {
                p.reopen();
                x.closed_by = None;
            }
            _ => p.updated_at = crate::store::now(),
        }
        let p = p.clone();
        let v = mr_json(&f, m, git, &p, extra)?;
        if closing {
            deliver(&f, &hook(&f, m, &p, &v, "close", &l.0, extra));
        }
        Ok(v)
    })?;
    ok(StatusCode::OK, v)
}

/// GitLab's 409 when the `sha` a request gave is not the source branch's head `head`.
fn check_sha(sha: Option<&str>, head: &str) -> Result<(), GlError> {
    match sha {
        Some(s) if s != head => Err(GlError::message(
            StatusCode::CONFLICT,
            format!("SHA does not match HEAD of source branch: {head}"),
        )),
        _ => Ok(()),
    }
}

/// `PUT /merge_requests/:iid/merge`, in GitLab's order: a stale `sha` is 409 (`SHA does not
/// match HEAD of source branch: HEAD`), a merge request that cannot be merged now (closed,
/// merged, draft, conflicting, missing approvals, nothing to merge) 405, as current GitLab
/// answers (older versions answered 406 for conflicts).
async fn merge(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((id, iid)): Path<(String, String)>,
    input: Input,
) -> Api {
    let sha = input.str("sha")?;
    let squash_asked = input.bool("squash")?;
    let merge_message = input.str("merge_commit_message")?;
    let squash_message = input.str("squash_commit_message")?;
    let remove_asked = input.bool("should_remove_source_branch")?;
    let v = update_mr(&f, &id, |m, git, extra| {
        let i = find(m, &iid)?;
        let p = m.pulls[i].clone();
        let head_sha = p.head_sha(git).unwrap_or_default();
        check_sha(sha.as_deref(), &head_sha)?;
        if status(m, git, &p)? != "mergeable" {
            return Err(GlError::not_allowed());
        }
        let (Some(base), Some(head)) = (branch_head(git, &p.base), branch_head(git, &p.head))
        else {
            return Err(GlError::not_allowed());
        };
        let x = extra.mrs.entry(p.number).or_default();
        if let Some(s) = squash_asked {
            x.squash = s;
        }
        let sig = git2::Signature::now(&l.0, &email(&l.0))?;
        let base_c = git.find_commit(base)?;
        let head_c = git.find_commit(head)?;
        // The source's changes as one commit on the merge base, then merged like any branch.
        let (merged_side, squash_commit) = if x.squash {
            let on = git.find_commit(git.merge_base(base, head)?)?;
            let message = squash_message.clone().unwrap_or_else(|| p.title.clone());
            let c = git.commit(
                None,
                &head_c.author(),
                &sig,
                &message,
                &head_c.tree()?,
                &[&on],
            )?;
            (git.find_commit(c)?, Some(c))
        } else {
            (head_c, None)
        };
        let tree = match trial_merge(git, base, merged_side.id())? {
            Ok(t) => git.find_tree(t)?,
            Err(_) => return Err(GlError::not_allowed()),
        };
        let message = merge_message.clone().unwrap_or_else(|| {
            format!(
                "Merge branch '{}' into '{}'\n\n{}\n\nSee merge request {}!{}",
                p.head,
                p.base,
                p.title,
                m.full_name(),
                p.number
            )
        });
        let merged = git.commit(None, &sig, &sig, &message, &tree, &[&base_c, &merged_side])?;
        git.reference(
            &format!("refs/heads/{}", p.base),
            merged,
            true,
            &format!("forge: merge !{}", p.number),
        )?;
        x.squash_commit_sha = squash_commit.map(|c| c.to_string());
        x.merged_by = Some(l.0.clone());
        let remove = remove_asked.unwrap_or(x.remove_source_branch);
        m.pulls[i].record_merge(merged, head);
        if remove
            && !m.protection.contains_key(&p.head)
            && let Ok(mut r) = git.find_reference(&format!("refs/heads/{}", p.head))
        {
            r.delete()?;
        }
        let p = m.pulls[i].clone();
        let v = mr_json(&f, m, git, &p, extra)?;
        deliver(&f, &hook(&f, m, &p, &v, "merge", &l.0, extra));
        Ok(v)
    })?;
    ok(StatusCode::OK, v)
}

/// GitLab's `MergeRequestApprovals` entity for `login`.
fn approvals_json(f: &Shared, m: &Meta, git: &Repository, p: &Pull, login: &str) -> Value {
    let head = p.head_sha(git).unwrap_or_default();
    let approvers = p.approvers(&head);
    let required = m
        .protection
        .get(&p.base)
        .map_or(0, |prot| prot.required_approving_review_count);
    let left = m.approvals_left(p, &head);
    json!({
        "id": p.id,
        "iid": p.number,
        "project_id": m.id,
        "title": p.title,
        "description": p.body,
        "state": mr_state(p),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "merge_status": "can_be_merged",
        "approved": left == 0,
        "approvals_required": required,
        "approvals_left": left,
        "require_password_to_approve": false,
        "approved_by": approvers.iter().map(|u| json!({ "user": user_json(f, u) })).collect::<Vec<_>>(),
        "suggested_approvers": [],
        "approvers": [],
        "approver_groups": [],
        "user_has_approved": approvers.iter().any(|u| u == login),
        "user_can_approve": p.state == "open" && p.user != login && !approvers.iter().any(|u| u == login),
        "approval_rules_left": [],
        "has_approval_rules": required > 0,
        "merge_request_approvers_available": true,
        "multiple_approval_rules_available": true,
        "invalid_approvers_rules": [],
    })
}

/// `POST /merge_requests/:iid/approve`: 201 with the approval state; 401 for the author (who
/// may not approve their own merge request, GitLab's default), for a second approval by the
/// same user, and for a merge request that is not open; 409 for a stale `sha`.
async fn approve(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((id, iid)): Path<(String, String)>,
    input: Input,
) -> Api {
    let sha = input.str("sha")?;
    let v = update_mr(&f, &id, |m, git, _| {
        let i = find(m, &iid)?;
        let head = m.pulls[i].head_sha(git).unwrap_or_default();
        check_sha(sha.as_deref(), &head)?;
        let p = &mut m.pulls[i];
        if p.state != "open" || p.user == l.0 || p.approvers(&head).contains(&l.0) {
            return Err(GlError::unauthorized());
        }
        p.add_review(&l.0, "APPROVED", "", head);
        p.updated_at = crate::store::now();
        let p = p.clone();
        Ok(approvals_json(&f, m, git, &p, &l.0))
    })?;
    ok(StatusCode::CREATED, v)
}

async fn approvals(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((id, iid)): Path<(String, String)>,
) -> Api {
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let i = find(&m, &iid)?;
    ok(
        StatusCode::OK,
        approvals_json(&f, &m, &git, &m.pulls[i], &l.0),
    )
}

fn rule_json(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "rule_type": "regular",
        "report_type": null,
        "eligible_approvers": [],
        "approvals_required": r.approvals_required,
        "users": [],
        "groups": [],
        "contains_hidden_groups": false,
        "protected_branches": [],
        "applies_to_all_protected_branches": false,
    })
}

/// `POST /projects/:id/approval_rules`: a rule any user but the author can satisfy, kept as the
/// default branch's required approving review count (see the module's notes).
async fn create_rule(State(f): State<Shared>, Path(id): Path<String>, input: Input) -> Api {
    let [name] = input.required(["name"])?;
    let required = input
        .u64("approvals_required")?
        .ok_or_else(|| GlError::param("approvals_required is missing"))?;
    let required =
        u32::try_from(required).map_err(|_| GlError::param("approvals_required is invalid"))?;
    let v = update_mr(&f, &id, |m, _, extra| {
        if extra.rules.iter().any(|r| r.name == name) {
            return Err(GlError::bad_request(
                json!({ "name": ["has already been taken"] }),
            ));
        }
        let rule = Rule {
            id: m.id * 1000 + extra.rules.len() as u64 + 1,
            name: name.clone(),
            approvals_required: required,
        };
        extra.rules.push(rule.clone());
        let most = extra
            .rules
            .iter()
            .map(|r| r.approvals_required)
            .max()
            .unwrap_or(0);
        m.protection
            .entry(m.default_branch.clone())
            .or_default()
            .required_approving_review_count = most;
        Ok(rule_json(&rule))
    })?;
    ok(StatusCode::CREATED, v)
}

async fn list_rules(State(f): State<Shared>, Path(id): Path<String>) -> Api {
    let m = project(&f, &id)?;
    let extra = Extra::load(&f, &m.full_name());
    ok(
        StatusCode::OK,
        Value::Array(extra.rules.iter().map(rule_json).collect()),
    )
}

fn access_level(level: u32) -> Value {
    let description = match level {
        0 => "No one",
        30 => "Developers + Maintainers",
        40 => "Maintainers",
        _ => "Administrators",
    };
    json!({
        "id": level,
        "access_level": level,
        "access_level_description": description,
        "deploy_key_id": null,
        "user_id": null,
        "group_id": null,
    })
}

fn protected_json(name: &str, push: u32, merge: u32) -> Value {
    json!({
        "id": stable_id(name),
        "name": name,
        "push_access_levels": [access_level(push)],
        "merge_access_levels": [access_level(merge)],
        "unprotect_access_levels": [],
        "allow_force_push": false,
        "code_owner_approval_required": false,
        "inherited": false,
    })
}

/// `POST /projects/:id/protected_branches`: a store protection for the branch (so nothing but a
/// merge changes it, and the pre-receive hook refuses pushes), keeping a required approval
/// count it had; 409 when this API protected it already.
async fn protect(State(f): State<Shared>, Path(id): Path<String>, input: Input) -> Api {
    let [name] = input.required(["name"])?;
    let level = |k: &str| -> Result<u32, GlError> {
        match input.u64(k)? {
            None => Ok(40),
            Some(l @ (0 | 30 | 40 | 60)) => Ok(l as u32),
            Some(_) => Err(GlError::param(format!("{k} does not have a valid value"))),
        }
    };
    let (push, merge) = (level("push_access_level")?, level("merge_access_level")?);
    let v = update_mr(&f, &id, |m, _, extra| {
        if extra.protected.contains_key(&name) {
            return Err(GlError::message(
                StatusCode::CONFLICT,
                format!("Protected branch '{name}' already exists"),
            ));
        }
        m.protection.entry(name.clone()).or_default();
        extra.protected.insert(name.clone(), (push, merge));
        Ok(protected_json(&name, push, merge))
    })?;
    ok(StatusCode::CREATED, v)
}

async fn list_protected(State(f): State<Shared>, Path(id): Path<String>) -> Api {
    let m = project(&f, &id)?;
    let extra = Extra::load(&f, &m.full_name());
    ok(
        StatusCode::OK,
        Value::Array(
            m.protection
                .keys()
                .map(|b| {
                    let (push, merge) = extra.protected.get(b).copied().unwrap_or((40, 40));
                    protected_json(b, push, merge)
                })
                .collect(),
        ),
    )
}

/// A `Merge Request Hook` payload, as GitLab shapes it.
fn hook(
    f: &Shared,
    m: &Meta,
    p: &Pull,
    mr: &Value,
    action: &str,
    login: &str,
    extra: &Extra,
) -> Value {
    let url = web_url(f, m);
    let http = format!("{url}.git");
    let name = display_name(m, extra);
    let labels: Vec<Value> = p
        .labels
        .iter()
        .map(|l| {
            json!({
                "id": stable_id(&format!("{}:{l}", m.id)),
                "title": l,
                "color": "#6699cc",
                "project_id": m.id,
                "description": null,
                "type": "ProjectLabel",
                "group_id": null,
            })
        })
        .collect();
    json!({
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {
            "id": user_id(f, login),
            "name": login,
            "username": login,
            "avatar_url": null,
            "email": "[REDACTED]",
        },
        "project": {
            "id": m.id,
            "name": name,
            "description": m.description,
            "web_url": url,
            "avatar_url": null,
            "git_http_url": http,
            "namespace": m.owner,
            "visibility_level": if m.private { 0 } else { 20 },
            "path_with_namespace": m.full_name(),
            "default_branch": m.default_branch,
            "homepage": url,
            "url": http,
            "http_url": http,
        },
        "object_attributes": {
            "id": p.id,
            "iid": p.number,
            "title": p.title,
            "description": p.body,
            "state": mr["state"],
            "action": action,
            "url": mr["web_url"],
            "source_branch": p.head,
            "target_branch": p.base,
            "source_project_id": m.id,
            "target_project_id": m.id,
            "author_id": user_id(f, &p.user),
            "merge_commit_sha": p.merge_commit_sha,
            "last_commit": { "id": mr["sha"] },
            "created_at": p.created_at,
            "updated_at": p.updated_at,
            "merge_status": mr["merge_status"],
            "detailed_merge_status": mr["detailed_merge_status"],
            "draft": mr["draft"],
            "work_in_progress": mr["draft"],
            "labels": labels,
        },
        "labels": labels,
        "changes": {},
        "repository": {
            "name": name,
            "url": http,
            "description": m.description,
            "homepage": url,
        },
    })
}

/// Records a webhook delivery as GitLab sends one, when the forge has a webhook secret: the
/// secret itself in `X-Gitlab-Token` (GitLab signs nothing), the event in `X-Gitlab-Event`.
fn deliver(f: &Shared, payload: &Value) {
    f.record_delivery(|secret, n| {
        // A UUID (version 4 layout) unique to this forge and delivery.
        let h = format!("{:016x}{:016x}", stable_id(&f.base), n as u64 + 1);
        let uuid = crate::uuid_from_hex(&h, '8');
        json!({
            "headers": {
                "x-gitlab-event": "Merge Request Hook",
                "x-gitlab-token": secret,
                "x-gitlab-event-uuid": uuid,
                "x-gitlab-webhook-uuid": uuid,
                "x-gitlab-instance": f.base,
                "user-agent": "GitLab/17.0.0",
                "content-type": "application/json",
            },
            "body": payload.to_string(),
        })
    });
}
