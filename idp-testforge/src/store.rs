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
    /// Labels defined in the repository, with ids and colours (pull requests keep label names,
    /// which map to these). Absent from an older `forge.json`.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Who merged each pull request, by number, when the API that merged it knows.
    #[serde(default)]
    pub merged_by: BTreeMap<u64, String>,
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

/// 64-bit FNV-1a of `s`: a hash that is stable across runs, unlike std's hasher (for ids made
/// from names).
pub fn fnv1a64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
        self.update_with(full_name, crate::github::ApiError::not_found, f)
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
            labels: Vec::new(),
            merged_by: BTreeMap::new(),
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
        return Ok(Err(conflict_paths(&index)?));
    }
    Ok(Ok(index.write_tree_to(git)?))
}

/// The paths a conflicted merge or cherry-pick `index` conflicts in.
fn conflict_paths(index: &git2::Index) -> Result<Vec<String>, git2::Error> {
    let mut paths = Vec::new();
    for c in index.conflicts()? {
        let c = c?;
        if let Some(e) = c.our.or(c.their).or(c.ancestor) {
            paths.push(String::from_utf8_lossy(&e.path).into_owned());
        }
    }
    Ok(paths)
}

// What every API shape shares about repositories and pull requests, so a pull request opened,
// approved or merged through one shape reads the same through the others.

impl Store {
    /// Whether the repository `full_name` has no commit yet (or cannot be read).
    pub fn is_empty_repo(&self, full_name: &str) -> bool {
        self.git(full_name)
            .ok()
            .and_then(|g| is_empty(&g).ok())
            .unwrap_or(true)
    }

    /// Every repository, by full name.
    pub fn all(&self) -> Vec<Meta> {
        self.repos.lock().unwrap().values().cloned().collect()
    }

    /// [`Store::update`] for an API shape with an error type of its own: `missing()` when there
    /// is no such repository; a metadata file that cannot be saved is a [`git2::Error`].
    pub fn update_with<T, E: From<git2::Error>>(
        &self,
        full_name: &str,
        missing: impl FnOnce() -> E,
        f: impl FnOnce(&mut Meta, &Repository) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut repos = self.repos.lock().unwrap();
        let Some(meta) = repos.get_mut(full_name) else {
            return Err(missing());
        };
        let git = self.git(full_name)?;
        let before = serde_json::to_value(&*meta).unwrap();
        let out = f(meta, &git)?;
        if serde_json::to_value(&*meta).unwrap() != before {
            self.save(meta).map_err(|e| git2::Error::from_str(&e))?;
        }
        Ok(out)
    }
}

impl Meta {
    /// Where pull request `number` is in [`Meta::pulls`].
    pub fn pull_index(&self, number: u64) -> Option<usize> {
        self.pulls.iter().position(|p| p.number == number)
    }

    /// The open pull request from `head` into `base`, if there is one.
    pub fn open_pull_for(&self, head: &str, base: &str) -> Option<&Pull> {
        self.pulls
            .iter()
            .find(|p| p.state == "open" && p.head == head && p.base == base)
    }

    /// Opens a pull request from `head` into `base`, numbered after the last one (ids are
    /// `repo id * 100000 + number`, as every shape numbers them), and returns it.
    pub fn open_pull(
        &mut self,
        user: &str,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Pull {
        let number = self.pulls.iter().map(|p| p.number).max().unwrap_or(0) + 1;
        let t = now();
        let p = Pull {
            id: self.id * 100_000 + number,
            number,
            title: title.into(),
            body: body.into(),
            user: user.into(),
            head: head.into(),
            base: base.into(),
            state: "open".into(),
            merged: false,
            merge_commit_sha: None,
            closed_head: None,
            labels: Vec::new(),
            reviews: Vec::new(),
            created_at: t.clone(),
            updated_at: t,
            closed_at: None,
            merged_at: None,
        };
        self.pulls.push(p.clone());
        p
    }

    /// Approving reviews `p` still needs before it may merge into its base: the base's
    /// protection's required count minus [`Pull::approvers`] of the head `head`.
    pub fn approvals_left(&self, p: &Pull, head: &str) -> u32 {
        let required = self
            .protection
            .get(&p.base)
            .map_or(0, |prot| prot.required_approving_review_count);
        required.saturating_sub(p.approvers(head).len() as u32)
    }
}

impl Pull {
    /// The head commit: the one it was closed or merged at, else the head branch's.
    pub fn head_sha(&self, git: &Repository) -> Option<String> {
        self.closed_head
            .clone()
            .or_else(|| branch_head(git, &self.head).map(|o| o.to_string()))
    }

    /// The users whose latest review of commit `head` approves (reviews of an older head do not
    /// count, as with GitHub's "dismiss stale reviews" and GitLab's "remove approvals when
    /// commits are added").
    pub fn approvers(&self, head: &str) -> Vec<String> {
        let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
        for r in self.reviews.iter().filter(|r| r.commit == head) {
            latest.insert(&r.user, &r.state);
        }
        latest
            .into_iter()
            .filter(|(_, s)| *s == "APPROVED")
            .map(|(u, _)| u.to_string())
            .collect()
    }

    /// Adds `user`'s review (`state` as GitHub names it) of commit `commit`, numbered after
    /// the pull request's last one, and returns it.
    pub fn add_review(&mut self, user: &str, state: &str, body: &str, commit: String) -> Review {
        let review = Review {
            id: self.id * 1000 + self.reviews.len() as u64 + 1,
            user: user.into(),
            state: state.into(),
            body: body.into(),
            commit,
        };
        self.reviews.push(review.clone());
        review
    }

    /// Closes it without merging, remembering the head it had.
    pub fn close(&mut self, head: Option<String>) {
        let t = now();
        self.state = "closed".into();
        self.closed_at = Some(t.clone());
        self.closed_head = head;
        self.updated_at = t;
    }

    /// Opens it again (a merged pull request stays merged).
    pub fn reopen(&mut self) {
        if self.merged {
            return;
        }
        self.state = "open".into();
        self.closed_at = None;
        self.closed_head = None;
        self.updated_at = now();
    }

    /// Records that `merge_commit` merged it, at head `head`.
    pub fn record_merge(&mut self, merge_commit: Oid, head: Oid) {
        let t = now();
        self.state = "closed".into();
        self.merged = true;
        self.merge_commit_sha = Some(merge_commit.to_string());
        self.closed_head = Some(head.to_string());
        self.merged_at = Some(t.clone());
        self.closed_at = Some(t.clone());
        self.updated_at = t;
    }
}

/// A label defined in a repository.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Label {
    pub id: u64,
    pub name: String,
    /// `#rrggbb`, lower case.
    pub color: String,
    #[serde(default)]
    pub description: String,
}

/// One entry of a tree listing.
#[derive(Clone, Debug)]
pub struct TreeItem {
    /// From the listed tree's root.
    pub path: String,
    pub mode: i32,
    /// `blob`, `tree` or `commit` (a submodule).
    pub kind: &'static str,
    pub id: Oid,
    /// A blob's size; 0 for the rest.
    pub size: usize,
}

/// The entries of `tree` in git's order (`git ls-tree -t`: a folder, then what it holds);
/// `recursive` walks into folders.
pub fn tree_items(
    git: &Repository,
    tree: Oid,
    recursive: bool,
) -> Result<Vec<TreeItem>, git2::Error> {
    let t = git.find_tree(tree)?;
    let mut items = Vec::new();
    let mut err = None;
    t.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        let kind = match e.kind() {
            Some(git2::ObjectType::Tree) => "tree",
            Some(git2::ObjectType::Commit) => "commit",
            _ => "blob",
        };
        let size = if kind == "blob" {
            match git.find_blob(e.id()) {
                Ok(b) => b.size(),
                Err(x) => {
                    err = Some(x);
                    return git2::TreeWalkResult::Abort;
                }
            }
        } else {
            0
        };
        items.push(TreeItem {
            path: format!("{dir}{}", e.name().unwrap_or("")),
            mode: e.filemode(),
            kind,
            id: e.id(),
            size,
        });
        if recursive {
            git2::TreeWalkResult::Ok
        } else {
            git2::TreeWalkResult::Skip
        }
    })
    .or_else(|e| if err.is_some() { Ok(()) } else { Err(e) })?;
    match err {
        Some(e) => Err(e),
        None => Ok(items),
    }
}

/// How a pull request lands on its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeStyle {
    /// A merge commit whose parents are the base and the head.
    Merge,
    /// One commit on the base with the pull request's changes.
    Squash,
    /// The head's commits replayed on the base (none when the head already contains the base).
    Rebase,
    /// [`MergeStyle::Rebase`], then a merge commit of the replayed commits.
    RebaseMerge,
    /// The base moves to the head, which must contain it.
    FastForwardOnly,
}

/// Why a merge could not be made.
#[derive(Debug, PartialEq, Eq)]
pub enum MergeRefused {
    /// Merging conflicts in these paths.
    Conflict(Vec<String>),
    /// Replaying this commit on the base conflicts in these paths.
    RebaseConflict(Oid, Vec<String>),
    /// The base has commits the head lacks.
    NotFastForward,
}

/// Makes the commits merging `head` into `base` in `style` takes and returns the commit the base
/// should then point at. No ref moves: the caller moves the base. A merge or squash commit has
/// `author`, `committer` and `message`; replayed commits keep their author and message.
pub fn merge(
    git: &Repository,
    base: Oid,
    head: Oid,
    style: MergeStyle,
    author: &git2::Signature,
    committer: &git2::Signature,
    message: &str,
) -> Result<Result<Oid, MergeRefused>, git2::Error> {
    let base_c = git.find_commit(base)?;
    let contains_base = head == base || git.graph_descendant_of(head, base)?;
    match style {
        MergeStyle::Merge | MergeStyle::Squash => {
            let tree = match trial_merge(git, base, head)? {
                Ok(t) => git.find_tree(t)?,
                Err(paths) => return Ok(Err(MergeRefused::Conflict(paths))),
            };
            let head_c = git.find_commit(head)?;
            let parents: Vec<&git2::Commit> = if style == MergeStyle::Merge {
                vec![&base_c, &head_c]
            } else {
                vec![&base_c]
            };
            Ok(Ok(git.commit(
                None, author, committer, message, &tree, &parents,
            )?))
        }
        MergeStyle::FastForwardOnly if contains_base => Ok(Ok(head)),
        MergeStyle::FastForwardOnly => Ok(Err(MergeRefused::NotFastForward)),
        MergeStyle::Rebase | MergeStyle::RebaseMerge => {
            let tip = if contains_base {
                head
            } else {
                match replay(git, base, head, committer)? {
                    Ok(t) => t,
                    Err(e) => return Ok(Err(e)),
                }
            };
            if style == MergeStyle::Rebase {
                return Ok(Ok(tip));
            }
            let tip_c = git.find_commit(tip)?;
            Ok(Ok(git.commit(
                None,
                author,
                committer,
                message,
                &tip_c.tree()?,
                &[&base_c, &tip_c],
            )?))
        }
    }
}

/// `git rebase`: the commits of `head` that `base` lacks, oldest first, replayed on `base` (merge
/// commits dropped, commits left empty skipped); returns the new tip.
fn replay(
    git: &Repository,
    base: Oid,
    head: Oid,
    committer: &git2::Signature,
) -> Result<Result<Oid, MergeRefused>, git2::Error> {
    let mut walk = git.revwalk()?;
    walk.push(head)?;
    walk.hide(base)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let mut onto = git.find_commit(base)?;
    for oid in walk {
        let c = git.find_commit(oid?)?;
        if c.parent_count() > 1 {
            continue;
        }
        let mut index = git.cherrypick_commit(&c, &onto, 0, None)?;
        if index.has_conflicts() {
            return Ok(Err(MergeRefused::RebaseConflict(
                c.id(),
                conflict_paths(&index)?,
            )));
        }
        let tree = git.find_tree(index.write_tree_to(git)?)?;
        if tree.id() == onto.tree_id() {
            continue;
        }
        let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
        let new = git.commit(None, &c.author(), committer, &message, &tree, &[&onto])?;
        onto = git.find_commit(new)?;
    }
    Ok(Ok(onto.id()))
}
