//! The periphery: where repos live. [`SourceControl`] is the trait; each implementation is
//! selected by the `kind:` of `providers.source_control` in idp.yaml.

#[cfg(feature = "forges")]
pub mod forge;
mod git_objects;
mod local_git;
mod memory;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use local_git::LocalGit;
pub use memory::MemorySourceControl;

use crate::config::{SourceControlConfig, SourceControlProvider};
use crate::error::Result;
use crate::receipt::ChangeRequestState;

/// Who a commit is by.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Signature {
    pub name: String,
    pub email: String,
}

/// A change to propose to a repo: files on a branch, with a record a reviewer can find.
#[derive(Debug, Clone)]
pub struct ChangeRequestSpec {
    /// Unique per (run, step): submitting the same key twice returns the first change request,
    /// which is how a resumed run avoids duplicate commits.
    pub key: String,
    pub repo: String,
    pub branch: String,
    pub title: String,
    pub body: String,
    /// `(path, Some(content))` to write, `(path, None)` to delete.
    pub files: Vec<(String, Option<Arc<Vec<u8>>>)>,
    pub author: Signature,
    pub committer: Signature,
    /// Extra `Key: value` trailers for the commit message (principal, run id, ...).
    pub trailers: Vec<(String, String)>,
    /// Leave the change request open even when the provider auto-merges (e.g. it carries
    /// conflict markers for a person to resolve).
    pub hold: bool,
}

/// What the provider did with a [`ChangeRequestSpec`].
#[derive(Debug, Clone)]
pub struct ChangeRequestOutcome {
    pub id: String,
    pub branch: String,
    pub commit: String,
    pub url: String,
    pub state: ChangeRequestState,
    /// False when the repo already had exactly this content (nothing was committed).
    pub committed: bool,
}

/// A forge's news about a change request, from a verified webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ForgeEvent {
    /// The forge's event, e.g. `pull_request.closed`.
    pub event: String,
    pub repo: String,
    /// The change request's web address.
    pub url: String,
    pub merged: bool,
    pub closed: bool,
    /// The change request keys the pull request carries (idp's runs and steps).
    pub keys: Vec<String>,
}

/// Where repositories live. Implementations are idempotent: creating an existing repo, or
/// submitting a change request key twice, is not an error and changes nothing. Every method that
/// may wait on I/O is async; implementations that block (libgit2, a file system) do it off the
/// async threads (see [`crate::runtime::unblock`]). `idp_core::testing` (feature `testing`) has
/// the contract every implementation must pass.
#[async_trait::async_trait]
pub trait SourceControl: Send + Sync {
    /// The `kind:` string that selects this provider.
    fn kind(&self) -> &'static str;
    async fn repo_exists(&self, repo: &str) -> Result<bool>;
    /// Creates an empty repo with the default branch unborn; no-op when it exists.
    async fn create_repo(&self, repo: &str, description: &str) -> Result<()>;
    /// Reads files at `branch` (default branch when `None`). Missing repo, branch or file: `None`.
    async fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>>;
    /// Every file path under `prefix` at `branch` (default branch when `None`).
    async fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> Result<Vec<String>>;
    async fn branch_exists(&self, repo: &str, branch: &str) -> Result<bool>;

    /// Commits the files on the change request's branch and opens (or, with auto-merge, merges)
    /// the change request. Idempotent on `spec.key`: submitting a key again returns the first
    /// change request, merged now if it was held and `spec.hold` is false.
    async fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome>;
    /// The change request submitted with `key`, if any (used to recover after a crash).
    async fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>>;
    /// A URL for the repo.
    fn repo_url(&self, repo: &str) -> String;
    /// The default branch name.
    fn default_branch(&self) -> &str;
    /// True when change requests are merged as soon as they are opened.
    fn auto_merges(&self) -> bool;

    /// Verifies a webhook delivery (its signature, with the secret configured for the
    /// provider) and reads what it says about a change request: `None` for events that are not
    /// about one (a ping, a push). A delivery that fails verification is [`ErrorKind::Denied`].
    ///
    /// [`ErrorKind::Denied`]: crate::ErrorKind::Denied
    fn parse_webhook(
        &self,
        headers: &std::collections::BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Option<ForgeEvent>> {
        let _ = (headers, body);
        Err(crate::Error::invalid(format!(
            "source control `{}` takes no webhooks",
            self.kind()
        )))
    }
}

/// Known `providers.source_control.kind` values.
pub const SOURCE_CONTROL_KINDS: [&str; 4] = ["local-git", "github", "gitlab", "gitea"];

/// Builds the source-control provider `cfg` selects, with local repos under `workspace`, and
/// `host_tokens` (forge host → token) for a forge whose `token` idp.yaml does not set.
pub async fn source_control(
    cfg: &SourceControlConfig,
    workspace: &Path,
    host_tokens: &std::collections::BTreeMap<String, crate::config::Secret>,
) -> Result<Arc<dyn SourceControl>> {
    match &cfg.provider {
        SourceControlProvider::LocalGit {} => Ok(Arc::new(LocalGit::new(
            workspace.join("repos"),
            &cfg.default_branch,
            cfg.auto_merge,
        )?)),
        #[cfg(feature = "forges")]
        _ => forge::provider(cfg, host_tokens).expect("every other kind is a forge"),
        #[cfg(not(feature = "forges"))]
        other => {
            let _ = host_tokens;
            Err(crate::Error::invalid(format!(
                "providers.source_control.kind `{}` needs idp built with the `forges` feature (the idp CLI and the Python and Node packages are)",
                other.kind()
            ))
            .with("field", "providers.source_control.kind"))
        }
    }
}

impl ChangeRequestSpec {
    /// The commit message: title, body, and the trailers (the spec's, the branch, `extra`, and
    /// the key last) that tie the commit to its change request.
    pub fn commit_message(&self, extra: &[(&str, &str)]) -> String {
        let mut msg = format!("{}\n\n{}\n\n", self.title.trim(), self.body.trim());
        for (k, v) in &self.trailers {
            msg.push_str(&format!("{k}: {v}\n"));
        }
        msg.push_str(&format!("Idp-Branch: {}\n", self.branch));
        for (k, v) in extra {
            msg.push_str(&format!("{k}: {v}\n"));
        }
        msg.push_str(&format!("Idp-Change-Request-Key: {}\n", self.key));
        msg
    }
}

/// Parses `Key: value` trailers from the end of a commit message.
pub fn trailers(message: &str) -> Vec<(String, String)> {
    let last = message.trim_end().rsplit("\n\n").next().unwrap_or("");
    last.lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn trailers_come_from_the_last_paragraph() {
        let t = super::trailers(
            "title\n\nbody: not a trailer\n\nIdp-Run: r1\nIdp-Change-Request-Key: k\n",
        );
        assert_eq!(
            t,
            vec![
                ("Idp-Run".into(), "r1".into()),
                ("Idp-Change-Request-Key".into(), "k".into())
            ]
        );
    }
}
