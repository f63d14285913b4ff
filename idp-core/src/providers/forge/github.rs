//! `kind: github`: GitHub's REST API v3 (github.com, GitHub Enterprise Server, or the test forge).
//!
//! A change request is one commit, made with the Git database API (one tree request with the
//! files inline, one commit, one ref update; no clone), on its own branch, and one pull request
//! whose body ends with the change request's key. Every call is safe to repeat after a crash or
//! a lost response: trees and commits are content-addressed, the branch is set (not appended
//! to), a pull request is looked up by its key before one is opened and GitHub refuses a second
//! open pull request for a branch, and a merge is checked by reading the pull request back.

use std::collections::HashSet;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::http;
use super::{
    Blob, Common, ForgeApi, Review, adopt, body_with_key, check_repo_name, each_page, has_key,
    pull_request_event,
};
use crate::error::{Error, Result};
use crate::providers::{ChangeRequestSpec, ForgeEvent};
use crate::receipt::ChangeRequestState;

#[derive(Default)]
pub(crate) struct GitHub;

impl Review {
    /// A GitHub or Gitea pull request.
    pub(crate) fn from_pull(v: &Value) -> Review {
        let merged = v["merged"].as_bool().unwrap_or(false) || v["merged_at"].is_string();
        // Gitea names a deleted head branch `refs/pull/N/head` and keeps its name in `label`.
        let head = &v["head"];
        let head_ref = match head["ref"].as_str().unwrap_or("") {
            r if r.starts_with("refs/pull/") => head["label"].as_str().unwrap_or(r),
            r => r,
        };
        Review {
            number: v["number"].as_u64().unwrap_or(0),
            state: if merged {
                ChangeRequestState::Merged
            } else if v["state"] == "closed" {
                ChangeRequestState::Closed
            } else {
                ChangeRequestState::Open
            },
            head_sha: v["head"]["sha"].as_str().unwrap_or("").to_string(),
            head_ref: head_ref.to_string(),
            url: v["html_url"].as_str().unwrap_or("").to_string(),
            body: v["body"].as_str().unwrap_or("").to_string(),
        }
    }
}

/// `/repos/OWNER/REPO`.
pub(crate) fn repo_api(c: &Common, repo: &str) -> Result<String> {
    check_repo_name(repo)?;
    Ok(format!(
        "/repos/{}/{}",
        http::segment(&c.owner),
        http::segment(repo)
    ))
}

/// Whether `/repos/OWNER/REPO` exists (GitHub's and Gitea's call).
pub(crate) async fn repo_exists(c: &Common, repo: &str) -> Result<bool> {
    let r = c.http.call(Method::GET, &repo_api(c, repo)?, None).await?;
    match r.status {
        StatusCode::OK => Ok(true),
        StatusCode::NOT_FOUND => Ok(false),
        _ => Err(c.unexpected(&format!("reading repository {repo}"), &r)),
    }
}

/// Creates `repo` in the owner's organization, or, when the owner is no organization, among
/// the user's own repositories (GitHub's and Gitea's calls). `taken` is how the forge says the
/// name exists: then it is idp's when it exists now (a lost answer to our own request).
pub(crate) async fn create_repo(
    c: &Common,
    repo: &str,
    body: &Value,
    taken: StatusCode,
) -> Result<()> {
    let mut r = c
        .http
        .call(
            Method::POST,
            &format!("/orgs/{}/repos", http::segment(&c.owner)),
            Some(body),
        )
        .await?;
    if r.status == StatusCode::NOT_FOUND {
        // No such organization: the owner may be the token's own user. Anything else (a typo,
        // an organization the token cannot see) must not land in the token owner's account.
        let me = c.http.call(Method::GET, "/user", None).await?;
        if me.body["login"].as_str() != Some(c.owner.as_str()) {
            return Err(Error::not_found(format!(
                "{}: there is no organization `{}` the token can create repositories in, and it is not the token's own user",
                c.kind, c.owner
            ))
            .with("field", "providers.source_control.owner"));
        }
        r = c.http.call(Method::POST, "/user/repos", Some(body)).await?;
    }
    match r.status {
        StatusCode::CREATED => Ok(()),
        s if s == taken && repo_exists(c, repo).await? => Ok(()),
        _ => Err(c.unexpected(&format!("creating repository {repo}"), &r)),
    }
}

/// A blob's content from `GET .../git/blobs/SHA` (base64; GitHub's and Gitea's call).
pub(crate) async fn blob(c: &Common, repo: &str, sha: &str) -> Result<Vec<u8>> {
    let r = c
        .http
        .call(
            Method::GET,
            &format!("{}/git/blobs/{sha}", repo_api(c, repo)?),
            None,
        )
        .await?;
    if r.status != StatusCode::OK {
        return Err(c.unexpected(&format!("reading blob {sha} of {repo}"), &r));
    }
    let text: String = r.body["content"]
        .as_str()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| Error::provider(format!("{}: blob {sha} is not base64", c.kind)))
}

/// `GET .../pulls/N` (GitHub's and Gitea's call).
pub(crate) async fn pull(c: &Common, repo: &str, number: u64) -> Result<Review> {
    let r = c
        .http
        .call(
            Method::GET,
            &format!("{}/pulls/{number}", repo_api(c, repo)?),
            None,
        )
        .await?;
    if r.status != StatusCode::OK {
        return Err(c.unexpected(&format!("reading pull request #{number} of {repo}"), &r));
    }
    Ok(Review::from_pull(&r.body))
}

impl GitHub {
    async fn commit_tree(&self, c: &Common, repo: &str, commit: &str) -> Result<String> {
        let r = c
            .http
            .call(
                Method::GET,
                &format!("{}/git/commits/{commit}", repo_api(c, repo)?),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(c.unexpected(&format!("reading commit {commit} of {repo}"), &r));
        }
        r.body["tree"]["sha"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::provider("github: a commit without a tree"))
    }

    /// Points `branch` at `commit`, creating it if needed. Creating comes first: a step's
    /// branch is new unless a crash or a superseded run left it.
    async fn set_branch(&self, c: &Common, repo: &str, branch: &str, commit: &str) -> Result<()> {
        let base = repo_api(c, repo)?;
        for _ in 0..3 {
            let r = c
                .http
                .call(
                    Method::POST,
                    &format!("{base}/git/refs"),
                    Some(&json!({ "ref": format!("refs/heads/{branch}"), "sha": commit })),
                )
                .await?;
            match r.status {
                StatusCode::CREATED => return Ok(()),
                // It exists (from before, or a lost answer to our own request): move it.
                StatusCode::UNPROCESSABLE_ENTITY => {}
                _ => {
                    return Err(c.unexpected(&format!("creating branch {branch} of {repo}"), &r));
                }
            }
            let r = c
                .http
                .call(
                    Method::PATCH,
                    &format!("{base}/git/refs/heads/{}", http::path(branch)),
                    Some(&json!({ "sha": commit, "force": true })),
                )
                .await?;
            match r.status {
                StatusCode::OK => return Ok(()),
                // Deleted meanwhile: create it again.
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND => continue,
                _ => return Err(c.unexpected(&format!("moving branch {branch} of {repo}"), &r)),
            }
        }
        Err(Error::provider(format!(
            "github: branch {branch} of {repo} could neither be created nor moved"
        )))
    }
}

#[async_trait]
impl ForgeApi for GitHub {
    const KIND: &'static str = "github";
    const AUTH_SCHEME: &'static str = "token";

    async fn repo_exists(&self, c: &Common, repo: &str) -> Result<bool> {
        repo_exists(c, repo).await
    }

    async fn create_repo(&self, c: &Common, repo: &str, description: &str) -> Result<()> {
        // auto_init: GitHub's Git database API refuses to work on an empty repository, so the
        // repo starts with the forge's README commit and every idp change arrives as a PR.
        let body =
            json!({ "name": repo, "description": description, "private": true, "auto_init": true });
        create_repo(c, repo, &body, StatusCode::UNPROCESSABLE_ENTITY).await
    }

    async fn head(&self, c: &Common, repo: &str, branch: &str) -> Result<Option<String>> {
        let r = c
            .http
            .call(
                Method::GET,
                &format!(
                    "{}/git/ref/heads/{}",
                    repo_api(c, repo)?,
                    http::path(branch)
                ),
                None,
            )
            .await?;
        match r.status {
            StatusCode::OK => Ok(r.body["object"]["sha"].as_str().map(str::to_string)),
            // 409: the repository is empty.
            StatusCode::NOT_FOUND | StatusCode::CONFLICT => Ok(None),
            _ => Err(c.unexpected(&format!("reading branch {branch} of {repo}"), &r)),
        }
    }

    async fn files_at(&self, c: &Common, repo: &str, commit: &str) -> Result<Vec<Blob>> {
        let tree = self.commit_tree(c, repo, commit).await?;
        let r = c
            .http
            .call(
                Method::GET,
                &format!("{}/git/trees/{tree}?recursive=1", repo_api(c, repo)?),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(c.unexpected(&format!("listing {repo}"), &r));
        }
        if r.body["truncated"].as_bool() == Some(true) {
            return Err(Error::provider(format!(
                "github: {repo} has more files than one tree listing returns; idp cannot manage a repository that large"
            )));
        }
        Ok(r.body["tree"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|e| e["type"] == "blob")
            .map(|e| Blob {
                path: e["path"].as_str().unwrap_or("").to_string(),
                sha: e["sha"].as_str().unwrap_or("").to_string(),
            })
            .collect())
    }

    async fn fetch_blob(&self, c: &Common, repo: &str, sha: &str) -> Result<Vec<u8>> {
        blob(c, repo, sha).await
    }

    /// One commit through the Git database API: one request for the tree with the files inline
    /// (a blob request only for binary files), one for the commit, one to set the branch. No
    /// clone.
    async fn commit(
        &self,
        c: &Common,
        spec: &ChangeRequestSpec,
        base: &str,
    ) -> Result<Option<String>> {
        let api = repo_api(c, &spec.repo)?;
        let base_tree = self.commit_tree(c, &spec.repo, base).await?;
        let deletes = spec.files.iter().any(|(_, c)| c.is_none());
        let present: HashSet<String> = if deletes {
            self.files_at(c, &spec.repo, base)
                .await?
                .into_iter()
                .map(|b| b.path)
                .collect()
        } else {
            HashSet::new()
        };
        let mut tree = Vec::new();
        for (path, content) in &spec.files {
            match content {
                Some(data) => match std::str::from_utf8(data) {
                    Ok(text) => tree.push(
                        json!({ "path": path, "mode": "100644", "type": "blob", "content": text }),
                    ),
                    Err(_) => {
                        let r = c
                            .http
                            .call(
                                Method::POST,
                                &format!("{api}/git/blobs"),
                                Some(&json!({
                                    "content": base64::engine::general_purpose::STANDARD.encode(data.as_slice()),
                                    "encoding": "base64",
                                })),
                            )
                            .await?;
                        if r.status != StatusCode::CREATED {
                            return Err(c.unexpected(&format!("uploading {path}"), &r));
                        }
                        tree.push(json!({ "path": path, "mode": "100644", "type": "blob", "sha": r.body["sha"] }));
                    }
                },
                None if present.contains(path) => tree
                    .push(json!({ "path": path, "mode": "100644", "type": "blob", "sha": null })),
                None => {}
            }
        }
        if tree.is_empty() {
            return Ok(None);
        }
        let r = c
            .http
            .call(
                Method::POST,
                &format!("{api}/git/trees"),
                Some(&json!({ "base_tree": base_tree, "tree": tree })),
            )
            .await?;
        if r.status != StatusCode::CREATED {
            return Err(c.unexpected(&format!("writing the tree for {}", spec.branch), &r));
        }
        let new_tree = r.body["sha"].as_str().unwrap_or("").to_string();
        if new_tree == base_tree {
            return Ok(None);
        }
        let person = |s: &crate::providers::Signature| json!({ "name": s.name, "email": s.email });
        let r = c
            .http
            .call(
                Method::POST,
                &format!("{api}/git/commits"),
                Some(&json!({
                    "message": spec.commit_message(&[]),
                    "tree": new_tree,
                    "parents": [base],
                    "author": person(&spec.author),
                    "committer": person(&spec.committer),
                })),
            )
            .await?;
        if r.status != StatusCode::CREATED {
            return Err(c.unexpected(&format!("committing to {}", spec.branch), &r));
        }
        let commit = r.body["sha"].as_str().unwrap_or("").to_string();
        crate::failpoint::hit("scm:committed");
        self.set_branch(c, &spec.repo, &spec.branch, &commit)
            .await?;
        Ok(Some(commit))
    }

    async fn find_review(
        &self,
        c: &Common,
        repo: &str,
        branch: Option<&str>,
        key: &str,
    ) -> Result<Option<Review>> {
        let base = repo_api(c, repo)?;
        let head = branch
            .map(|b| format!("&head={}", http::segment(&format!("{}:{b}", c.owner))))
            .unwrap_or_default();
        let mut found = None;
        each_page(
            c,
            &format!("listing pull requests of {repo}"),
            |n| format!("{base}/pulls?state=all&per_page=100&page={n}{head}"),
            |p| {
                let p = Review::from_pull(p);
                let hit = has_key(&p.body, key);
                if hit {
                    found = Some(p);
                }
                hit
            },
        )
        .await?;
        Ok(found)
    }

    async fn open_review(&self, c: &Common, spec: &ChangeRequestSpec) -> Result<Review> {
        let base = repo_api(c, &spec.repo)?;
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
                })),
            )
            .await?;
        let pull = match r.status {
            StatusCode::CREATED => Review::from_pull(&r.body),
            // GitHub allows one open pull request per branch.
            StatusCode::UNPROCESSABLE_ENTITY => {
                let url = format!(
                    "{base}/pulls?state=open&per_page=100&head={}",
                    http::segment(&format!("{}:{}", c.owner, spec.branch))
                );
                let list = c.http.call(Method::GET, &url, None).await?;
                let open = list
                    .body
                    .as_array()
                    .and_then(|l| l.first())
                    .map(Review::from_pull);
                adopt(c, spec, open, &r, |n, body| {
                    (
                        Method::PATCH,
                        format!("{base}/pulls/{n}"),
                        json!({ "body": body }),
                    )
                })
                .await?
            }
            _ => {
                return Err(
                    c.unexpected(&format!("opening a pull request for {}", spec.branch), &r)
                );
            }
        };
        if !c.labels.is_empty() {
            let r = c
                .http
                .call(
                    Method::POST,
                    &format!("{base}/issues/{}/labels", pull.number),
                    Some(&json!({ "labels": c.labels })),
                )
                .await?;
            if r.status != StatusCode::OK {
                return Err(c.unexpected("labelling a pull request", &r));
            }
        }
        Ok(pull)
    }

    async fn merge(&self, c: &Common, repo: &str, p: &Review) -> Result<bool> {
        let r = c
            .http
            .call(
                Method::PUT,
                &format!("{}/pulls/{}/merge", repo_api(c, repo)?, p.number),
                Some(&json!({ "merge_method": c.merge_method.as_str(), "sha": p.head_sha })),
            )
            .await?;
        match r.status {
            StatusCode::OK => Ok(true),
            // Not mergeable (required reviews or checks, conflicts), the head moved, or a lost
            // answer to a merge that happened.
            StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::CONFLICT
            | StatusCode::UNPROCESSABLE_ENTITY => Ok(false),
            _ => Err(c.unexpected(&format!("merging pull request #{}", p.number), &r)),
        }
    }

    async fn get_review(&self, c: &Common, repo: &str, number: u64) -> Result<Review> {
        pull(c, repo, number).await
    }

    /// GitHub signs with HMAC-SHA-256 in `X-Hub-Signature-256: sha256=HEX`.
    fn parse_event(
        &self,
        c: &Common,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>> {
        let sig = header("x-hub-signature-256");
        c.verify_hmac(
            "X-Hub-Signature-256",
            sig.as_deref().and_then(|v| v.strip_prefix("sha256=")),
            body,
        )?;
        if header("x-github-event").as_deref() != Some("pull_request") {
            return Ok(None);
        }
        pull_request_event(body).map(Some)
    }
}
