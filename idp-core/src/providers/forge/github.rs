//! `kind: github`: GitHub's REST API v3 (github.com, GitHub Enterprise Server, or the test forge).
//!
//! A change request is one commit, made with the Git database API (one tree request with the
//! files inline, one commit, one ref update; no clone), on its own branch, and one pull request
//! whose body ends with the change request's key. Every call is safe to repeat after a crash or
//! a lost response: trees and commits are content-addressed, the branch is set (not appended
//! to), a pull request is looked up by its key before one is opened and GitHub refuses a second
//! open pull request for a branch, and a merge is checked by reading the pull request back.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::http::{self, Http, Reply, RetryPolicy};
use super::{check_repo_name, has_key, key_marker, keys_in, web_url};
use crate::config::{ForgeConfig, MergeMethod, Secret, SourceControlConfig};
use crate::error::{Error, Result};
use crate::providers::{ChangeRequestOutcome, ChangeRequestSpec, ForgeEvent, SourceControl};
use crate::receipt::ChangeRequestState;

/// Blobs kept in memory by SHA (content-addressed, so never stale); cleared when full.
const BLOB_CACHE: usize = 4096;

pub struct GitHub {
    http: Http,
    webhook_secret: Option<crate::config::SecretRef>,
    owner: String,
    web: String,
    default_branch: String,
    auto_merge: bool,
    merge_method: MergeMethod,
    labels: Vec<String>,
    blobs: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("http", &self.http)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// One entry of a recursive tree listing.
struct Entry {
    path: String,
    sha: String,
    blob: bool,
}

/// What idp needs of a pull request.
struct Pull {
    number: u64,
    state: String,
    merged: bool,
    head_sha: String,
    head_ref: String,
    html_url: String,
    body: String,
}

impl Pull {
    fn from(v: &Value) -> Pull {
        Pull {
            number: v["number"].as_u64().unwrap_or(0),
            state: v["state"].as_str().unwrap_or("").to_string(),
            merged: v["merged"].as_bool().unwrap_or(false) || v["merged_at"].is_string(),
            head_sha: v["head"]["sha"].as_str().unwrap_or("").to_string(),
            head_ref: v["head"]["ref"].as_str().unwrap_or("").to_string(),
            html_url: v["html_url"].as_str().unwrap_or("").to_string(),
            body: v["body"].as_str().unwrap_or("").to_string(),
        }
    }
}

/// The host's token for the forge: by the web host (`github.com`), then the API's host
/// (`api.github.com`), each with its port when it has one.
fn host_token(
    forge: &ForgeConfig,
    tokens: &std::collections::BTreeMap<String, Secret>,
) -> Result<Secret> {
    let host = |url: &str| {
        reqwest::Url::parse(url).ok().and_then(|u| {
            let h = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h,
            })
        })
    };
    let hosts: Vec<String> = [host(&web_url(forge)), host(&forge.api_url)]
        .into_iter()
        .flatten()
        .collect();
    hosts
        .iter()
        .find_map(|h| tokens.get(h).cloned())
        .ok_or_else(|| {
            Error::invalid(format!(
                "providers.source_control.token is not set, and the host gave no token for {} \
                 (Backstage: integrations.github[].token for that host)",
                hosts.first().map(String::as_str).unwrap_or("the forge")
            ))
            .with("field", "providers.source_control.token")
        })
}

impl GitHub {
    /// A provider for `forge` (its token is read now, so a missing one fails at start). With no
    /// `token` in idp.yaml, the one `host_tokens` holds for the forge's host is used.
    pub fn new(
        forge: &ForgeConfig,
        shared: &SourceControlConfig,
        host_tokens: &std::collections::BTreeMap<String, Secret>,
    ) -> Result<GitHub> {
        check_repo_name(&forge.owner)
            .map_err(|e| e.with("field", "providers.source_control.owner"))?;
        let token = match &forge.token {
            Some(r) => r.resolve()?,
            None => host_token(forge, host_tokens)?,
        };
        let retry = RetryPolicy {
            attempts: forge.attempts.max(1),
            max_delay: Duration::from_secs(forge.max_retry_wait_secs),
            timeout: Duration::from_secs(forge.timeout_secs.max(1)),
            ..RetryPolicy::default()
        };
        Ok(GitHub {
            http: Http::new(
                "github",
                &forge.api_url,
                &token,
                "token",
                retry,
                forge.concurrency,
            )?,
            webhook_secret: forge.webhook_secret.clone(),
            owner: forge.owner.clone(),
            web: web_url(forge),
            default_branch: shared.default_branch.clone(),
            auto_merge: shared.auto_merge,
            merge_method: forge.merge_method,
            labels: forge.labels.clone(),
            blobs: Mutex::new(HashMap::new()),
        })
    }

    fn repo_api(&self, repo: &str) -> Result<String> {
        check_repo_name(repo)?;
        Ok(format!(
            "/repos/{}/{}",
            http::segment(&self.owner),
            http::segment(repo)
        ))
    }

    fn unexpected(&self, what: &str, r: &Reply) -> Error {
        let status = r.status.as_u16();
        Error::provider(format!(
            "github: {what} for {}: {status} {}",
            self.owner,
            r.message()
        ))
        .with("status", status.to_string())
        .with_retryable(status >= 500)
    }

    /// The commit a branch points at; `None` when the repo, or the branch, does not exist
    /// (or the repo is empty).
    async fn head(&self, repo: &str, branch: &str) -> Result<Option<String>> {
        let r = self
            .http
            .call(
                Method::GET,
                &format!(
                    "{}/git/ref/heads/{}",
                    self.repo_api(repo)?,
                    http::path(branch)
                ),
                None,
            )
            .await?;
        match r.status {
            StatusCode::OK => Ok(r.body["object"]["sha"].as_str().map(str::to_string)),
            StatusCode::NOT_FOUND | StatusCode::CONFLICT => Ok(None),
            _ => Err(self.unexpected(&format!("reading branch {branch} of {repo}"), &r)),
        }
    }

    async fn commit_tree(&self, repo: &str, commit: &str) -> Result<String> {
        let r = self
            .http
            .call(
                Method::GET,
                &format!("{}/git/commits/{commit}", self.repo_api(repo)?),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(self.unexpected(&format!("reading commit {commit} of {repo}"), &r));
        }
        r.body["tree"]["sha"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::provider("github: a commit without a tree"))
    }

    /// Every entry under the commit at `branch`; `None` when there is no such branch.
    async fn entries(&self, repo: &str, branch: &str) -> Result<Option<Vec<Entry>>> {
        match self.head(repo, branch).await? {
            Some(head) => Ok(Some(self.entries_at(repo, &head).await?)),
            None => Ok(None),
        }
    }

    /// Every entry under `commit`.
    async fn entries_at(&self, repo: &str, commit: &str) -> Result<Vec<Entry>> {
        let tree = self.commit_tree(repo, commit).await?;
        let r = self
            .http
            .call(
                Method::GET,
                &format!("{}/git/trees/{tree}?recursive=1", self.repo_api(repo)?),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(self.unexpected(&format!("listing {repo}"), &r));
        }
        if r.body["truncated"].as_bool() == Some(true) {
            return Err(Error::provider(format!(
                "github: {repo} has more files than one tree listing returns; idp cannot manage a repository that large"
            )));
        }
        let list = r.body["tree"].as_array().cloned().unwrap_or_default();
        Ok(list
            .iter()
            .map(|e| Entry {
                path: e["path"].as_str().unwrap_or("").to_string(),
                sha: e["sha"].as_str().unwrap_or("").to_string(),
                blob: e["type"] == "blob",
            })
            .collect())
    }

    async fn blob(&self, repo: &str, sha: &str) -> Result<Arc<Vec<u8>>> {
        if let Some(b) = self.blobs.lock().unwrap().get(sha) {
            return Ok(b.clone());
        }
        let r = self
            .http
            .call(
                Method::GET,
                &format!("{}/git/blobs/{sha}", self.repo_api(repo)?),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(self.unexpected(&format!("reading blob {sha} of {repo}"), &r));
        }
        let text: String = r.body["content"]
            .as_str()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let data = Arc::new(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| Error::provider(format!("github: blob {sha} is not base64")))?,
        );
        let mut cache = self.blobs.lock().unwrap();
        if cache.len() >= BLOB_CACHE {
            cache.clear();
        }
        cache.insert(sha.to_string(), data.clone());
        Ok(data)
    }

    /// The pull request that carries `key`: among the branch's pull requests when the branch is
    /// known, else among all of the repo's.
    async fn find_pull(&self, repo: &str, branch: Option<&str>, key: &str) -> Result<Option<Pull>> {
        let base = self.repo_api(repo)?;
        let mut page = 1;
        loop {
            let mut url = format!("{base}/pulls?state=all&per_page=100&page={page}");
            if let Some(b) = branch {
                url.push_str(&format!(
                    "&head={}",
                    http::segment(&format!("{}:{b}", self.owner))
                ));
            }
            let r = self.http.call(Method::GET, &url, None).await?;
            match r.status {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => return Ok(None),
                _ => return Err(self.unexpected(&format!("listing pull requests of {repo}"), &r)),
            }
            let list = r.body.as_array().cloned().unwrap_or_default();
            if let Some(p) = list.iter().map(Pull::from).find(|p| has_key(&p.body, key)) {
                return Ok(Some(p));
            }
            let more = r
                .headers
                .get("link")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|l| l.contains("rel=\"next\""));
            if !more || list.is_empty() {
                return Ok(None);
            }
            page += 1;
        }
    }

    async fn get_pull(&self, repo: &str, number: u64) -> Result<Pull> {
        let r = self
            .http
            .call(
                Method::GET,
                &format!("{}/pulls/{number}", self.repo_api(repo)?),
                None,
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(self.unexpected(&format!("reading pull request #{number} of {repo}"), &r));
        }
        Ok(Pull::from(&r.body))
    }

    fn outcome(&self, repo: &str, branch: &str, p: &Pull, committed: bool) -> ChangeRequestOutcome {
        ChangeRequestOutcome {
            id: format!("{}/{repo}#{}", self.owner, p.number),
            branch: branch.to_string(),
            commit: p.head_sha.clone(),
            url: p.html_url.clone(),
            state: if p.merged {
                ChangeRequestState::Merged
            } else if p.state == "closed" {
                ChangeRequestState::Closed
            } else {
                ChangeRequestState::Open
            },
            committed,
        }
    }

    /// Merges `p` when idp may and the forge permits; otherwise it stays open for review.
    async fn settle(
        &self,
        spec: &ChangeRequestSpec,
        mut p: Pull,
        committed: bool,
    ) -> Result<ChangeRequestOutcome> {
        // Closed without merging: rejected in review; the engine ends the run there.
        if !p.merged && p.state == "open" && self.auto_merge && !spec.hold {
            let r = self
                .http
                .call(
                    Method::PUT,
                    &format!("{}/pulls/{}/merge", self.repo_api(&spec.repo)?, p.number),
                    Some(&json!({ "merge_method": self.merge_method.as_str(), "sha": p.head_sha })),
                )
                .await?;
            match r.status {
                StatusCode::OK => p.merged = true,
                // Not mergeable (required reviews or checks, conflicts), the head moved, or a
                // lost answer to a merge that happened: read back what is true now.
                StatusCode::METHOD_NOT_ALLOWED
                | StatusCode::CONFLICT
                | StatusCode::UNPROCESSABLE_ENTITY => {
                    p = self.get_pull(&spec.repo, p.number).await?;
                }
                _ => {
                    return Err(self.unexpected(&format!("merging pull request #{}", p.number), &r));
                }
            }
        }
        Ok(self.outcome(&spec.repo, &spec.branch, &p, committed))
    }

    /// Points `branch` at `commit`, creating it if needed.
    async fn set_branch(&self, repo: &str, branch: &str, commit: &str) -> Result<()> {
        let base = self.repo_api(repo)?;
        for _ in 0..3 {
            let r = self
                .http
                .call(
                    Method::PATCH,
                    &format!("{base}/git/refs/heads/{}", http::path(branch)),
                    Some(&json!({ "sha": commit, "force": true })),
                )
                .await?;
            if r.status == StatusCode::OK {
                return Ok(());
            }
            if r.status != StatusCode::UNPROCESSABLE_ENTITY && r.status != StatusCode::NOT_FOUND {
                return Err(self.unexpected(&format!("moving branch {branch} of {repo}"), &r));
            }
            let r = self
                .http
                .call(
                    Method::POST,
                    &format!("{base}/git/refs"),
                    Some(&json!({ "ref": format!("refs/heads/{branch}"), "sha": commit })),
                )
                .await?;
            match r.status {
                StatusCode::CREATED => return Ok(()),
                // Created meanwhile (a lost answer to our own request): move it.
                StatusCode::UNPROCESSABLE_ENTITY => continue,
                _ => {
                    return Err(self.unexpected(&format!("creating branch {branch} of {repo}"), &r));
                }
            }
        }
        Err(Error::provider(format!(
            "github: branch {branch} of {repo} could neither be moved nor created"
        )))
    }

    /// Opens the pull request for `spec`, or adopts the open one GitHub already has for the
    /// branch (a lost answer to our own request, or one a superseded run of the same step left
    /// open), adding this key to its body.
    async fn open_pull(&self, spec: &ChangeRequestSpec) -> Result<Pull> {
        let base = self.repo_api(&spec.repo)?;
        let body = format!("{}\n\n{}\n", spec.body.trim_end(), key_marker(&spec.key));
        let r = self
            .http
            .call(
                Method::POST,
                &format!("{base}/pulls"),
                Some(&json!({
                    "title": spec.title,
                    "head": spec.branch,
                    "base": self.default_branch,
                    "body": body,
                })),
            )
            .await?;
        let pull = match r.status {
            StatusCode::CREATED => Pull::from(&r.body),
            StatusCode::UNPROCESSABLE_ENTITY => {
                let url = format!(
                    "{base}/pulls?state=open&per_page=100&head={}",
                    http::segment(&format!("{}:{}", self.owner, spec.branch))
                );
                let list = self.http.call(Method::GET, &url, None).await?;
                let Some(open) = list.body.as_array().and_then(|l| l.first()).map(Pull::from)
                else {
                    return Err(
                        self.unexpected(&format!("opening a pull request for {}", spec.branch), &r)
                    );
                };
                if !has_key(&open.body, &spec.key) {
                    let body = format!("{}\n{}\n", open.body.trim_end(), key_marker(&spec.key));
                    let r = self
                        .http
                        .call(
                            Method::PATCH,
                            &format!("{base}/pulls/{}", open.number),
                            Some(&json!({ "body": body })),
                        )
                        .await?;
                    if r.status != StatusCode::OK {
                        return Err(self.unexpected("adding a key to a pull request", &r));
                    }
                }
                open
            }
            _ => {
                return Err(
                    self.unexpected(&format!("opening a pull request for {}", spec.branch), &r)
                );
            }
        };
        if !self.labels.is_empty() {
            let r = self
                .http
                .call(
                    Method::POST,
                    &format!("{base}/issues/{}/labels", pull.number),
                    Some(&json!({ "labels": self.labels })),
                )
                .await?;
            if r.status != StatusCode::OK {
                return Err(self.unexpected("labelling a pull request", &r));
            }
        }
        Ok(pull)
    }
}

#[async_trait::async_trait]
impl SourceControl for GitHub {
    fn kind(&self) -> &'static str {
        "github"
    }

    async fn repo_exists(&self, repo: &str) -> Result<bool> {
        let r = self
            .http
            .call(Method::GET, &self.repo_api(repo)?, None)
            .await?;
        match r.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.unexpected(&format!("reading repository {repo}"), &r)),
        }
    }

    async fn create_repo(&self, repo: &str, description: &str) -> Result<()> {
        check_repo_name(repo)?;
        // auto_init: GitHub's Git database API refuses to work on an empty repository, so the
        // repo starts with the forge's README commit and every idp change arrives as a PR.
        let body =
            json!({ "name": repo, "description": description, "private": true, "auto_init": true });
        let mut r = self
            .http
            .call(
                Method::POST,
                &format!("/orgs/{}/repos", http::segment(&self.owner)),
                Some(&body),
            )
            .await?;
        if r.status == StatusCode::NOT_FOUND {
            // Not an organization: a user's own repositories.
            r = self
                .http
                .call(Method::POST, "/user/repos", Some(&body))
                .await?;
        }
        match r.status {
            StatusCode::CREATED => Ok(()),
            StatusCode::UNPROCESSABLE_ENTITY if self.repo_exists(repo).await? => Ok(()),
            _ => Err(self.unexpected(&format!("creating repository {repo}"), &r)),
        }
    }

    async fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let branch = branch.unwrap_or(&self.default_branch);
        let Some(entries) = self.entries(repo, branch).await? else {
            return Ok(vec![None; paths.len()]);
        };
        let by_path: HashMap<&str, &Entry> = entries
            .iter()
            .filter(|e| e.blob)
            .map(|e| (e.path.as_str(), e))
            .collect();
        let mut out = Vec::with_capacity(paths.len());
        for p in paths {
            out.push(match by_path.get(p.as_str()) {
                Some(e) => Some(self.blob(repo, &e.sha).await?.as_ref().clone()),
                None => None,
            });
        }
        Ok(out)
    }

    async fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> Result<Vec<String>> {
        let branch = branch.unwrap_or(&self.default_branch);
        Ok(self
            .entries(repo, branch)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.blob && e.path.starts_with(prefix))
            .map(|e| e.path)
            .collect())
    }

    async fn branch_exists(&self, repo: &str, branch: &str) -> Result<bool> {
        Ok(self.head(repo, branch).await?.is_some())
    }

    async fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome> {
        let api = self.repo_api(&spec.repo)?;
        if git2::Branch::name_is_valid(&spec.branch).ok() != Some(true) {
            return Err(Error::invalid(format!(
                "`{}` is not a valid branch name",
                spec.branch
            )));
        }
        if let Some(p) = self
            .find_pull(&spec.repo, Some(&spec.branch), &spec.key)
            .await?
        {
            return self.settle(spec, p, false).await;
        }
        let base = self
            .head(&spec.repo, &self.default_branch)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "repository {}/{} has no branch {}: create it with idp, or push a first commit",
                    self.owner, spec.repo, self.default_branch
                ))
            })?;
        let base_tree = self.commit_tree(&spec.repo, &base).await?;
        let deletes = spec.files.iter().any(|(_, c)| c.is_none());
        let present: HashSet<String> = if deletes {
            self.entries_at(&spec.repo, &base)
                .await?
                .into_iter()
                .filter(|e| e.blob)
                .map(|e| e.path)
                .collect()
        } else {
            HashSet::new()
        };
        let mut tree = Vec::new();
        for (path, content) in &spec.files {
            match content {
                Some(c) => match std::str::from_utf8(c) {
                    Ok(text) => tree.push(
                        json!({ "path": path, "mode": "100644", "type": "blob", "content": text }),
                    ),
                    Err(_) => {
                        let r = self
                            .http
                            .call(
                                Method::POST,
                                &format!("{api}/git/blobs"),
                                Some(&json!({
                                    "content": base64::engine::general_purpose::STANDARD.encode(c.as_slice()),
                                    "encoding": "base64",
                                })),
                            )
                            .await?;
                        if r.status != StatusCode::CREATED {
                            return Err(self.unexpected(&format!("uploading {path}"), &r));
                        }
                        tree.push(json!({ "path": path, "mode": "100644", "type": "blob", "sha": r.body["sha"] }));
                    }
                },
                None if present.contains(path) => tree
                    .push(json!({ "path": path, "mode": "100644", "type": "blob", "sha": null })),
                None => {}
            }
        }
        let new_tree = if tree.is_empty() {
            base_tree.clone()
        } else {
            let r = self
                .http
                .call(
                    Method::POST,
                    &format!("{api}/git/trees"),
                    Some(&json!({ "base_tree": base_tree, "tree": tree })),
                )
                .await?;
            if r.status != StatusCode::CREATED {
                return Err(self.unexpected(&format!("writing the tree for {}", spec.branch), &r));
            }
            r.body["sha"].as_str().unwrap_or("").to_string()
        };
        if new_tree == base_tree {
            // Already has exactly this content: nothing to commit.
            return Ok(ChangeRequestOutcome {
                id: String::new(),
                branch: spec.branch.clone(),
                commit: base,
                url: self.repo_url(&spec.repo),
                state: ChangeRequestState::Merged,
                committed: false,
            });
        }
        let message = spec.commit_message(&[]);
        let person = |s: &crate::providers::Signature| json!({ "name": s.name, "email": s.email });
        let r = self
            .http
            .call(
                Method::POST,
                &format!("{api}/git/commits"),
                Some(&json!({
                    "message": message,
                    "tree": new_tree,
                    "parents": [base],
                    "author": person(&spec.author),
                    "committer": person(&spec.committer),
                })),
            )
            .await?;
        if r.status != StatusCode::CREATED {
            return Err(self.unexpected(&format!("committing to {}", spec.branch), &r));
        }
        let commit = r.body["sha"].as_str().unwrap_or("").to_string();
        crate::failpoint::hit("scm:committed");
        self.set_branch(&spec.repo, &spec.branch, &commit).await?;
        crate::failpoint::hit("scm:recorded");
        let mut pull = self.open_pull(spec).await?;
        pull.head_sha = commit;
        self.settle(spec, pull, true).await
    }

    async fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        Ok(self
            .find_pull(repo, None, key)
            .await?
            .map(|p| self.outcome(repo, &p.head_ref, &p, false)))
    }

    fn repo_url(&self, repo: &str) -> String {
        format!("{}/{}/{repo}", self.web, self.owner)
    }

    fn default_branch(&self) -> &str {
        &self.default_branch
    }

    fn auto_merges(&self) -> bool {
        self.auto_merge
    }

    fn parse_webhook(
        &self,
        headers: &std::collections::BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>> {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let secret = self.webhook_secret.as_ref().ok_or_else(|| {
            Error::invalid(
                "providers.source_control.webhook_secret is not set: idp takes no unsigned webhooks",
            )
            .with("field", "providers.source_control.webhook_secret")
        })?;
        let want = crate::digest::hmac_sha256_hex(secret.resolve()?.expose().as_bytes(), body);
        let given = header("x-hub-signature-256")
            .and_then(|v| v.strip_prefix("sha256="))
            .unwrap_or("");
        if !crate::digest::constant_time_eq(given.as_bytes(), want.as_bytes()) {
            return Err(Error::new(
                crate::ErrorKind::Denied,
                "the webhook delivery's X-Hub-Signature-256 does not match the configured secret",
            ));
        }
        let event = header("x-github-event").unwrap_or("");
        if event != "pull_request" {
            return Ok(None);
        }
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| Error::invalid(format!("the webhook body is not JSON: {e}")))?;
        let action = v["action"].as_str().unwrap_or("");
        let pr = &v["pull_request"];
        let body = pr["body"].as_str().unwrap_or("");
        let keys = keys_in(body);
        Ok(Some(ForgeEvent {
            event: format!("pull_request.{action}"),
            repo: v["repository"]["name"].as_str().unwrap_or("").to_string(),
            url: pr["html_url"].as_str().unwrap_or("").to_string(),
            merged: pr["merged"].as_bool().unwrap_or(false),
            closed: action == "closed" || pr["state"] == "closed",
            keys,
        }))
    }
}
