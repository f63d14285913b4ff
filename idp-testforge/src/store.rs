//! Repositories: bare git repos on disk plus `forge.json` for what git has no place for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Review {
    pub id: u64,
    pub user: String,
    /// APPROVED, CHANGES_REQUESTED or COMMENTED.
    pub state: String,
    pub body: String,
    pub commit: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pull {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub user: String,
    pub head: String,
    pub base: String,
    /// open or closed
    pub state: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    /// The head commit when the pull request was closed or merged (the branch may move on).
    pub closed_head: Option<String>,
    pub labels: Vec<String>,
    pub reviews: Vec<Review>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub merged_at: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Protection {
    pub required_approving_review_count: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub description: String,
    pub private: bool,
    pub default_branch: String,
    pub created_at: String,
    pub pulls: Vec<Pull>,
    pub protection: BTreeMap<String, Protection>,
}

impl Meta {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

pub struct Store {
    root: PathBuf,
    repos: Mutex<BTreeMap<String, Meta>>,
}

pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Owner and repository names a forge accepts (GitHub's: letters, digits, `-`, `_`, `.`).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && !s.ends_with(".git")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

const HOOK: &str = r#"#!/bin/sh
# Installed by idp-testforge: a protected branch changes only through a merged pull request.
while read old new ref; do
  if [ -f "$GIT_DIR/forge-protected" ] && grep -qxF "$ref" "$GIT_DIR/forge-protected"; then
    echo "error: $ref is a protected branch: changes must be made through a pull request" >&2
    exit 1
  fi
done
"#;

impl Store {
    pub fn open(root: &Path) -> Result<Store, String> {
        let mut repos = BTreeMap::new();
        let owners = std::fs::read_dir(root).map_err(|e| e.to_string())?;
        for owner in owners.flatten() {
            let Ok(entries) = std::fs::read_dir(owner.path()) else {
                continue;
            };
            for repo in entries.flatten() {
                let meta = repo.path().join("forge.json");
                if let Ok(text) = std::fs::read_to_string(&meta) {
                    let m: Meta = serde_json::from_str(&text)
                        .map_err(|e| format!("{}: {e}", meta.display()))?;
                    repos.insert(m.full_name(), m);
                }
            }
        }
        Ok(Store {
            root: root.to_path_buf(),
            repos: Mutex::new(repos),
        })
    }

    pub fn path(&self, full_name: &str) -> PathBuf {
        self.root.join(format!("{full_name}.git"))
    }

    pub fn get(&self, full_name: &str) -> Option<Meta> {
        self.repos.lock().unwrap().get(full_name).cloned()
    }

    pub fn git(&self, full_name: &str) -> Result<Repository, git2::Error> {
        Repository::open_bare(self.path(full_name))
    }

    fn save(&self, m: &Meta) -> Result<(), String> {
        let path = self.path(&m.full_name()).join("forge.json");
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(m).unwrap()).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
        let protected: String = m
            .protection
            .keys()
            .map(|b| format!("refs/heads/{b}\n"))
            .collect();
        std::fs::write(self.path(&m.full_name()).join("forge-protected"), protected)
            .map_err(|e| e.to_string())
    }

    /// Runs `f` on the repo's metadata under the store's lock and saves what it changed.
    /// Everything that moves a ref of a repo with pull requests happens inside, so two merges
    /// cannot interleave.
    pub fn update<T>(
        &self,
        full_name: &str,
        f: impl FnOnce(&mut Meta, &Repository) -> Result<T, crate::github::ApiError>,
    ) -> Result<T, crate::github::ApiError> {
        let mut repos = self.repos.lock().unwrap();
        let meta = repos
            .get_mut(full_name)
            .ok_or_else(crate::github::ApiError::not_found)?;
        let git = self.git(full_name)?;
        let before = serde_json::to_value(&*meta).unwrap();
        let out = f(meta, &git)?;
        if serde_json::to_value(&*meta).unwrap() != before {
            self.save(meta).map_err(crate::github::ApiError::internal)?;
        }
        Ok(out)
    }

    /// Creates a repository; `Err(None)` when it exists.
    pub fn create(
        &self,
        owner: &str,
        name: &str,
        description: &str,
        private: bool,
        default_branch: &str,
        auto_init: bool,
    ) -> Result<Meta, Option<String>> {
        let full = format!("{owner}/{name}");
        let mut repos = self.repos.lock().unwrap();
        if repos.contains_key(&full) {
            return Err(None);
        }
        let path = self.path(&full);
        let mut opts = git2::RepositoryInitOptions::new();
        opts.bare(true)
            .initial_head(&format!("refs/heads/{default_branch}"))
            .mkpath(true);
        let git = Repository::init_opts(&path, &opts).map_err(|e| Some(e.to_string()))?;
        let hook = path.join("hooks/pre-receive");
        std::fs::create_dir_all(path.join("hooks")).map_err(|e| Some(e.to_string()))?;
        std::fs::write(&hook, HOOK).map_err(|e| Some(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Some(e.to_string()))?;
        }
        if auto_init {
            let readme = format!("# {name}\n\n{description}\n");
            let blob = git
                .blob(readme.as_bytes())
                .map_err(|e| Some(e.to_string()))?;
            let mut tb = git.treebuilder(None).map_err(|e| Some(e.to_string()))?;
            tb.insert("README.md", blob, 0o100644)
                .map_err(|e| Some(e.to_string()))?;
            let tree = git
                .find_tree(tb.write().map_err(|e| Some(e.to_string()))?)
                .map_err(|e| Some(e.to_string()))?;
            let sig = git2::Signature::now(owner, &format!("{owner}@forge.invalid"))
                .map_err(|e| Some(e.to_string()))?;
            git.commit(
                Some(&format!("refs/heads/{default_branch}")),
                &sig,
                &sig,
                "Initial commit",
                &tree,
                &[],
            )
            .map_err(|e| Some(e.to_string()))?;
        }
        let id = repos.values().map(|m| m.id).max().unwrap_or(0) + 1;
        let meta = Meta {
            id,
            owner: owner.into(),
            name: name.into(),
            description: description.into(),
            private,
            default_branch: default_branch.into(),
            created_at: now(),
            pulls: Vec::new(),
            protection: BTreeMap::new(),
        };
        self.save(&meta).map_err(Some)?;
        repos.insert(full, meta.clone());
        Ok(meta)
    }

    pub fn list(&self, owner: &str) -> Vec<Meta> {
        self.repos
            .lock()
            .unwrap()
            .values()
            .filter(|m| m.owner == owner)
            .cloned()
            .collect()
    }
}

/// True when no branch has a commit yet. (libgit2's `is_empty` only knows an unborn `master`.)
pub fn is_empty(git: &Repository) -> Result<bool, git2::Error> {
    Ok(git.references_glob("refs/heads/*")?.next().is_none())
}

/// The commit a branch points at.
pub fn branch_head(git: &Repository, branch: &str) -> Option<Oid> {
    git.refname_to_id(&format!("refs/heads/{branch}")).ok()
}

/// How a pull request would merge: `Ok(tree)` clean, `Err(paths)` conflicted.
pub fn trial_merge(
    git: &Repository,
    base: Oid,
    head: Oid,
) -> Result<Result<Oid, Vec<String>>, git2::Error> {
    let b = git.find_commit(base)?;
    let h = git.find_commit(head)?;
    let mut index = git.merge_commits(&b, &h, None)?;
    if index.has_conflicts() {
        let mut paths = Vec::new();
        for c in index.conflicts()? {
            let c = c?;
            if let Some(e) = c.our.or(c.their).or(c.ancestor) {
                paths.push(String::from_utf8_lossy(&e.path).into_owned());
            }
        }
        return Ok(Err(paths));
    }
    Ok(Ok(index.write_tree_to(git)?))
}
