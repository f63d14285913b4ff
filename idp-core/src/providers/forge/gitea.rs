//! `kind: gitea`: Gitea and Forgejo over their REST API v1 (`https://HOST/api/v1`).
//!
//! A change request is one commit made with the multi-file contents API (`POST
//! /repos/{o}/{r}/contents`: creates, updates with the current blob's SHA, deletes; the branch
//! made from the default branch in the same request), and one pull request, labelled by label
//! ids (created in the repo when missing). Safe to repeat: what to change is computed against
//! the branch as it is (by blob SHA, nothing downloaded), so a commit that landed before a lost
//! answer or a crash is not made twice; Gitea refuses a second open pull request for a branch
//! (409) and idp adopts the open one; a merge is checked by reading the pull request back.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::github::{self, repo_api};
use super::http;
use super::{
    Blob, Change, Common, ForgeApi, Review, adopt, body_with_key, each_page, pull_request_event,
};
use crate::error::{Error, Result};
use crate::providers::{ChangeRequestSpec, ForgeEvent};

/// Items asked for per page (Gitea's largest `limit` by default; an instance may cap it lower,
/// so listings follow the `Link` header, not the count).
const PAGE: usize = 50;

#[derive(Default)]
pub(crate) struct Gitea {
    /// Label ids by repo, then name.
    labels: Mutex<HashMap<String, HashMap<String, u64>>>,
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

impl Gitea {
    /// Every file under `tree_ish` (a commit SHA), page by page.
    async fn tree(&self, c: &Common, repo: &str, commit: &str) -> Result<Vec<Blob>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let r = c
                .http
                .call(
                    Method::GET,
                    &format!(
                        "{}/git/trees/{commit}?recursive=true&per_page=1000&page={page}",
                        repo_api(c, repo)?
                    ),
                    None,
                )
                .await?;
            if r.status != StatusCode::OK {
                return Err(c.unexpected(&format!("listing {repo}"), &r));
            }
            let entries = r.body["tree"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            out.extend(
                entries
                    .iter()
                    .filter(|e| e["type"] == "blob")
                    .map(|e| Blob {
                        path: e["path"].as_str().unwrap_or("").to_string(),
                        sha: e["sha"].as_str().unwrap_or("").to_string(),
                    }),
            );
            if r.body["truncated"].as_bool() != Some(true) || entries.is_empty() {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// The ids of idp's labels in `repo`, creating the missing ones.
    async fn label_ids(&self, c: &Common, repo: &str) -> Result<Vec<u64>> {
        if c.labels.is_empty() {
            return Ok(Vec::new());
        }
        let cached = self.labels.lock().unwrap().get(repo).cloned();
        let mut known = match cached {
            Some(k) => k,
            None => {
                let mut known = HashMap::new();
                let base = repo_api(c, repo)?;
                each_page(
                    c,
                    &format!("listing the labels of {repo}"),
                    |n| format!("{base}/labels?limit={PAGE}&page={n}"),
                    |l| {
                        if let (Some(name), Some(id)) = (l["name"].as_str(), l["id"].as_u64()) {
                            known.insert(name.to_string(), id);
                        }
                        false
                    },
                )
                .await?;
                known
            }
        };
        for name in &c.labels {
            if known.contains_key(name) {
                continue;
            }
            let r = c
                .http
                .call(
                    Method::POST,
                    &format!("{}/labels", repo_api(c, repo)?),
                    Some(&json!({ "name": name, "color": "#6f42c1", "description": "Opened by idp" })),
                )
                .await?;
            match (r.status, r.body["id"].as_u64()) {
                (StatusCode::CREATED, Some(id)) => {
                    known.insert(name.clone(), id);
                }
                _ => return Err(c.unexpected(&format!("creating label {name} in {repo}"), &r)),
            }
        }
        let ids = c
            .labels
            .iter()
            .filter_map(|n| known.get(n).copied())
            .collect();
        self.labels.lock().unwrap().insert(repo.to_string(), known);
        Ok(ids)
    }

    /// Calls `f` on every pull request in `state`, newest first, until it returns true.
    async fn each_pull(
        &self,
        c: &Common,
        repo: &str,
        state: &str,
        mut f: impl FnMut(Review) -> bool + Send,
    ) -> Result<()> {
        let base = repo_api(c, repo)?;
        each_page(
            c,
            &format!("listing pull requests of {repo}"),
            |n| format!("{base}/pulls?state={state}&limit={PAGE}&page={n}"),
            |p| f(Review::from_pull(p)),
        )
        .await
    }
}

#[async_trait]
impl ForgeApi for Gitea {
    const KIND: &'static str = "gitea";
    const AUTH_SCHEME: &'static str = "token";

    async fn repo_exists(&self, c: &Common, repo: &str) -> Result<bool> {
        github::repo_exists(c, repo).await
    }

    async fn create_repo(&self, c: &Common, repo: &str, description: &str) -> Result<()> {
        // auto_init: the contents API needs a branch to start the step's branch from.
        let body = json!({
            "name": repo,
            "description": description,
            "private": true,
            "auto_init": true,
            "default_branch": c.default_branch,
        });
        github::create_repo(c, repo, &body, StatusCode::CONFLICT).await
    }

    async fn head(&self, c: &Common, repo: &str, branch: &str) -> Result<Option<String>> {
        let r = c
            .http
            .call(
                Method::GET,
                &format!("{}/branches/{}", repo_api(c, repo)?, http::path(branch)),
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
        self.tree(c, repo, commit).await
    }

    async fn fetch_blob(&self, c: &Common, repo: &str, sha: &str) -> Result<Vec<u8>> {
        github::blob(c, repo, sha).await
    }

    /// The step's branch is made from the default branch in the commit request itself. When
    /// Gitea says it exists: a branch whose head was committed for this very change request (a
    /// crash, or a lost answer to our own request) is kept as it is; any other (an earlier
    /// request that used the same branch name, a superseded run) is deleted and made again, so
    /// the branch always holds the default branch plus this change, as on the other forges.
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
        let files: Vec<Value> = todo
            .iter()
            .map(|ch| match ch {
                Change::Create(path, data) => {
                    json!({ "operation": "create", "path": path, "content": b64(data) })
                }
                Change::Update(path, data, sha) => {
                    json!({ "operation": "update", "path": path, "content": b64(data), "sha": sha })
                }
                Change::Delete(path, sha) => {
                    json!({ "operation": "delete", "path": path, "sha": sha })
                }
            })
            .collect();
        let person = |s: &crate::providers::Signature| json!({ "name": s.name, "email": s.email });
        let body = json!({
            "files": files,
            "branch": c.default_branch,
            "new_branch": spec.branch,
            "message": spec.commit_message(&[]),
            "author": person(&spec.author),
            "committer": person(&spec.committer),
        });
        let api = repo_api(c, &spec.repo)?;
        let branch_api = format!("{api}/branches/{}", http::path(&spec.branch));
        let key_trailer = format!("Idp-Change-Request-Key: {}", spec.key);
        for _ in 0..3 {
            let r = c
                .http
                .call(Method::POST, &format!("{api}/contents"), Some(&body))
                .await?;
            match r.status {
                StatusCode::CREATED => {
                    return r.body["commit"]["sha"]
                        .as_str()
                        .map(|s| Some(s.to_string()))
                        .ok_or_else(|| Error::provider("gitea: a commit answer without a SHA"));
                }
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {}
                _ => return Err(c.unexpected(&format!("committing to {}", spec.branch), &r)),
            }
            let b = c.http.call(Method::GET, &branch_api, None).await?;
            if b.status == StatusCode::NOT_FOUND {
                // Refused for another reason (a path, a file changed since `base`).
                return Err(c.unexpected(&format!("committing to {}", spec.branch), &r));
            }
            if b.status != StatusCode::OK {
                return Err(c.unexpected(&format!("reading branch {}", spec.branch), &b));
            }
            let message = b.body["commit"]["message"].as_str().unwrap_or("");
            if message.lines().any(|l| l.trim() == key_trailer) {
                return Ok(b.body["commit"]["id"].as_str().map(str::to_string));
            }
            let d = c.http.call(Method::DELETE, &branch_api, None).await?;
            if !matches!(d.status, StatusCode::NO_CONTENT | StatusCode::NOT_FOUND) {
                return Err(c.unexpected(&format!("deleting the stale branch {}", spec.branch), &d));
            }
        }
        Err(Error::provider(format!(
            "gitea: the branch {} of {} kept coming back while idp made it again",
            spec.branch, spec.repo
        ))
        .with_retryable(true))
    }

    async fn find_review(
        &self,
        c: &Common,
        repo: &str,
        branch: Option<&str>,
        key: &str,
    ) -> Result<Option<Review>> {
        // Gitea's list has no head filter: the branch narrows the match, not the listing.
        let mut found = None;
        self.each_pull(c, repo, "all", |p| {
            let hit = branch.is_none_or(|b| p.head_ref == b) && super::has_key(&p.body, key);
            if hit {
                found = Some(p);
            }
            hit
        })
        .await?;
        Ok(found)
    }

    async fn open_review(&self, c: &Common, spec: &ChangeRequestSpec) -> Result<Review> {
        let base = repo_api(c, &spec.repo)?;
        let labels = self.label_ids(c, &spec.repo).await?;
        let r = c
            .http
            .call(
                Method::POST,
                &format!("{base}/pulls"),
                Some(&json!({
                    "title": spec.title,
                    "head": spec.branch,
                    "base": c.default_branch,
                    "body": body_with_key(spec),
                    "labels": labels,
                })),
            )
            .await?;
        match r.status {
            StatusCode::CREATED => Ok(Review::from_pull(&r.body)),
            // One open pull request per head and base.
            StatusCode::CONFLICT => {
                let mut open = None;
                self.each_pull(c, &spec.repo, "open", |p| {
                    let hit = p.head_ref == spec.branch;
                    if hit {
                        open = Some(p);
                    }
                    hit
                })
                .await?;
                adopt(c, spec, open, &r, |n, body| {
                    let fields = json!({ "body": body, "labels": labels });
                    (Method::PATCH, format!("{base}/pulls/{n}"), fields)
                })
                .await
            }
            _ => Err(c.unexpected(&format!("opening a pull request for {}", spec.branch), &r)),
        }
    }

    async fn merge(&self, c: &Common, repo: &str, p: &Review) -> Result<bool> {
        let how = c.merge_method.as_str();
        let r = c
            .http
            .call(
                Method::POST,
                &format!("{}/pulls/{}/merge", repo_api(c, repo)?, p.number),
                Some(&json!({ "Do": how, "head_commit_id": p.head_sha })),
            )
            .await?;
        match r.status {
            StatusCode::OK => Ok(true),
            // Not allowed (approvals, checks, conflicts, already merged), a moved head, or
            // closed (Gitea answers 404 for a closed pull request).
            StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::CONFLICT
            | StatusCode::NOT_FOUND
            | StatusCode::UNPROCESSABLE_ENTITY => Ok(false),
            _ => Err(c.unexpected(&format!("merging pull request #{}", p.number), &r)),
        }
    }

    async fn get_review(&self, c: &Common, repo: &str, number: u64) -> Result<Review> {
        github::pull(c, repo, number).await
    }

    /// Gitea signs with HMAC-SHA-256 in `X-Gitea-Signature: HEX` (Forgejo also in
    /// `X-Forgejo-Signature`); the payload is GitHub's shape.
    fn parse_event(
        &self,
        c: &Common,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>> {
        let sig = header("x-gitea-signature").or_else(|| header("x-forgejo-signature"));
        c.verify_hmac("X-Gitea-Signature", sig.as_deref(), body)?;
        let event = header("x-gitea-event").or_else(|| header("x-forgejo-event"));
        if event.as_deref() != Some("pull_request") {
            return Ok(None);
        }
        pull_request_event(body).map(Some)
    }
}
