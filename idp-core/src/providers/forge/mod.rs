//! Source control on a real forge over HTTPS (feature `forges`): repositories created in an
//! organization or group, each step's commit on its own branch, a pull (or merge) request per
//! change request, merged when `auto_merge` allows and the forge permits.
//!
//! The flow is the same on every forge and lives here, in [`Forge`]: find the change request by
//! its key, else commit on the step's branch, open the request, and merge it when idp may. What
//! differs is the API, behind [`ForgeApi`]: `github.rs` (REST v3: the Git database API),
//! `gitea.rs` (Gitea and Forgejo, REST v1: the multi-file contents API), `gitlab.rs` (REST v4:
//! the commits API with actions, merge requests).

mod app;
mod gitea;
mod github;
mod gitlab;
mod http;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Http, Reply, RetryPolicy};

use crate::config::{ForgeConfig, MergeMethod, Secret, SourceControlConfig, SourceControlProvider};
use crate::error::{Error, Result};
use crate::providers::{ChangeRequestOutcome, ChangeRequestSpec, ForgeEvent, SourceControl};
use crate::receipt::ChangeRequestState;

/// Blobs kept in memory by SHA (content-addressed, so never stale), up to this many bytes in
/// all; cleared when full. A blob larger than a sixteenth of it is not kept.
const BLOB_CACHE_BYTES: usize = 64 << 20;

/// The provider for a forge `cfg.provider` names; `None` for a kind that is not a forge.
pub fn provider(
    cfg: &SourceControlConfig,
    host_tokens: &BTreeMap<String, Secret>,
) -> Option<Result<Arc<dyn SourceControl>>> {
    fn make<A: ForgeApi>(
        api: A,
        forge: &ForgeConfig,
        cfg: &SourceControlConfig,
        host_tokens: &BTreeMap<String, Secret>,
    ) -> Result<Arc<dyn SourceControl>> {
        let c = Common::new(A::KIND, A::AUTH_SCHEME, forge, cfg, host_tokens)?;
        Ok(Arc::new(Forge { api, c }))
    }
    Some(match &cfg.provider {
        SourceControlProvider::LocalGit {} => return None,
        SourceControlProvider::Github(f) => make(github::GitHub, f, cfg, host_tokens),
        SourceControlProvider::Gitea(f) => make(gitea::Gitea::default(), f, cfg, host_tokens),
        SourceControlProvider::Gitlab(f) if f.merge_method == MergeMethod::Rebase => {
            Err(Error::invalid(
                "kind `gitlab` takes merge_method merge or squash: fast-forward merging is the project's setting in GitLab",
            )
            .with("field", "providers.source_control.merge_method"))
        }
        SourceControlProvider::Gitlab(f) => make(gitlab::GitLab::default(), f, cfg, host_tokens),
    })
}

/// What every forge provider holds: the HTTP client with its token, where repos live, and how
/// idp merges.
pub(crate) struct Common {
    pub http: Http,
    pub kind: &'static str,
    pub owner: String,
    pub web: String,
    pub default_branch: String,
    pub auto_merge: bool,
    pub merge_method: MergeMethod,
    pub labels: Vec<String>,
    webhook_secret: Option<crate::config::SecretRef>,
    blobs: Mutex<BlobCache>,
}

#[derive(Default)]
struct BlobCache {
    bytes: usize,
    by_sha: HashMap<String, Arc<Vec<u8>>>,
}

impl Common {
    /// Reads the token now, so a missing one fails at start. With no `token` in idp.yaml, the
    /// one `host_tokens` holds for the forge's host is used.
    fn new(
        kind: &'static str,
        scheme: &str,
        forge: &ForgeConfig,
        shared: &SourceControlConfig,
        host_tokens: &BTreeMap<String, Secret>,
    ) -> Result<Common> {
        check_owner(&forge.owner).map_err(|e| e.with("field", "providers.source_control.owner"))?;
        let auth = match (&forge.token, &forge.app) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "providers.source_control sets both token and app: choose one",
                )
                .with("field", "providers.source_control.app"));
            }
            (None, Some(_)) if kind != "github" => {
                return Err(Error::invalid(format!(
                    "providers.source_control.app is a GitHub App; kind `{kind}` takes a token"
                ))
                .with("field", "providers.source_control.app"));
            }
            (None, Some(app)) => http::Auth::App(Box::new(app::AppAuth::new(app)?)),
            (Some(r), None) => http::Auth::token(kind, scheme, &r.resolve()?)?,
            (None, None) => {
                http::Auth::token(kind, scheme, &host_token(kind, forge, host_tokens)?)?
            }
        };
        let retry = RetryPolicy {
            attempts: forge.attempts.max(1),
            max_delay: Duration::from_secs(forge.max_retry_wait_secs),
            timeout: Duration::from_secs(forge.timeout_secs.max(1)),
            ..RetryPolicy::default()
        };
        Ok(Common {
            http: Http::new(kind, &forge.api_url, auth, retry, forge.concurrency)?,
            kind,
            owner: forge.owner.clone(),
            web: web_url(forge),
            default_branch: shared.default_branch.clone(),
            auto_merge: shared.auto_merge,
            merge_method: forge.merge_method,
            labels: forge.labels.clone(),
            webhook_secret: forge.webhook_secret.clone(),
            blobs: Mutex::new(BlobCache::default()),
        })
    }

    /// A provider error for an answer idp did not expect; 5xx ones are worth retrying later.
    pub fn unexpected(&self, what: &str, r: &Reply) -> Error {
        let status = r.status.as_u16();
        Error::provider(format!(
            "{}: {what} for {}: {status} {}",
            self.kind,
            self.owner,
            r.message()
        ))
        .with("status", status.to_string())
        .with_retryable(status >= 500)
    }

    /// The webhook secret; idp takes no unsigned deliveries.
    pub fn webhook_secret(&self) -> Result<Secret> {
        self.webhook_secret
            .as_ref()
            .ok_or_else(|| {
                Error::invalid(
                    "providers.source_control.webhook_secret is not set: idp takes no unsigned webhooks",
                )
                .with("field", "providers.source_control.webhook_secret")
            })?
            .resolve()
    }

    /// Checks `given`, the hex HMAC-SHA-256 of `body` a delivery carries in `header`.
    pub fn verify_hmac(&self, header: &str, given: Option<&str>, body: &[u8]) -> Result<()> {
        let secret = self.webhook_secret()?;
        let want = crate::digest::hmac_sha256_hex(secret.expose().as_bytes(), body);
        self.verify_equal(header, given, &want)
    }

    /// Checks `given` against `want` in constant time.
    pub fn verify_equal(&self, header: &str, given: Option<&str>, want: &str) -> Result<()> {
        if crate::digest::constant_time_eq(given.unwrap_or("").as_bytes(), want.as_bytes()) {
            Ok(())
        } else {
            Err(Error::new(
                crate::ErrorKind::Denied,
                format!(
                    "the webhook delivery's {header} does not match the configured webhook secret"
                ),
            ))
        }
    }
}

/// A pull request (GitHub, Gitea) or merge request (GitLab), as idp needs it.
#[derive(Debug, Clone)]
pub(crate) struct Review {
    pub number: u64,
    pub state: ChangeRequestState,
    pub head_sha: String,
    pub head_ref: String,
    pub url: String,
    pub body: String,
}

/// One file in a listing: its path and blob SHA.
pub(crate) struct Blob {
    pub path: String,
    pub sha: String,
}

/// What a change request changes against the files a commit holds.
pub(crate) enum Change<'a> {
    Create(&'a str, &'a [u8]),
    /// Path, new content, the current blob's SHA.
    Update(&'a str, &'a [u8], String),
    /// Path, the current blob's SHA.
    Delete(&'a str, String),
}

/// The changes that take `present` (path → blob SHA) to what `spec` asks for: files whose
/// content differs (compared by git's blob SHA, so nothing is downloaded), and deletions of
/// files that exist.
pub(crate) fn changes<'a>(
    spec: &'a ChangeRequestSpec,
    present: &HashMap<String, String>,
) -> Vec<Change<'a>> {
    let mut out = Vec::new();
    for (path, content) in &spec.files {
        match (content, present.get(path)) {
            (Some(c), None) => out.push(Change::Create(path, c)),
            (Some(c), Some(sha)) => {
                let new = git2::Oid::hash_object(git2::ObjectType::Blob, c)
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                if new != *sha {
                    out.push(Change::Update(path, c, sha.clone()));
                }
            }
            (None, Some(sha)) => out.push(Change::Delete(path, sha.clone())),
            (None, None) => {}
        }
    }
    out
}

/// The forge-specific half of a provider: each call is one step of the shared flow, safe to
/// repeat after a lost answer.
#[async_trait::async_trait]
pub(crate) trait ForgeApi: Send + Sync + 'static {
    /// The `kind:` string.
    const KIND: &'static str;
    /// How the token is presented in `Authorization`.
    const AUTH_SCHEME: &'static str;
    /// Separates the repo from the number in a change request's id (`acme/svc#3`, `acme/svc!3`).
    const ID_SEPARATOR: char = '#';

    async fn repo_exists(&self, c: &Common, repo: &str) -> Result<bool>;
    /// Creates a private repository with a first commit on the default branch; a no-op when it
    /// exists.
    async fn create_repo(&self, c: &Common, repo: &str, description: &str) -> Result<()>;
    /// The commit `branch` points at; `None` when the repo or the branch does not exist.
    async fn head(&self, c: &Common, repo: &str, branch: &str) -> Result<Option<String>>;
    /// Every file under `commit`.
    async fn files_at(&self, c: &Common, repo: &str, commit: &str) -> Result<Vec<Blob>>;
    /// A blob's content.
    async fn fetch_blob(&self, c: &Common, repo: &str, sha: &str) -> Result<Vec<u8>>;
    /// What `spec` changes against the files at `base` (empty: `base` already has it).
    async fn changes_on<'a>(
        &self,
        c: &Common,
        spec: &'a ChangeRequestSpec,
        base: &str,
    ) -> Result<Vec<Change<'a>>> {
        let on_base: HashMap<String, String> = self
            .files_at(c, &spec.repo, base)
            .await?
            .into_iter()
            .map(|b| (b.path, b.sha))
            .collect();
        Ok(changes(spec, &on_base))
    }
    /// Commits `spec.files` on `spec.branch`, on top of `base` (the default branch's head);
    /// `None` when `base` already holds exactly that content.
    async fn commit(
        &self,
        c: &Common,
        spec: &ChangeRequestSpec,
        base: &str,
    ) -> Result<Option<String>>;
    /// The change request that carries `key`: among the branch's when the branch is known,
    /// else among all of the repo's.
    async fn find_review(
        &self,
        c: &Common,
        repo: &str,
        branch: Option<&str>,
        key: &str,
    ) -> Result<Option<Review>>;
    /// Opens the change request for `spec` (its body ends with the key marker), or adopts the
    /// open one the forge already has for the branch, adding the key to it; labels it.
    async fn open_review(&self, c: &Common, spec: &ChangeRequestSpec) -> Result<Review>;
    /// Merges `r` at its head; `false` when the forge refuses (reviews, checks, conflicts, a
    /// moved head) or the answer was lost: the caller reads back what is true.
    async fn merge(&self, c: &Common, repo: &str, r: &Review) -> Result<bool>;
    async fn get_review(&self, c: &Common, repo: &str, number: u64) -> Result<Review>;
    /// Verifies a webhook delivery and reads it. `header` looks up a header by name, ignoring
    /// case.
    fn parse_event(
        &self,
        c: &Common,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>>;
}

/// A forge provider: the shared flow over a forge's API.
pub(crate) struct Forge<A> {
    api: A,
    c: Common,
}

impl<A> std::fmt::Debug for Forge<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forge")
            .field("kind", &self.c.kind)
            .field("http", &self.c.http)
            .field("owner", &self.c.owner)
            .finish_non_exhaustive()
    }
}

impl<A: ForgeApi> Forge<A> {
    async fn blob(&self, repo: &str, sha: &str) -> Result<Arc<Vec<u8>>> {
        if let Some(b) = self.c.blobs.lock().unwrap().by_sha.get(sha) {
            return Ok(b.clone());
        }
        let data = Arc::new(self.api.fetch_blob(&self.c, repo, sha).await?);
        if data.len() <= BLOB_CACHE_BYTES / 16 {
            let mut cache = self.c.blobs.lock().unwrap();
            if cache.bytes + data.len() > BLOB_CACHE_BYTES {
                *cache = BlobCache::default();
            }
            cache.bytes += data.len();
            cache.by_sha.insert(sha.to_string(), data.clone());
        }
        Ok(data)
    }

    /// Every file at `branch`; `None` when there is no such branch.
    async fn files(&self, repo: &str, branch: Option<&str>) -> Result<Option<Vec<Blob>>> {
        let branch = branch.unwrap_or(&self.c.default_branch);
        match self.api.head(&self.c, repo, branch).await? {
            Some(head) => Ok(Some(self.api.files_at(&self.c, repo, &head).await?)),
            None => Ok(None),
        }
    }

    fn outcome(
        &self,
        repo: &str,
        branch: &str,
        r: &Review,
        committed: bool,
    ) -> ChangeRequestOutcome {
        ChangeRequestOutcome {
            id: format!("{}/{repo}{}{}", self.c.owner, A::ID_SEPARATOR, r.number),
            branch: branch.to_string(),
            commit: r.head_sha.clone(),
            url: r.url.clone(),
            state: r.state,
            committed,
        }
    }

    /// Merges `r` when idp may and the forge permits; otherwise it stays open for review. A
    /// request closed without merging was rejected in review: the engine ends the run there.
    async fn settle(
        &self,
        spec: &ChangeRequestSpec,
        mut r: Review,
        committed: bool,
    ) -> Result<ChangeRequestOutcome> {
        if r.state == ChangeRequestState::Open && self.c.auto_merge && !spec.hold {
            if self.api.merge(&self.c, &spec.repo, &r).await? {
                r.state = ChangeRequestState::Merged;
            } else {
                r = self.api.get_review(&self.c, &spec.repo, r.number).await?;
            }
        }
        Ok(self.outcome(&spec.repo, &spec.branch, &r, committed))
    }
}

#[async_trait::async_trait]
impl<A: ForgeApi> SourceControl for Forge<A> {
    fn kind(&self) -> &'static str {
        A::KIND
    }

    async fn repo_exists(&self, repo: &str) -> Result<bool> {
        check_repo_name(repo)?;
        self.api.repo_exists(&self.c, repo).await
    }

    async fn create_repo(&self, repo: &str, description: &str) -> Result<()> {
        check_repo_name(repo)?;
        self.api.create_repo(&self.c, repo, description).await
    }

    async fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        check_repo_name(repo)?;
        let Some(files) = self.files(repo, branch).await? else {
            return Ok(vec![None; paths.len()]);
        };
        let by_path: HashMap<&str, &str> = files
            .iter()
            .map(|b| (b.path.as_str(), b.sha.as_str()))
            .collect();
        let mut out = Vec::with_capacity(paths.len());
        for p in paths {
            out.push(match by_path.get(p.as_str()) {
                Some(sha) => Some(self.blob(repo, sha).await?.as_ref().clone()),
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
        check_repo_name(repo)?;
        Ok(self
            .files(repo, branch)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.path.starts_with(prefix))
            .map(|b| b.path)
            .collect())
    }

    async fn branch_exists(&self, repo: &str, branch: &str) -> Result<bool> {
        check_repo_name(repo)?;
        Ok(self.api.head(&self.c, repo, branch).await?.is_some())
    }

    async fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome> {
        check_repo_name(&spec.repo)?;
        if git2::Branch::name_is_valid(&spec.branch).ok() != Some(true) {
            return Err(Error::invalid(format!(
                "`{}` is not a valid branch name",
                spec.branch
            )));
        }
        if let Some(r) = self
            .api
            .find_review(&self.c, &spec.repo, Some(&spec.branch), &spec.key)
            .await?
        {
            return self.settle(spec, r, false).await;
        }
        let base = self
            .api
            .head(&self.c, &spec.repo, &self.c.default_branch)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "repository {}/{} has no branch {}: create it with idp, or push a first commit",
                    self.c.owner, spec.repo, self.c.default_branch
                ))
            })?;
        let Some(commit) = self.api.commit(&self.c, spec, &base).await? else {
            // Already has exactly this content: nothing to commit.
            return Ok(ChangeRequestOutcome {
                id: String::new(),
                branch: spec.branch.clone(),
                commit: base,
                url: self.repo_url(&spec.repo),
                state: ChangeRequestState::Merged,
                committed: false,
            });
        };
        crate::failpoint::hit("scm:recorded");
        let mut r = self.api.open_review(&self.c, spec).await?;
        r.head_sha = commit;
        self.settle(spec, r, true).await
    }

    async fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        check_repo_name(repo)?;
        Ok(self
            .api
            .find_review(&self.c, repo, None, key)
            .await?
            .map(|r| self.outcome(repo, &r.head_ref, &r, false)))
    }

    fn repo_url(&self, repo: &str) -> String {
        format!("{}/{}/{repo}", self.c.web, self.c.owner)
    }

    fn default_branch(&self) -> &str {
        &self.c.default_branch
    }

    fn auto_merges(&self) -> bool {
        self.c.auto_merge
    }

    fn parse_webhook(
        &self,
        headers: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>> {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        };
        self.api.parse_event(&self.c, &header, body)
    }
}

/// Adopts `open`, the open change request the forge already has for `spec`'s branch (it refused
/// a second one, `refused`): a lost answer to our own request, or one a superseded run of the
/// same step left open. Its body gets `spec`'s key through the request `edit` makes of the
/// change request's number and the new body: method, path and fields.
pub(crate) async fn adopt(
    c: &Common,
    spec: &ChangeRequestSpec,
    open: Option<Review>,
    refused: &Reply,
    edit: impl FnOnce(u64, String) -> (reqwest::Method, String, serde_json::Value),
) -> Result<Review> {
    let Some(open) = open else {
        return Err(c.unexpected(
            &format!("opening a change request for {}", spec.branch),
            refused,
        ));
    };
    if let Some(body) = add_key(&open.body, &spec.key) {
        let (method, path, fields) = edit(open.number, body);
        let r = c.http.call(method, &path, Some(&fields)).await?;
        if !r.status.is_success() {
            return Err(c.unexpected("adding a key to a change request", &r));
        }
    }
    Ok(open)
}

/// The most pages a listing is followed for (10,000 items at 100 a page).
const MAX_PAGES: u32 = 100;

/// Goes through a listing page by page (`page(n)` is the path of page `n`, from 1), calling
/// `f` on each item until it returns true, while the forge says there is a next page (a `Link`
/// header with `rel="next"`, or GitLab's `x-next-page`). A listing that is not there (404) is
/// empty.
pub(crate) async fn each_page(
    c: &Common,
    what: &str,
    page: impl Fn(u32) -> String + Send + Sync,
    mut f: impl FnMut(&serde_json::Value) -> bool + Send,
) -> Result<()> {
    for n in 1..=MAX_PAGES {
        let r = c.http.call(reqwest::Method::GET, &page(n), None).await?;
        match r.status {
            reqwest::StatusCode::OK => {}
            reqwest::StatusCode::NOT_FOUND => return Ok(()),
            _ => return Err(c.unexpected(what, &r)),
        }
        let list = r.body.as_array().map(Vec::as_slice).unwrap_or_default();
        if list.iter().any(&mut f) {
            return Ok(());
        }
        let next = http::has_next(&r)
            || r.header("x-next-page")
                .is_some_and(|p| !p.trim().is_empty());
        if list.is_empty() || !next {
            return Ok(());
        }
    }
    Err(Error::provider(format!(
        "{}: {what} has more than {MAX_PAGES} pages; idp stops there",
        c.kind
    )))
}

/// A `pull_request` delivery in the shape GitHub and Gitea share (already verified).
pub(crate) fn pull_request_event(body: &[u8]) -> Result<ForgeEvent> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid(format!("the webhook body is not JSON: {e}")))?;
    let action = v["action"].as_str().unwrap_or("");
    let pr = &v["pull_request"];
    Ok(ForgeEvent {
        event: format!("pull_request.{action}"),
        repo: v["repository"]["name"].as_str().unwrap_or("").to_string(),
        url: pr["html_url"].as_str().unwrap_or("").to_string(),
        merged: pr["merged"].as_bool().unwrap_or(false),
        closed: action == "closed" || pr["state"] == "closed",
        keys: keys_in(pr["body"].as_str().unwrap_or("")),
    })
}

/// The hidden line in a change request's body that ties it to a change request key: how a
/// resumed or repeated run finds its pull request instead of opening another.
pub(crate) fn key_marker(key: &str) -> String {
    format!("<!-- idp-change-request-key: {key} -->")
}

/// `spec`'s body with its key marker at the end.
pub(crate) fn body_with_key(spec: &ChangeRequestSpec) -> String {
    format!("{}\n\n{}\n", spec.body.trim_end(), key_marker(&spec.key))
}

/// `body` with `key`'s marker added, or `None` when it carries it already.
fn add_key(body: &str, key: &str) -> Option<String> {
    (!has_key(body, key)).then(|| format!("{}\n{}\n", body.trim_end(), key_marker(key)))
}

/// Every key whose marker `body` carries.
pub(crate) fn keys_in(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<!-- idp-change-request-key: ")?
                .strip_suffix(" -->")
                .map(str::to_string)
        })
        .collect()
}

/// Whether `body` carries `key`'s marker.
pub(crate) fn has_key(body: &str, key: &str) -> bool {
    keys_in(body).iter().any(|k| k == key)
}

/// The web address the API serves: `https://api.github.com` → `https://github.com`,
/// `https://ghe.example/api/v3` → `https://ghe.example`, `.../api/v4` and `.../api/v1` alike.
pub(crate) fn web_url(cfg: &ForgeConfig) -> String {
    if let Some(w) = &cfg.web_url {
        return w.trim_end_matches('/').to_string();
    }
    let api = cfg.api_url.trim_end_matches('/');
    if let Some(rest) = api.strip_prefix("https://api.github.com") {
        return format!("https://github.com{rest}");
    }
    for suffix in ["/api/v3", "/api/v4", "/api/v1"] {
        if let Some(w) = api.strip_suffix(suffix) {
            return w.to_string();
        }
    }
    api.to_string()
}

/// The host's token for the forge: by the web host (`github.com`), then the API's host
/// (`api.github.com`), each with its port when it has one.
fn host_token(
    kind: &str,
    forge: &ForgeConfig,
    tokens: &BTreeMap<String, Secret>,
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
                 (Backstage: integrations.{kind}[].token for that host)",
                hosts.first().map(String::as_str).unwrap_or("the forge")
            ))
            .with("field", "providers.source_control.token")
        })
}

impl MergeMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

/// A repository name idp may put in a URL: the forge's own rules (letters, digits, `-`, `_`,
/// `.`), so nothing in a name can reach another path of the API.
pub(crate) fn check_repo_name(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= 100
        && repo != "."
        && repo != ".."
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{repo}` is not a repository name a forge accepts (letters, digits, -, _ and .)"
        )))
    }
}

/// An owner: an organization or user (one name), or a GitLab group path (`platform/services`).
fn check_owner(owner: &str) -> Result<()> {
    owner.split('/').try_for_each(check_repo_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_may_be_group_paths_but_not_traversals() {
        assert!(check_owner("acme").is_ok());
        assert!(check_owner("acme/platform").is_ok());
        for bad in ["", "acme/", "../etc", "acme/../x", "a b", "acme//x"] {
            assert!(check_owner(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_compare_by_blob_sha() {
        let spec = ChangeRequestSpec {
            key: "k".into(),
            repo: "r".into(),
            branch: "b".into(),
            title: "t".into(),
            body: String::new(),
            files: vec![
                ("same".into(), Some(Arc::new(b"x\n".to_vec()))),
                ("new".into(), Some(Arc::new(b"n".to_vec()))),
                ("changed".into(), Some(Arc::new(b"y".to_vec()))),
                ("gone".into(), None),
                ("never".into(), None),
            ],
            author: crate::providers::Signature {
                name: "a".into(),
                email: "a@x".into(),
            },
            committer: crate::providers::Signature {
                name: "a".into(),
                email: "a@x".into(),
            },
            trailers: Vec::new(),
            hold: false,
        };
        // `git hash-object` of "x\n".
        let present: HashMap<String, String> = [
            ("same", "587be6b4c3f93f93c489c0111bba5596147a26cb"),
            ("changed", "587be6b4c3f93f93c489c0111bba5596147a26cb"),
            ("gone", "1111111111111111111111111111111111111111"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let got: Vec<String> = changes(&spec, &present)
            .iter()
            .map(|c| match c {
                Change::Create(p, _) => format!("create {p}"),
                Change::Update(p, _, old) => format!("update {p} {}", &old[..4]),
                Change::Delete(p, old) => format!("delete {p} {}", &old[..4]),
            })
            .collect();
        assert_eq!(
            got,
            ["create new", "update changed 587b", "delete gone 1111"]
        );
    }
}
