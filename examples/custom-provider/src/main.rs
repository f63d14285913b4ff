//! A custom [`SourceControl`] provider, injected into idp through `Platform::builder()`: here a
//! tiny in-memory "forge" that keeps each repo's default branch as a map of files and records
//! every change request by key. An organization would write the same ~100 lines against its
//! own git hosting. The program runs the golden path on it and prints the receipt as JSON; the
//! provider passes the contract every idp provider passes (`cargo test -p
//! idp-example-custom-provider`).
//!
//!   cargo run -p idp-example-custom-provider

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use idp_core::providers::{ChangeRequestOutcome, ChangeRequestSpec, SourceControl};
use idp_core::receipt::ChangeRequestState;
use idp_core::{Error, Result, ServiceRequest};

/// One repository: the files of the default branch, the other branches, and the change requests
/// by key.
#[derive(Default)]
struct Repo {
    branches: HashMap<String, BTreeMap<String, Vec<u8>>>,
    change_requests: HashMap<String, (u64, ChangeRequestOutcome, ChangeRequestSpec)>,
}

/// Repositories in a map behind a mutex. Change requests merge when opened, unless held.
#[derive(Clone, Default)]
pub struct TinyForge {
    repos: Arc<Mutex<HashMap<String, Repo>>>,
}

const MAIN: &str = "main";

impl TinyForge {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Repo>) -> Result<T>) -> Result<T> {
        let mut repos = self
            .repos
            .lock()
            .map_err(|_| Error::internal("forge lock poisoned"))?;
        f(&mut repos)
    }
}

fn apply(tree: &mut BTreeMap<String, Vec<u8>>, spec: &ChangeRequestSpec) {
    for (path, content) in &spec.files {
        match content {
            Some(c) => tree.insert(path.clone(), c.as_ref().clone()),
            None => tree.remove(path),
        };
    }
}

#[async_trait::async_trait]
impl SourceControl for TinyForge {
    fn kind(&self) -> &'static str {
        "tiny-forge"
    }

    async fn repo_exists(&self, repo: &str) -> Result<bool> {
        self.with(|r| Ok(r.contains_key(repo)))
    }

    async fn create_repo(&self, repo: &str, _description: &str) -> Result<()> {
        self.with(|r| {
            r.entry(repo.to_string()).or_default();
            Ok(())
        })
    }

    async fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.with(|r| {
            let tree = r
                .get(repo)
                .and_then(|x| x.branches.get(branch.unwrap_or(MAIN)));
            Ok(paths
                .iter()
                .map(|p| tree.and_then(|t| t.get(p).cloned()))
                .collect())
        })
    }

    async fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> Result<Vec<String>> {
        self.with(|r| {
            let tree = r
                .get(repo)
                .and_then(|x| x.branches.get(branch.unwrap_or(MAIN)));
            Ok(tree
                .map(|t| {
                    t.keys()
                        .filter(|p| p.starts_with(prefix))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default())
        })
    }

    async fn branch_exists(&self, repo: &str, branch: &str) -> Result<bool> {
        self.with(|r| Ok(r.get(repo).is_some_and(|x| x.branches.contains_key(branch))))
    }

    async fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome> {
        self.with(|r| {
            let repo = r
                .get_mut(&spec.repo)
                .ok_or_else(|| Error::not_found(format!("no repository {}", spec.repo)))?;
            let main = repo.branches.entry(MAIN.into()).or_default();
            // The same key again: the same change request, merged now unless still held.
            if let Some((_, outcome, first)) = repo.change_requests.get_mut(&spec.key) {
                if outcome.state == ChangeRequestState::Open && !spec.hold {
                    apply(main, first);
                    outcome.state = ChangeRequestState::Merged;
                }
                let mut again = outcome.clone();
                again.committed = false;
                return Ok(again);
            }
            let mut branch = main.clone();
            apply(&mut branch, spec);
            if &branch == main {
                let state = ChangeRequestState::Merged;
                let (commit, url) = (String::new(), String::new());
                return Ok(ChangeRequestOutcome {
                    id: String::new(),
                    branch: spec.branch.clone(),
                    commit,
                    url,
                    state,
                    committed: false,
                });
            }
            let number = repo.change_requests.len() as u64 + 1;
            let state = if spec.hold {
                ChangeRequestState::Open
            } else {
                *main = branch.clone();
                ChangeRequestState::Merged
            };
            repo.branches.insert(spec.branch.clone(), branch);
            let outcome = ChangeRequestOutcome {
                id: format!("{}#{number}", spec.repo),
                branch: spec.branch.clone(),
                commit: format!("{:040x}", number),
                url: format!("tiny-forge://{}/pulls/{number}", spec.repo),
                state,
                committed: true,
            };
            repo.change_requests
                .insert(spec.key.clone(), (number, outcome.clone(), spec.clone()));
            Ok(outcome)
        })
    }

    async fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        self.with(|r| {
            Ok(r.get(repo)
                .and_then(|x| x.change_requests.get(key))
                .map(|(_, o, _)| ChangeRequestOutcome {
                    committed: false,
                    ..o.clone()
                }))
        })
    }

    fn repo_url(&self, repo: &str) -> String {
        format!("tiny-forge://{repo}")
    }

    fn default_branch(&self) -> &str {
        MAIN
    }

    fn auto_merges(&self) -> bool {
        true
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let workspace =
        std::env::temp_dir().join(format!("idp-custom-provider-{}", std::process::id()));
    let forge = TinyForge::default();
    let platform = idp_core::Platform::builder()
        .workspace(&workspace)
        .source_control(Arc::new(forge.clone()))
        .state(Arc::new(idp_core::state::MemoryStateStore::new()))
        .audit(Arc::new(idp_core::audit::MemoryAuditLog::new()?))
        .build()
        .await?;
    let alice = platform.principal("user:default/alice");
    let receipt = platform
        .run_golden_path(
            &alice,
            &ServiceRequest::new("payments-api", "team-payments"),
        )
        .await;
    let _ = std::fs::remove_dir_all(&workspace);
    let receipt = receipt?;
    // The files are in the custom provider's repos.
    let dockerfile = forge
        .read_files("payments-api", None, &["Dockerfile".into()])
        .await?
        .pop()
        .flatten();
    assert!(
        dockerfile.is_some(),
        "the golden path wrote through the custom provider"
    );
    println!("{}", serde_json::to_string_pretty(&receipt.to_json())?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_tiny_forge_keeps_the_source_control_contract() {
        let forge = TinyForge::default();
        idp_core::testing::source_control_contract(|| {
            let f = forge.clone();
            async move { Arc::new(f) as Arc<dyn SourceControl> }
        })
        .await;
    }
}
