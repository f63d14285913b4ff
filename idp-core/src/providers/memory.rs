//! [`MemorySourceControl`]: repositories in memory, for embedders' tests. It keeps the contract
//! every provider keeps (idempotent keys, held change requests, merges that follow a moved
//! default branch), so a test against it means what a test against a forge means.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::{ChangeRequestOutcome, ChangeRequestSpec, SourceControl};
use crate::error::{Error, Result};
use crate::receipt::ChangeRequestState;

type Tree = Arc<BTreeMap<String, Arc<Vec<u8>>>>;

#[derive(Clone)]
struct Commit {
    tree: Tree,
    /// Index of the parent commit in the repo's history.
    parent: Option<usize>,
}

#[derive(Clone)]
struct ChangeRequest {
    number: u64,
    branch: String,
    commit: usize,
    /// What the change request changes: kept to replay it on a moved default branch.
    files: Vec<(String, Option<Arc<Vec<u8>>>)>,
}

#[derive(Default)]
struct Repo {
    commits: Vec<Commit>,
    branches: HashMap<String, usize>,
    by_key: HashMap<String, ChangeRequest>,
    next_number: u64,
}

impl Repo {
    fn tree(&self, branch: &str) -> Option<&Tree> {
        self.branches.get(branch).map(|c| &self.commits[*c].tree)
    }

    fn descends_from(&self, mut commit: usize, ancestor: usize) -> bool {
        loop {
            if commit == ancestor {
                return true;
            }
            match self.commits[commit].parent {
                Some(p) => commit = p,
                None => return false,
            }
        }
    }

    fn commit_on(
        &mut self,
        base: Option<usize>,
        files: &[(String, Option<Arc<Vec<u8>>>)],
    ) -> usize {
        let mut tree: BTreeMap<String, Arc<Vec<u8>>> = base
            .map(|b| self.commits[b].tree.as_ref().clone())
            .unwrap_or_default();
        for (path, content) in files {
            match content {
                Some(c) => tree.insert(path.clone(), c.clone()),
                None => tree.remove(path),
            };
        }
        self.commits.push(Commit {
            tree: Arc::new(tree),
            parent: base,
        });
        self.commits.len() - 1
    }
}

/// Repositories held in memory; cheap to clone (clones share the repositories, as two handles on
/// one forge do). Change requests merge at once unless `auto_merge` is off or they are held.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use idp_core::providers::{MemorySourceControl, SourceControl};
/// let scm = MemorySourceControl::new("main", true);
/// scm.create_repo("payments-api", "a service").await?;
/// assert!(scm.repo_exists("payments-api").await?);
/// # Ok::<(), idp_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemorySourceControl {
    repos: Arc<Mutex<HashMap<String, Repo>>>,
    default_branch: String,
    auto_merge: bool,
}

impl MemorySourceControl {
    pub fn new(default_branch: &str, auto_merge: bool) -> MemorySourceControl {
        MemorySourceControl {
            repos: Default::default(),
            default_branch: default_branch.to_string(),
            auto_merge,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Repo>) -> Result<T>) -> Result<T> {
        let mut repos = self.repos.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut repos)
    }

    fn outcome(&self, repo_name: &str, repo: &Repo, cr: &ChangeRequest) -> ChangeRequestOutcome {
        let merged = repo
            .branches
            .get(&self.default_branch)
            .is_some_and(|head| repo.descends_from(*head, cr.commit));
        ChangeRequestOutcome {
            id: format!("{repo_name}#{}", cr.number),
            branch: cr.branch.clone(),
            commit: commit_id(repo_name, cr.commit),
            url: format!("{}/pull/{}", self.repo_url(repo_name), cr.number),
            state: if merged {
                ChangeRequestState::Merged
            } else {
                ChangeRequestState::Open
            },
            committed: false,
        }
    }

    /// Merges change request `cr` into the default branch, replaying it on the head when the
    /// head is not its ancestor.
    fn merge(&self, repo: &mut Repo, cr: &mut ChangeRequest) {
        let head = repo.branches.get(&self.default_branch).copied();
        let on_head = match head {
            Some(h) => repo.descends_from(cr.commit, h),
            None => true,
        };
        if !on_head {
            cr.commit = repo.commit_on(head, &cr.files);
            repo.branches.insert(cr.branch.clone(), cr.commit);
        }
        repo.branches.insert(self.default_branch.clone(), cr.commit);
    }
}

/// A stable, commit-shaped id for commit `n` of `repo`.
fn commit_id(repo: &str, n: usize) -> String {
    crate::digest::sha256_hex(format!("{repo}\0{n}").as_bytes())[..40].to_string()
}

fn missing(repo: &str) -> Error {
    Error::not_found(format!("repository {repo} does not exist"))
}

#[async_trait::async_trait]
impl SourceControl for MemorySourceControl {
    fn kind(&self) -> &'static str {
        "memory"
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
        let branch = branch.unwrap_or(&self.default_branch);
        self.with(|r| {
            let tree = r.get(repo).and_then(|repo| repo.tree(branch));
            Ok(paths
                .iter()
                .map(|p| tree.and_then(|t| t.get(p)).map(|c| c.as_ref().clone()))
                .collect())
        })
    }

    async fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> Result<Vec<String>> {
        let branch = branch.unwrap_or(&self.default_branch);
        self.with(|r| {
            Ok(r.get(repo)
                .and_then(|repo| repo.tree(branch))
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
        self.with(|r| {
            Ok(r.get(repo)
                .is_some_and(|repo| repo.branches.contains_key(branch)))
        })
    }

    async fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome> {
        self.with(|repos| {
            let repo = repos
                .get_mut(&spec.repo)
                .ok_or_else(|| missing(&spec.repo))?;
            if let Some(mut cr) = repo.by_key.get(&spec.key).cloned() {
                if self.auto_merge && !spec.hold {
                    self.merge(repo, &mut cr);
                    repo.by_key.insert(spec.key.clone(), cr.clone());
                }
                return Ok(self.outcome(&spec.repo, repo, &cr));
            }
            let stacked = !self.auto_merge && repo.branches.contains_key(&spec.branch);
            let base_branch = if stacked {
                spec.branch.as_str()
            } else {
                self.default_branch.as_str()
            };
            let base = repo.branches.get(base_branch).copied();
            let unchanged = base.is_some_and(|b| {
                let tree = &repo.commits[b].tree;
                spec.files.iter().all(|(p, c)| {
                    tree.get(p).map(|x| x.as_slice()) == c.as_deref().map(Vec::as_slice)
                })
            });
            if unchanged {
                // Already has exactly this content: nothing to commit.
                let b = base.expect("checked");
                return Ok(ChangeRequestOutcome {
                    id: String::new(),
                    branch: spec.branch.clone(),
                    commit: commit_id(&spec.repo, b),
                    url: self.repo_url(&spec.repo),
                    state: ChangeRequestState::Merged,
                    committed: false,
                });
            }
            let commit = repo.commit_on(base, &spec.files);
            repo.next_number += 1;
            let mut cr = ChangeRequest {
                number: repo.next_number,
                branch: spec.branch.clone(),
                commit,
                files: spec.files.clone(),
            };
            repo.branches.insert(spec.branch.clone(), commit);
            if self.auto_merge && !spec.hold {
                self.merge(repo, &mut cr);
            }
            repo.by_key.insert(spec.key.clone(), cr.clone());
            let mut out = self.outcome(&spec.repo, repo, &cr);
            out.committed = true;
            Ok(out)
        })
    }

    async fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        self.with(|r| {
            Ok(r.get(repo)
                .and_then(|rp| rp.by_key.get(key).map(|cr| self.outcome(repo, rp, cr))))
        })
    }

    fn repo_url(&self, repo: &str) -> String {
        format!("memory://{repo}")
    }

    fn default_branch(&self) -> &str {
        &self.default_branch
    }

    fn auto_merges(&self) -> bool {
        self.auto_merge
    }
}
