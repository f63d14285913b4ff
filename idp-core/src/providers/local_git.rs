//! The embedded [`SourceControl`]: bare git repositories on disk. Commits are real git objects
//! on real branches (`git log` shows them); a change request is a branch plus a ref
//! `refs/change-requests/<n>` (like Gerrit keeps changes), and its key is a commit trailer, so
//! the record lives in the repo itself and survives a lost state database.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ErrorCode, ObjectType, Oid, Repository, RepositoryInitOptions};

use super::git_objects::ObjectWriter;
use super::{ChangeRequestOutcome, ChangeRequestSpec, SourceControl, trailers};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::receipt::ChangeRequestState;
use crate::runtime::unblock;

const ID_TRAILER: &str = "Idp-Change-Request";

/// Bare git repositories under one folder: the blocking implementation behind [`LocalGit`].
struct Inner {
    root: PathBuf,
    default_branch: String,
    auto_merge: bool,
    /// Open repository handles, reused across calls (opening a repo reads its config and
    /// probes paths; a golden path or an upgrade reads each repo several times).
    pool: std::sync::Mutex<std::collections::HashMap<String, Vec<Repository>>>,
}

/// A pooled repository handle; goes back to the pool when dropped.
struct Handle<'a> {
    git: &'a Inner,
    name: String,
    repo: Option<Repository>,
}

impl std::ops::Deref for Handle<'_> {
    type Target = Repository;
    fn deref(&self) -> &Repository {
        self.repo.as_ref().expect("present until drop")
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        if let (Some(r), Ok(mut pool)) = (self.repo.take(), self.git.pool.lock()) {
            let v = pool.entry(std::mem::take(&mut self.name)).or_default();
            if v.len() < 4 {
                v.push(r);
            }
        }
    }
}

impl Inner {
    /// Repositories live at `root/<name>.git`.
    fn new(root: PathBuf, default_branch: &str, auto_merge: bool) -> Result<Inner> {
        if git2::Branch::name_is_valid(default_branch).ok() != Some(true) {
            return Err(
                Error::invalid(format!("`{default_branch}` is not a valid branch name"))
                    .with("field", "providers.source_control.default_branch"),
            );
        }
        // libgit2 options, process-wide (an embedding app's own git2 use sees them too):
        // - as git itself does, objects are not re-hashed on every read (a GitOps repo's tree of
        //   a thousand services is read and hashed again on every commit otherwise: 15% of a
        //   fleet upgrade went to SHA-1), and a new tree's entries are not looked up one by one
        //   (idp writes every blob it references just before); `git fsck` still verifies;
        // - large trees are cached: libgit2 caches no tree over 4 KiB by default, so every path
        //   looked up in a GitOps repo with many services inflated and parsed its `apps/` and
        //   `argocd/applications/` trees again (29% of a fleet upgrade in libz).
        static GIT_OPTIONS: std::sync::Once = std::sync::Once::new();
        GIT_OPTIONS.call_once(|| {
            git2::opts::strict_hash_verification(false);
            git2::opts::strict_object_creation(false);
            // SAFETY: process-wide libgit2 options, set before this provider opens any repo.
            // The total stays bounded (64 MiB, a quarter of libgit2's default): old versions
            // of the big trees are what fills it.
            let _ = unsafe { git2::opts::set_cache_object_limit(ObjectType::Tree, 1 << 20) };
            let _ = unsafe { git2::opts::set_cache_max_size(64 << 20) };
        });
        Ok(Inner {
            pool: Default::default(),
            root,
            default_branch: default_branch.to_string(),
            auto_merge,
        })
    }

    /// The folder of `repo`.
    pub fn repo_path(&self, repo: &str) -> PathBuf {
        self.root.join(format!("{repo}.git"))
    }

    fn open(&self, repo: &str) -> Result<Option<Handle<'_>>> {
        check_repo_name(repo)?;
        if let Some(r) = self
            .pool
            .lock()
            .ok()
            .and_then(|mut p| p.get_mut(repo).and_then(Vec::pop))
        {
            return Ok(Some(Handle {
                git: self,
                name: repo.to_string(),
                repo: Some(r),
            }));
        }
        let p = self.repo_path(repo);
        if !p.join("HEAD").exists() {
            return Ok(None);
        }
        let r = Repository::open_bare(&p).map_err(|e| {
            Error::provider(format!("cannot open repository {}", p.display())).with_source(e)
        })?;
        Ok(Some(Handle {
            git: self,
            name: repo.to_string(),
            repo: Some(r),
        }))
    }

    fn lock(&self, repo: &str) -> Result<File> {
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.repo_path(repo).join("idp.lock"))?;
        f.lock()?;
        Ok(f)
    }

    fn branch_ref(branch: &str) -> String {
        format!("refs/heads/{branch}")
    }

    fn head_commit<'r>(repo: &'r Repository, branch: &str) -> Result<Option<git2::Commit<'r>>> {
        match repo.find_reference(&Self::branch_ref(branch)) {
            Ok(r) => Ok(Some(r.peel_to_commit()?)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn outcome(
        &self,
        repo_name: &str,
        repo: &Repository,
        commit: Oid,
        branch: &str,
    ) -> Result<ChangeRequestOutcome> {
        let c = repo.find_commit(commit)?;
        let t = trailers(c.message().unwrap_or(""));
        let id = t
            .iter()
            .find(|(k, _)| k == ID_TRAILER)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let merged = match Self::head_commit(repo, &self.default_branch)? {
            Some(head) => head.id() == commit || repo.graph_descendant_of(head.id(), commit)?,
            None => false,
        };
        let n = id.rsplit('#').next().unwrap_or("");
        Ok(ChangeRequestOutcome {
            url: format!("{}#change-request-{n}", self.repo_url(repo_name)),
            id,
            branch: branch.to_string(),
            commit: commit.to_string(),
            state: if merged {
                ChangeRequestState::Merged
            } else {
                ChangeRequestState::Open
            },
            committed: false,
        })
    }

    fn key_ref(key: &str) -> String {
        format!("refs/idp/keys/{}", &sha256_hex(key.as_bytes())[..32])
    }

    fn find_by_key(
        &self,
        repo_name: &str,
        repo: &Repository,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        let r = match repo.find_reference(&Self::key_ref(key)) {
            Ok(r) => r,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let commit = r.peel_to_commit()?;
        let t = trailers(commit.message().unwrap_or(""));
        let branch = t
            .iter()
            .find(|(k, _)| k == "Idp-Branch")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        self.outcome(repo_name, repo, commit.id(), &branch)
            .map(Some)
    }

    /// The next change request number. Kept in a counter file next to the repo (read and
    /// bumped under the repo lock) so that numbering does not scan every ref on each commit; the
    /// refs are the fallback when the counter is missing or behind.
    fn next_number(&self, repo_name: &str, repo: &Repository) -> Result<u64> {
        let counter = self.repo_path(repo_name).join("idp-change-requests");
        let mut max = std::fs::read_to_string(&counter)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        let taken = |n: u64| {
            repo.find_reference(&format!("refs/change-requests/{n}"))
                .is_ok()
        };
        if max.is_none_or(|m| taken(m + 1)) {
            let mut m = 0u64;
            for name in repo.references_glob("refs/change-requests/*")?.names() {
                if let Some(n) = name?.rsplit('/').next().and_then(|n| n.parse::<u64>().ok()) {
                    m = m.max(n);
                }
            }
            max = Some(m);
        }
        let next = max.unwrap_or(0) + 1;
        std::fs::write(&counter, next.to_string())?;
        Ok(next)
    }

    /// `commit` of change request `found` when it descends from the default branch's head;
    /// otherwise the same change (its diff against its parent) as a new commit on that head,
    /// with the same message, which the change request's refs and key then point to.
    fn rebase_onto_default(
        &self,
        repo: &Repository,
        key: &str,
        found: &ChangeRequestOutcome,
        commit: Oid,
    ) -> Result<Oid> {
        let Some(head) = Self::head_commit(repo, &self.default_branch)? else {
            return Ok(commit);
        };
        if head.id() == commit || repo.graph_descendant_of(commit, head.id())? {
            return Ok(commit);
        }
        let old = repo.find_commit(commit)?;
        let parent_tree = match old.parent(0) {
            Ok(p) => Some(p.tree()?),
            Err(_) => None,
        };
        let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&old.tree()?), None)?;
        let mut changes: BTreeMap<String, Option<Oid>> = BTreeMap::new();
        for d in diff.deltas() {
            let path = d
                .new_file()
                .path()
                .or_else(|| d.old_file().path())
                .and_then(|p| p.to_str())
                .ok_or_else(|| Error::internal("a change request path is not UTF-8"))?;
            let blob = (d.status() != git2::Delta::Deleted).then(|| d.new_file().id());
            changes.insert(path.to_string(), blob);
        }
        let changes: BTreeMap<&str, Option<Oid>> =
            changes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let mut objects = ObjectWriter::new(repo);
        let tree_id = match objects.tree(repo, Some(head.tree_id()), &changes)? {
            Some(t) => t,
            None => objects.empty_tree()?,
        };
        let rebased = objects.commit(
            tree_id,
            &[head.id()],
            &old.author(),
            &git2::Signature::now(
                old.committer().name().unwrap_or("idp"),
                old.committer().email().unwrap_or("idp@localhost"),
            )?,
            old.message().unwrap_or(""),
        )?;
        objects.finish()?;
        let log = format!("idp: rebase {}", found.id);
        repo.reference(&Self::key_ref(key), rebased, true, &log)?;
        if let Some(n) = found.id.rsplit('#').next() {
            repo.reference(&format!("refs/change-requests/{n}"), rebased, true, &log)?;
        }
        repo.reference(&Self::branch_ref(&found.branch), rebased, true, &log)?;
        Ok(rebased)
    }

    /// Fast-forwards the default branch to `commit` (which descends from it).
    fn merge(&self, repo: &Repository, commit: Oid, msg: &str) -> Result<()> {
        let main = Self::branch_ref(&self.default_branch);
        match Self::head_commit(repo, &self.default_branch)? {
            Some(head) if head.id() == commit => Ok(()),
            Some(head) => {
                // A commit made on the head (the usual case) descends from it without a walk of
                // the history.
                let on_head = repo.find_commit(commit)?.parent_id(0).ok() == Some(head.id());
                if !on_head && !repo.graph_descendant_of(commit, head.id())? {
                    return Err(Error::conflict(format!(
                        "cannot merge {commit}: {} moved to {} in the meantime; rerun to rebase",
                        self.default_branch,
                        head.id()
                    )));
                }
                repo.reference_matching(&main, commit, true, head.id(), msg)?;
                Ok(())
            }
            None => {
                repo.reference(&main, commit, false, msg)?;
                Ok(())
            }
        }
    }
}

/// Repo names become folder names: allow only a safe charset.
fn check_repo_name(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= 100
        && repo
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !repo.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "repository name {} is not allowed",
            crate::naming::shown(repo)
        )))
    }
}

impl Inner {
    pub(super) fn repo_exists(&self, repo: &str) -> Result<bool> {
        check_repo_name(repo)?;
        Ok(self.repo_path(repo).join("HEAD").exists())
    }

    pub(super) fn create_repo(&self, repo: &str, description: &str) -> Result<()> {
        check_repo_name(repo)?;
        let p = self.repo_path(repo);
        if p.join("HEAD").exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.root)?;
        remove_stale_creations(&self.root, repo);
        // Built aside and renamed into place, so that a repository appears whole or not at all:
        // two first runs creating the shared GitOps repo at once (threads or processes) must not
        // both initialize it in place, where the loser fails on git's `config.lock`.
        static ATTEMPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self
            .root
            .join(format!(".{repo}.creating-{}-{n}", std::process::id()));
        let built = (|| -> Result<()> {
            let mut opts = RepositoryInitOptions::new();
            // No copy of git's template folder: its dozen sample hooks and info/exclude are
            // files a bare repo written by a program never uses, and were a fifth of the files
            // a first golden path created.
            opts.bare(true)
                .external_template(false)
                .initial_head(&self.default_branch)
                .description(description);
            let r = Repository::init_opts(&tmp, &opts).map_err(|e| {
                Error::provider(format!("cannot create repository {}", p.display())).with_source(e)
            })?;
            // Objects are written once per change and read rarely: fast compression is the
            // better trade.
            r.config()?.set_i32("core.looseCompression", 1)?;
            Ok(())
        })();
        let placed = built.and_then(|()| match std::fs::rename(&tmp, &p) {
            Ok(()) => Ok(()),
            // Another creator won the race: its repository is as good as ours.
            Err(_) if p.join("HEAD").exists() => Ok(()),
            Err(e) => Err(
                Error::provider(format!("cannot create repository {}", p.display())).with_source(e),
            ),
        });
        if tmp.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        placed
    }

    pub(super) fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let Some(r) = self.open(repo)? else {
            return Ok(vec![None; paths.len()]);
        };
        let Some(commit) = Self::head_commit(&r, branch.unwrap_or(&self.default_branch))? else {
            return Ok(vec![None; paths.len()]);
        };
        let tree = commit.tree()?;
        paths
            .iter()
            .map(|p| match tree.get_path(Path::new(p)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                    Ok(Some(r.find_blob(entry.id())?.content().to_vec()))
                }
                Ok(_) => Ok(None),
                Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            })
            .collect()
    }

    pub(super) fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> Result<Vec<String>> {
        let Some(r) = self.open(repo)? else {
            return Ok(Vec::new());
        };
        let Some(commit) = Self::head_commit(&r, branch.unwrap_or(&self.default_branch))? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        commit
            .tree()?
            .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() == Some(ObjectType::Blob) {
                    let p = format!("{dir}{}", entry.name().unwrap_or(""));
                    if p.starts_with(prefix) {
                        out.push(p);
                    }
                }
                git2::TreeWalkResult::Ok
            })?;
        Ok(out)
    }

    pub(super) fn branch_exists(&self, repo: &str, branch: &str) -> Result<bool> {
        let Some(r) = self.open(repo)? else {
            return Ok(false);
        };
        Ok(Self::head_commit(&r, branch)?.is_some())
    }

    pub(super) fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome> {
        let repo = self
            .open(&spec.repo)?
            .ok_or_else(|| Error::not_found(format!("repository {} does not exist", spec.repo)))?;
        if git2::Branch::name_is_valid(&spec.branch).ok() != Some(true) {
            return Err(Error::invalid(format!(
                "`{}` is not a valid branch name",
                spec.branch
            )));
        }
        let _lock = self.lock(&spec.repo)?;
        crate::failpoint::hit("scm:locked");

        // Submitted before (a resumed run)? Finish what is left (refs, merge) and return it.
        if let Some(found) = self.find_by_key(&spec.repo, &repo, &spec.key)? {
            let oid = Oid::from_str(&found.commit)?;
            let log = format!("idp: {}", found.id);
            if let Some(n) = found.id.rsplit('#').next() {
                repo.reference(&format!("refs/change-requests/{n}"), oid, true, &log)?;
            }
            repo.reference(&Self::branch_ref(&found.branch), oid, true, &log)?;
            if self.auto_merge && !spec.hold && found.state != ChangeRequestState::Merged {
                // Held until now (an upgrade waiting for conflicts elsewhere): the default branch
                // may have moved since (a shared repo), so the change is replayed on its head.
                let oid = self.rebase_onto_default(&repo, &spec.key, &found, oid)?;
                self.merge(&repo, oid, &format!("idp: merge {}", found.id))?;
                return self.outcome(&spec.repo, &repo, oid, &found.branch);
            }
            return Ok(found);
        }

        let base = if !self.auto_merge && Self::head_commit(&repo, &spec.branch)?.is_some() {
            Self::head_commit(&repo, &spec.branch)?
        } else {
            Self::head_commit(&repo, &self.default_branch)?
        };
        let base_tree = base.as_ref().map(|c| c.tree_id());
        let mut objects = ObjectWriter::new(&repo);
        let mut changes: BTreeMap<&str, Option<Oid>> = BTreeMap::new();
        for (path, content) in &spec.files {
            let oid = content
                .as_ref()
                .map(|c| objects.write(ObjectType::Blob, c))
                .transpose()?;
            changes.insert(path.as_str(), oid);
        }
        let tree_id = match objects.tree(&repo, base_tree, &changes)? {
            Some(t) => t,
            None => objects.empty_tree()?,
        };
        if let (Some(b), Some(bt)) = (&base, &base_tree)
            && *bt == tree_id
        {
            // Already has exactly this content: nothing to commit.
            let mut o = self.outcome(&spec.repo, &repo, b.id(), &spec.branch)?;
            o.id.clear();
            return Ok(o);
        }

        let n = self.next_number(&spec.repo, &repo)?;
        let id = format!("{}#{n}", spec.repo);
        let msg = spec.commit_message(&[(ID_TRAILER, &id)]);
        let author = git2::Signature::now(&spec.author.name, &spec.author.email)?;
        let committer = git2::Signature::now(&spec.committer.name, &spec.committer.email)?;
        let parents: Vec<Oid> = base.iter().map(|c| c.id()).collect();
        let commit = objects.commit(tree_id, &parents, &author, &committer, &msg)?;
        objects.finish()?;
        crate::failpoint::hit("scm:committed");
        // The key ref first: once it exists, a resumed submit finds this commit instead of
        // making another one.
        let log = format!("idp: {id}");
        repo.reference(&Self::key_ref(&spec.key), commit, false, &log)?;
        repo.reference(&format!("refs/change-requests/{n}"), commit, false, &log)?;
        repo.reference(&Self::branch_ref(&spec.branch), commit, true, &log)?;
        crate::failpoint::hit("scm:recorded");
        if self.auto_merge && !spec.hold {
            self.merge(&repo, commit, &format!("idp: merge {id}"))?;
        }
        let mut o = self.outcome(&spec.repo, &repo, commit, &spec.branch)?;
        o.committed = true;
        Ok(o)
    }

    pub(super) fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        match self.open(repo)? {
            Some(r) => self.find_by_key(repo, &r, key),
            None => Ok(None),
        }
    }

    pub(super) fn repo_url(&self, repo: &str) -> String {
        let p = self.repo_path(repo);
        let abs = std::path::absolute(&p).unwrap_or(p);
        format!("file://{}", abs.display())
    }
}

/// The embedded [`SourceControl`]: bare git repositories on disk, worked on off the async threads.
#[derive(Clone)]
pub struct LocalGit {
    inner: Arc<Inner>,
}

/// Removes the half-built `.<repo>.creating-<pid>-<n>` folders that processes killed while
/// creating `repo` left behind: those of processes that are gone (or, where there is no
/// `/proc` to tell, older than an hour).
fn remove_stale_creations(root: &Path, repo: &str) {
    let prefix = format!(".{repo}.creating-");
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        let proc = Path::new("/proc");
        let gone = if proc.is_dir() {
            pid != std::process::id().to_string() && !proc.join(pid).exists()
        } else {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600))
        };
        if gone {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl LocalGit {
    /// Repositories live at `root/<name>.git`.
    pub fn new(root: PathBuf, default_branch: &str, auto_merge: bool) -> Result<LocalGit> {
        Ok(LocalGit {
            inner: Arc::new(Inner::new(root, default_branch, auto_merge)?),
        })
    }

    /// The folder of `repo`.
    pub fn repo_path(&self, repo: &str) -> PathBuf {
        self.inner.repo_path(repo)
    }
}

#[async_trait::async_trait]
impl SourceControl for LocalGit {
    fn kind(&self) -> &'static str {
        "local-git"
    }

    async fn repo_exists(&self, repo: &str) -> Result<bool> {
        // A stat: cheaper inline than a trip to the blocking pool.
        self.inner.repo_exists(repo)
    }

    async fn create_repo(&self, repo: &str, description: &str) -> Result<()> {
        let (g, repo, description) = (
            self.inner.clone(),
            repo.to_string(),
            description.to_string(),
        );
        unblock(move || g.create_repo(&repo, &description)).await
    }

    async fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let (g, repo, branch, paths) = (
            self.inner.clone(),
            repo.to_string(),
            branch.map(str::to_string),
            paths.to_vec(),
        );
        unblock(move || g.read_files(&repo, branch.as_deref(), &paths)).await
    }

    async fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> Result<Vec<String>> {
        let (g, repo, branch, prefix) = (
            self.inner.clone(),
            repo.to_string(),
            branch.map(str::to_string),
            prefix.to_string(),
        );
        unblock(move || g.list_files(&repo, branch.as_deref(), &prefix)).await
    }

    async fn branch_exists(&self, repo: &str, branch: &str) -> Result<bool> {
        let (g, repo, branch) = (self.inner.clone(), repo.to_string(), branch.to_string());
        unblock(move || g.branch_exists(&repo, &branch)).await
    }

    async fn submit(&self, spec: &ChangeRequestSpec) -> Result<ChangeRequestOutcome> {
        let (g, spec) = (self.inner.clone(), spec.clone());
        unblock(move || g.submit(&spec)).await
    }

    async fn find_change_request(
        &self,
        repo: &str,
        key: &str,
    ) -> Result<Option<ChangeRequestOutcome>> {
        let (g, repo, key) = (self.inner.clone(), repo.to_string(), key.to_string());
        unblock(move || g.find_change_request(&repo, &key)).await
    }

    fn repo_url(&self, repo: &str) -> String {
        self.inner.repo_url(repo)
    }

    fn default_branch(&self) -> &str {
        &self.inner.default_branch
    }

    fn auto_merges(&self) -> bool {
        self.inner.auto_merge
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Signature;
    use std::sync::Arc;

    fn spec(key: &str, files: &[(&str, Option<&str>)]) -> ChangeRequestSpec {
        let sig = Signature {
            name: "t".into(),
            email: "t@x".into(),
        };
        ChangeRequestSpec {
            key: key.into(),
            repo: "r".into(),
            branch: "idp/r/step".into(),
            title: "t".into(),
            body: "b".into(),
            files: files
                .iter()
                .map(|(p, c)| (p.to_string(), c.map(|c| Arc::new(c.as_bytes().to_vec()))))
                .collect(),
            author: sig.clone(),
            committer: sig,
            trailers: vec![],
            hold: false,
        }
    }

    #[test]
    fn submit_commits_nested_files_and_merges() {
        let d = tempfile::tempdir().unwrap();
        let g = Inner::new(d.path().to_path_buf(), "main", true).unwrap();
        g.create_repo("r", "test").unwrap();
        let o = g
            .submit(&spec("k1", &[("a/b/c.txt", Some("x")), ("top", Some("y"))]))
            .unwrap();
        assert!(o.committed);
        assert_eq!(o.id, "r#1");
        assert_eq!(o.state, ChangeRequestState::Merged);
        let got = g
            .read_files(
                "r",
                None,
                &["a/b/c.txt".into(), "top".into(), "nope".into()],
            )
            .unwrap();
        assert_eq!(got, vec![Some(b"x".to_vec()), Some(b"y".to_vec()), None]);
        let mut files = g.list_files("r", None, "").unwrap();
        files.sort();
        assert_eq!(files, vec!["a/b/c.txt", "top"]);
    }

    #[test]
    fn concurrent_creators_of_one_repo_all_succeed_and_leave_one_repo() {
        let d = tempfile::tempdir().unwrap();
        let g = std::sync::Arc::new(Inner::new(d.path().to_path_buf(), "main", true).unwrap());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (g, b) = (g.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    g.create_repo("gitops", "shared")
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        let entries: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            entries,
            vec!["gitops.git"],
            "no half-made or temporary repos left"
        );
        g.submit(&ChangeRequestSpec {
            repo: "gitops".into(),
            ..spec("k1", &[("f", Some("1"))])
        })
        .unwrap();
    }

    #[test]
    fn resubmitting_a_key_makes_no_second_commit() {
        let d = tempfile::tempdir().unwrap();
        let g = Inner::new(d.path().to_path_buf(), "main", true).unwrap();
        g.create_repo("r", "test").unwrap();
        let a = g.submit(&spec("k1", &[("f", Some("1"))])).unwrap();
        let b = g.submit(&spec("k1", &[("f", Some("1"))])).unwrap();
        assert_eq!(a.commit, b.commit);
        assert!(!b.committed);
        let r = Repository::open_bare(g.repo_path("r")).unwrap();
        let mut walk = r.revwalk().unwrap();
        walk.push_ref("refs/heads/main").unwrap();
        assert_eq!(walk.count(), 1);
    }

    #[test]
    fn a_held_change_request_merges_later_onto_a_moved_default_branch() {
        let d = tempfile::tempdir().unwrap();
        let g = Inner::new(d.path().to_path_buf(), "main", true).unwrap();
        g.create_repo("r", "test").unwrap();
        g.submit(&spec("k0", &[("base", Some("0"))])).unwrap();
        let held = g
            .submit(&ChangeRequestSpec {
                hold: true,
                ..spec("k1", &[("mine", Some("1")), ("base", None)])
            })
            .unwrap();
        assert_eq!(held.state, ChangeRequestState::Open);
        // Someone else's change lands on main meanwhile.
        g.submit(&ChangeRequestSpec {
            branch: "other".into(),
            ..spec("k2", &[("theirs", Some("2"))])
        })
        .unwrap();
        let merged = g
            .submit(&spec("k1", &[("mine", Some("1")), ("base", None)]))
            .unwrap();
        assert_eq!(merged.state, ChangeRequestState::Merged);
        assert_eq!(merged.id, held.id, "the same change request");
        assert_eq!(
            g.read_files("r", None, &["mine".into(), "theirs".into(), "base".into()])
                .unwrap(),
            vec![Some(b"1".to_vec()), Some(b"2".to_vec()), None]
        );
        // And a retry finds the rebased commit.
        let again = g.submit(&spec("k1", &[("mine", Some("1"))])).unwrap();
        assert_eq!(again.commit, merged.commit);
    }

    #[test]
    fn deleting_the_last_file_of_a_folder_removes_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let g = Inner::new(d.path().to_path_buf(), "main", true).unwrap();
        g.create_repo("r", "test").unwrap();
        g.submit(&spec("k1", &[("a/b/c", Some("1")), ("keep", Some("2"))]))
            .unwrap();
        g.submit(&spec("k2", &[("a/b/c", None)])).unwrap();
        assert_eq!(g.list_files("r", None, "").unwrap(), vec!["keep"]);
    }

    #[test]
    fn open_mode_leaves_the_default_branch_alone() {
        let d = tempfile::tempdir().unwrap();
        let g = Inner::new(d.path().to_path_buf(), "main", false).unwrap();
        g.create_repo("r", "test").unwrap();
        let o = g.submit(&spec("k1", &[("f", Some("1"))])).unwrap();
        assert_eq!(o.state, ChangeRequestState::Open);
        assert_eq!(g.read_files("r", None, &["f".into()]).unwrap(), vec![None]);
        assert_eq!(
            g.read_files("r", Some("idp/r/step"), &["f".into()])
                .unwrap(),
            vec![Some(b"1".to_vec())]
        );
    }

    #[test]
    fn unsafe_repo_names_are_rejected() {
        let d = tempfile::tempdir().unwrap();
        let g = Inner::new(d.path().to_path_buf(), "main", true).unwrap();
        for bad in ["../x", "a/b", ".hidden", ""] {
            assert!(g.create_repo(bad, "").is_err(), "{bad}");
        }
    }
}
