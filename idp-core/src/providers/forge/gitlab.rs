//! `kind: gitlab`: GitLab (gitlab.com or self-managed) over its REST API v4
//! (`https://HOST/api/v4`).
//!
//! Projects are addressed by their URL-encoded path (`acme%2Fsvc`); `owner` is a group path or
//! a user. A change request is one commit made with the commits API (`actions`: create, update,
//! delete, computed against the base by blob SHA; `start_sha` the default branch's head and
//! `force`, so the step's branch is set, not appended to: safe to repeat after a lost answer
//! or a crash), and one merge request carrying the labels. GitLab refuses a second open merge
//! request for a source branch (409): idp adopts the open one. A merge is checked by reading the
//! merge request back. How a project merges (merge commit, fast-forward) is the project's
//! setting; `merge_method: squash` asks for a squash.

use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::http;
use super::{Blob, Change, Common, ForgeApi, Review, adopt, body_with_key, each_page, has_key};
use crate::config::MergeMethod;
use crate::error::{Error, Result};
use crate::providers::{ChangeRequestSpec, ForgeEvent};
use crate::receipt::ChangeRequestState;

#[derive(Default)]
pub(crate) struct GitLab {
    /// The owner's namespace id, once looked up.
    namespace: Mutex<Option<u64>>,
}

/// `/projects/OWNER%2FREPO`.
fn project(c: &Common, repo: &str) -> String {
    format!(
        "/projects/{}",
        http::segment(&format!("{}/{repo}", c.owner))
    )
}

impl Review {
    fn from_merge_request(v: &Value) -> Review {
        Review {
            number: v["iid"].as_u64().unwrap_or(0),
            state: match v["state"].as_str() {
                Some("merged") => ChangeRequestState::Merged,
                Some("closed") => ChangeRequestState::Closed,
                _ => ChangeRequestState::Open,
            },
            head_sha: v["sha"].as_str().unwrap_or("").to_string(),
            head_ref: v["source_branch"].as_str().unwrap_or("").to_string(),
            url: v["web_url"].as_str().unwrap_or("").to_string(),
            body: v["description"].as_str().unwrap_or("").to_string(),
        }
    }
}

impl GitLab {
    async fn namespace_id(&self, c: &Common) -> Result<u64> {
        if let Some(id) = *self.namespace.lock().unwrap() {
            return Ok(id);
        }
        let r = c
            .http
            .call(
                Method::GET,
                &format!("/namespaces/{}", http::segment(&c.owner)),
                None,
            )
            .await?;
        let id = match (r.status, r.body["id"].as_u64()) {
            (StatusCode::OK, Some(id)) => id,
            (StatusCode::NOT_FOUND, _) => {
                return Err(Error::not_found(format!(
                    "gitlab: there is no group or user `{}` (providers.source_control.owner)",
                    c.owner
                ))
                .with("field", "providers.source_control.owner"));
            }
            _ => return Err(c.unexpected("looking up the owner's namespace", &r)),
        };
        *self.namespace.lock().unwrap() = Some(id);
        Ok(id)
    }

    /// Merge requests from `branch` (any when `None`) in `state`, newest first, until `f` says
    /// stop.
    async fn each_merge_request(
        &self,
        c: &Common,
        repo: &str,
        state: &str,
        branch: Option<&str>,
        mut f: impl FnMut(Review) -> bool + Send,
    ) -> Result<()> {
        let source = branch
            .map(|b| format!("&source_branch={}", http::segment(b)))
            .unwrap_or_default();
        each_page(
            c,
            &format!("listing merge requests of {repo}"),
            |n| {
                format!(
                    "{}/merge_requests?state={state}&order_by=created_at&sort=desc&per_page=100&page={n}{source}",
                    project(c, repo)
                )
            },
            |m| f(Review::from_merge_request(m)),
        )
        .await
    }
}

#[async_trait]
impl ForgeApi for GitLab {
    const KIND: &'static str = "gitlab";
    const AUTH_SCHEME: &'static str = "Bearer";
    const ID_SEPARATOR: char = '!';

    async fn repo_exists(&self, c: &Common, repo: &str) -> Result<bool> {
        let r = c.http.call(Method::GET, &project(c, repo), None).await?;
        match r.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(c.unexpected(&format!("reading project {repo}"), &r)),
        }
    }

    async fn create_repo(&self, c: &Common, repo: &str, description: &str) -> Result<()> {
        let namespace = self.namespace_id(c).await?;
        // A first commit (the README): the commits API starts the step's branch from it.
        let r = c
            .http
            .call(
                Method::POST,
                "/projects",
                Some(&json!({
                    "name": repo,
                    "path": repo,
                    "namespace_id": namespace,
                    "description": description,
                    "visibility": "private",
                    "initialize_with_readme": true,
                    "default_branch": c.default_branch,
                })),
            )
            .await?;
        match r.status {
            StatusCode::CREATED => Ok(()),
            // "has already been taken": a lost answer to our own request, or it was there.
            StatusCode::BAD_REQUEST if self.repo_exists(c, repo).await? => Ok(()),
            _ => Err(c.unexpected(&format!("creating project {repo}"), &r)),
        }
    }

    async fn head(&self, c: &Common, repo: &str, branch: &str) -> Result<Option<String>> {
        let r = c
            .http
            .call(
                Method::GET,
                &format!(
                    "{}/repository/branches/{}",
                    project(c, repo),
                    http::segment(branch)
                ),
                None,
            )
            .await?;
        match r.status {
            StatusCode::OK => Ok(r.body["commit"]["id"].as_str().map(str::to_string)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(c.unexpected(&format!("reading branch {branch} of {repo}"), &r)),
        }
    }

    async fn files_at(&self, c: &Common, repo: &str, commit: &str) -> Result<Vec<Blob>> {
        // A tree that is not there (404) is an empty repository's.
        let mut out = Vec::new();
        each_page(
            c,
            &format!("listing {repo}"),
            |n| {
                format!(
                    "{}/repository/tree?ref={commit}&recursive=true&per_page=100&page={n}",
                    project(c, repo)
                )
            },
            |e| {
                if e["type"] == "blob" {
                    out.push(Blob {
                        path: e["path"].as_str().unwrap_or("").to_string(),
                        sha: e["id"].as_str().unwrap_or("").to_string(),
                    });
                }
                false
            },
        )
        .await?;
        Ok(out)
    }

    async fn fetch_blob(&self, c: &Common, repo: &str, sha: &str) -> Result<Vec<u8>> {
        let r = c
            .http
            .get_raw(&format!("{}/repository/blobs/{sha}/raw", project(c, repo)))
            .await?;
        if r.status != StatusCode::OK {
            return Err(c.unexpected(&format!("reading blob {sha} of {repo}"), &r));
        }
        Ok(r.raw)
    }

    async fn commit(
        &self,
        c: &Common,
        spec: &ChangeRequestSpec,
        base: &str,
    ) -> Result<Option<String>> {
        let todo = self.changes_on(c, spec, base).await?;
        if todo.is_empty() {
            return Ok(None);
        }
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let actions: Vec<Value> = todo
            .iter()
            .map(|ch| match ch {
                Change::Create(path, data) => json!({
                    "action": "create", "file_path": path, "content": b64(data), "encoding": "base64",
                }),
                Change::Update(path, data, _) => json!({
                    "action": "update", "file_path": path, "content": b64(data), "encoding": "base64",
                }),
                Change::Delete(path, _) => json!({ "action": "delete", "file_path": path }),
            })
            .collect();
        let r = c
            .http
            .call(
                Method::POST,
                &format!("{}/repository/commits", project(c, &spec.repo)),
                Some(&json!({
                    "branch": spec.branch,
                    "start_sha": base,
                    "force": true,
                    "commit_message": spec.commit_message(&[]),
                    "author_name": spec.author.name,
                    "author_email": spec.author.email,
                    "actions": actions,
                })),
            )
            .await?;
        if r.status != StatusCode::CREATED {
            return Err(c.unexpected(&format!("committing to {}", spec.branch), &r));
        }
        r.body["id"]
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| Error::provider("gitlab: a commit answer without an id"))
    }

    async fn find_review(
        &self,
        c: &Common,
        repo: &str,
        branch: Option<&str>,
        key: &str,
    ) -> Result<Option<Review>> {
        let mut found = None;
        self.each_merge_request(c, repo, "all", branch, |m| {
            let hit = has_key(&m.body, key);
            if hit {
                found = Some(m);
            }
            hit
        })
        .await?;
        Ok(found)
    }

    async fn open_review(&self, c: &Common, spec: &ChangeRequestSpec) -> Result<Review> {
        let base = project(c, &spec.repo);
        let labels = c.labels.join(",");
        let r = c
            .http
            .call(
                Method::POST,
                &format!("{base}/merge_requests"),
                Some(&json!({
                    "source_branch": spec.branch,
                    "target_branch": c.default_branch,
                    "title": spec.title,
                    "description": body_with_key(spec),
                    "labels": labels,
                    "remove_source_branch": false,
                })),
            )
            .await?;
        match r.status {
            StatusCode::CREATED => Ok(Review::from_merge_request(&r.body)),
            // One open merge request per source branch.
            StatusCode::CONFLICT => {
                let mut open = None;
                self.each_merge_request(c, &spec.repo, "opened", Some(&spec.branch), |m| {
                    open = Some(m);
                    true
                })
                .await?;
                adopt(c, spec, open, &r, |n, body| {
                    let fields = json!({ "description": body, "add_labels": labels });
                    (Method::PUT, format!("{base}/merge_requests/{n}"), fields)
                })
                .await
            }
            _ => Err(c.unexpected(&format!("opening a merge request for {}", spec.branch), &r)),
        }
    }

    async fn merge(&self, c: &Common, repo: &str, m: &Review) -> Result<bool> {
        let r = c
            .http
            .call(
                Method::PUT,
                &format!("{}/merge_requests/{}/merge", project(c, repo), m.number),
                Some(&json!({
                    "sha": m.head_sha,
                    "squash": c.merge_method == MergeMethod::Squash,
                })),
            )
            .await?;
        match r.status {
            StatusCode::OK => Ok(r.body["state"] == "merged"),
            // 405 not mergeable (approvals, pipeline, closed), 406 conflicts, 409 the head
            // moved, 422 refused for another reason.
            StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::NOT_ACCEPTABLE
            | StatusCode::CONFLICT
            | StatusCode::UNPROCESSABLE_ENTITY => Ok(false),
            _ => Err(c.unexpected(&format!("merging merge request !{}", m.number), &r)),
        }
    }

    async fn get_review(&self, c: &Common, repo: &str, number: u64) -> Result<Review> {
        let r = c
            .http
            .call(
                Method::GET,
                &format!("{}/merge_requests/{number}", project(c, repo)),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(c.unexpected(&format!("reading merge request !{number} of {repo}"), &r));
        }
        Ok(Review::from_merge_request(&r.body))
    }

    /// GitLab sends the secret itself in `X-Gitlab-Token` (no signature); idp compares it in
    /// constant time.
    fn parse_event(
        &self,
        c: &Common,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>> {
        let secret = c.webhook_secret()?;
        c.verify_equal(
            "X-Gitlab-Token",
            header("x-gitlab-token").as_deref(),
            secret.expose(),
        )?;
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| Error::invalid(format!("the webhook body is not JSON: {e}")))?;
        if v["object_kind"] != "merge_request" {
            return Ok(None);
        }
        let a = &v["object_attributes"];
        let state = a["state"].as_str().unwrap_or("");
        let path = v["project"]["path_with_namespace"].as_str().unwrap_or("");
        Ok(Some(ForgeEvent {
            event: format!("merge_request.{}", a["action"].as_str().unwrap_or("")),
            repo: path.rsplit('/').next().unwrap_or("").to_string(),
            url: a["url"].as_str().unwrap_or("").to_string(),
            merged: state == "merged",
            closed: matches!(state, "merged" | "closed"),
            keys: super::keys_in(a["description"].as_str().unwrap_or("")),
        }))
    }
}
