//! The repository: branches, the tree, raw blobs and files, and the commits API (several file
//! changes as one commit, on a branch it may create or overwrite).
//!
//! Simplifications: the tree lists with offset pagination only (`pagination=keyset` is
//! ignored), in git's order; a branch protected in the store takes no direct change from anyone
//! (GitLab lets maintainers push to and delete a protected branch by default), so the commits API
//! answers 403 and deleting it 400, as the pre-receive hook refuses `git push`.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use base64::Engine as _;
use git2::{ObjectType, Oid, Repository};
use serde_json::{Value, json};

use super::{Api, GlError, Input, email, ok, paginate, project};
use crate::store::{self, Meta, branch_head};
use crate::{Login, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/projects/{id}/repository/branches/{*branch}",
            get(get_branch).delete(delete_branch),
        )
        .route("/projects/{id}/repository/tree", get(tree))
        .route("/projects/{id}/repository/blobs/{sha}/raw", get(blob_raw))
        .route("/projects/{id}/repository/files/{*rest}", get(file))
        .route("/projects/{id}/repository/commits", post(create_commit))
}

/// GitLab's timestamps: `2026-01-02T03:04:05.000+00:00`, in the signature's own offset.
fn when(t: git2::Time) -> String {
    let offset = chrono::FixedOffset::east_opt(t.offset_minutes() * 60)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).unwrap());
    chrono::DateTime::from_timestamp(t.seconds(), 0)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// A commit as GitLab's `Commit` entity.
pub(super) fn commit_json(f: &Shared, m: &Meta, c: &git2::Commit) -> Value {
    let sha = c.id().to_string();
    let message = c.message().unwrap_or("");
    let (author, committer) = (c.author(), c.committer());
    json!({
        "id": sha,
        "short_id": &sha[..8],
        "created_at": when(committer.when()),
        "parent_ids": c.parent_ids().map(|p| p.to_string()).collect::<Vec<_>>(),
        "title": message.lines().next().unwrap_or(""),
        "message": message,
        "author_name": author.name().unwrap_or(""),
        "author_email": author.email().unwrap_or(""),
        "authored_date": when(author.when()),
        "committer_name": committer.name().unwrap_or(""),
        "committer_email": committer.email().unwrap_or(""),
        "committed_date": when(committer.when()),
        "trailers": {},
        "extended_trailers": {},
        "web_url": format!("{}/-/commit/{sha}", super::web_url(f, m)),
    })
}

fn branch_json(
    f: &Shared,
    m: &Meta,
    git: &Repository,
    name: &str,
    head: Oid,
) -> Result<Value, GlError> {
    let c = git.find_commit(head)?;
    let merged = name != m.default_branch
        && branch_head(git, &m.default_branch)
            .is_some_and(|d| d == head || git.graph_descendant_of(d, head).unwrap_or(false));
    let protected = m.protection.contains_key(name);
    Ok(json!({
        "name": name,
        "commit": commit_json(f, m, &c),
        "merged": merged,
        "protected": protected,
        "default": name == m.default_branch,
        "developers_can_push": false,
        "developers_can_merge": false,
        "can_push": !protected,
        "web_url": format!("{}/-/tree/{name}", super::web_url(f, m)),
    }))
}

async fn get_branch(State(f): State<Shared>, Path((id, branch)): Path<(String, String)>) -> Api {
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let head = branch_head(&git, &branch).ok_or_else(|| GlError::not_found("Branch"))?;
    ok(StatusCode::OK, branch_json(&f, &m, &git, &branch, head)?)
}

async fn delete_branch(State(f): State<Shared>, Path((id, branch)): Path<(String, String)>) -> Api {
    let m = project(&f, &id)?;
    f.store.update_with(
        &m.full_name(),
        || GlError::not_found("Project"),
        |m, git| {
            let mut r = git
                .find_reference(&format!("refs/heads/{branch}"))
                .map_err(|_| GlError::not_found("Branch"))?;
            if m.protection.contains_key(&branch) {
                return Err(GlError::bad_request(
                    "You can only delete protected branches using the web interface.",
                ));
            }
            r.delete()?;
            Ok(())
        },
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn tree(State(f): State<Shared>, uri: Uri, Path(id): Path<String>, input: Input) -> Api {
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let reference = input
        .str("ref")?
        .unwrap_or_else(|| m.default_branch.clone());
    let root = git
        .revparse_single(&reference)
        .and_then(|o| o.peel_to_tree())
        .map_err(|_| GlError::not_found("Tree"))?;
    let dir = input.str("path")?.unwrap_or_default();
    let dir = dir.trim_matches('/');
    let tree = if dir.is_empty() {
        root
    } else {
        match root.get_path(FsPath::new(dir)) {
            Ok(e) if e.kind() == Some(ObjectType::Tree) => git.find_tree(e.id())?,
            _ => return paginate(&f, &uri, &input, Vec::new()),
        }
    };
    let recursive = input.bool("recursive")?.unwrap_or(false);
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut entries = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |parent, e| {
        let kind = match e.kind() {
            Some(ObjectType::Tree) => "tree",
            Some(ObjectType::Commit) => "commit",
            _ => "blob",
        };
        entries.push(json!({
            "id": e.id().to_string(),
            "name": e.name().unwrap_or(""),
            "type": kind,
            "path": format!("{prefix}{parent}{}", e.name().unwrap_or("")),
            "mode": format!("{:06o}", e.filemode()),
        }));
        if recursive {
            git2::TreeWalkResult::Ok
        } else {
            git2::TreeWalkResult::Skip
        }
    })?;
    paginate(&f, &uri, &input, entries)
}

/// Raw bytes, as GitLab's `send_git_blob` answers them.
fn raw(data: Vec<u8>, headers: &[(&'static str, String)]) -> Response {
    let mut resp = ([("content-type", "text/plain; charset=utf-8")], data).into_response();
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            resp.headers_mut().insert(*k, v);
        }
    }
    resp
}

async fn blob_raw(State(f): State<Shared>, Path((id, sha)): Path<(String, String)>) -> Api {
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let blob = Oid::from_str(&sha)
        .and_then(|o| git.find_blob(o))
        .map_err(|_| GlError::not_found("Blob"))?;
    Ok(raw(blob.content().to_vec(), &[]))
}

/// `GET /projects/:id/repository/files/:file_path/raw`: a file at `ref` (the default branch when
/// absent). The path is URL-encoded (`dir%2Ffile`); a plain one is taken too.
async fn file(
    State(f): State<Shared>,
    Path((id, rest)): Path<(String, String)>,
    input: Input,
) -> Api {
    // Only the raw form is served; the metadata form (`files/:file_path`) is not.
    let Some(path) = rest.strip_suffix("/raw") else {
        return Err(GlError::not_found(""));
    };
    let m = project(&f, &id)?;
    let git = f.store.git(&m.full_name())?;
    let reference = input
        .str("ref")?
        .unwrap_or_else(|| m.default_branch.clone());
    let commit = git
        .revparse_single(&reference)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| GlError::not_found("Commit"))?;
    let entry = commit
        .tree()?
        .get_path(FsPath::new(path))
        .map_err(|_| GlError::not_found("File"))?;
    let blob = git
        .find_blob(entry.id())
        .map_err(|_| GlError::not_found("File"))?;
    let name = path.rsplit('/').next().unwrap_or(path);
    Ok(raw(
        blob.content().to_vec(),
        &[
            ("x-gitlab-file-name", name.to_string()),
            ("x-gitlab-file-path", path.to_string()),
            ("x-gitlab-size", blob.size().to_string()),
            ("x-gitlab-encoding", "base64".into()),
            ("x-gitlab-ref", reference.clone()),
            ("x-gitlab-blob-id", blob.id().to_string()),
            ("x-gitlab-commit-id", commit.id().to_string()),
            (
                "x-gitlab-execute-filemode",
                (entry.filemode() == 0o100755).to_string(),
            ),
        ],
    ))
}

/// One of the commits API's `actions`.
struct Action {
    kind: String,
    path: String,
    previous_path: Option<String>,
    content: Option<Vec<u8>>,
    execute_filemode: Option<bool>,
}

fn actions(input: &Input) -> Result<Vec<Action>, GlError> {
    let Some(Value::Array(list)) = input.value("actions") else {
        return Err(match input.value("actions") {
            None => GlError::param("actions is missing"),
            Some(_) => GlError::param("actions is invalid"),
        });
    };
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let field = |k: &str| -> Result<Option<String>, GlError> {
            match &a[k] {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                _ => Err(GlError::param(format!("actions[{i}][{k}] is invalid"))),
            }
        };
        if !a.is_object() {
            return Err(GlError::param(format!("actions[{i}] is invalid")));
        }
        let kind = field("action")?
            .ok_or_else(|| GlError::param(format!("actions[{i}][action] is missing")))?;
        if !matches!(
            kind.as_str(),
            "create" | "update" | "delete" | "move" | "chmod"
        ) {
            return Err(GlError::param(format!(
                "actions[{i}][action] does not have a valid value"
            )));
        }
        let path = field("file_path")?
            .ok_or_else(|| GlError::param(format!("actions[{i}][file_path] is missing")))?;
        let previous_path = field("previous_path")?;
        if kind == "move" && previous_path.is_none() {
            return Err(GlError::param(format!(
                "actions[{i}][previous_path] is missing"
            )));
        }
        let content = match (field("content")?, field("encoding")?.as_deref()) {
            (None, _) => None,
            (Some(c), None | Some("text")) => Some(c.into_bytes()),
            (Some(c), Some("base64")) => {
                let clean: String = c.chars().filter(|c| !c.is_whitespace()).collect();
                Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .map_err(|_| GlError::bad_request("Invalid base64 content"))?,
                )
            }
            (Some(_), Some(_)) => {
                return Err(GlError::param(format!(
                    "actions[{i}][encoding] does not have a valid value"
                )));
            }
        };
        let execute_filemode = match &a["execute_filemode"] {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            _ => {
                return Err(GlError::param(format!(
                    "actions[{i}][execute_filemode] is invalid"
                )));
            }
        };
        if kind == "chmod" && execute_filemode.is_none() {
            return Err(GlError::param(format!(
                "actions[{i}][execute_filemode] is missing"
            )));
        }
        out.push(Action {
            kind,
            path,
            previous_path,
            content,
            execute_filemode,
        });
    }
    Ok(out)
}

/// A tree as `path -> (object, mode)` of everything but directories.
type Files = BTreeMap<String, (Oid, i32)>;

fn flatten(tree: Option<&git2::Tree>) -> Result<Files, git2::Error> {
    let mut files = Files::new();
    if let Some(t) = tree {
        t.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() != Some(ObjectType::Tree) {
                files.insert(
                    format!("{dir}{}", e.name().unwrap_or("")),
                    (e.id(), e.filemode()),
                );
            }
            git2::TreeWalkResult::Ok
        })?;
    }
    Ok(files)
}

/// Writes `files` as trees; the root tree's id.
fn write_tree(git: &Repository, files: &Files) -> Result<Oid, git2::Error> {
    fn build(git: &Repository, entries: Vec<(&str, Oid, i32)>) -> Result<Oid, git2::Error> {
        let mut tb = git.treebuilder(None)?;
        let mut dirs: BTreeMap<&str, Vec<(&str, Oid, i32)>> = BTreeMap::new();
        for (path, oid, mode) in entries {
            match path.split_once('/') {
                Some((dir, rest)) => dirs.entry(dir).or_default().push((rest, oid, mode)),
                None => {
                    tb.insert(path, oid, mode)?;
                }
            }
        }
        for (dir, sub) in dirs {
            let t = build(git, sub)?;
            tb.insert(dir, t, 0o040000)?;
        }
        tb.write()
    }
    build(
        git,
        files
            .iter()
            .map(|(p, (o, m))| (p.as_str(), *o, *m))
            .collect(),
    )
}

/// Gitaly's checks of a file path.
fn check_path(path: &str) -> Result<(), GlError> {
    if path.is_empty() {
        return Err(GlError::bad_request("You must provide a file path"));
    }
    if path.split('/').any(|s| s == "..") {
        return Err(GlError::bad_request(
            "Path cannot include directory traversal",
        ));
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == ".git")
    {
        return Err(GlError::bad_request(format!("invalid path: '{path}'")));
    }
    Ok(())
}

/// Applies one action to `files`, with Gitaly's answers for what cannot be done.
fn apply(git: &Repository, files: &mut Files, a: &Action) -> Result<(), GlError> {
    let exists = "A file with this name already exists";
    let missing = "A file with this name doesn't exist";
    check_path(&a.path)?;
    let blocked = |files: &Files, path: &str| -> Option<&'static str> {
        if files.contains_key(path) {
            return Some(exists);
        }
        let dir = format!("{path}/");
        if files.keys().any(|k| k.starts_with(&dir)) {
            return Some("A directory with this name already exists");
        }
        // A file where a parent directory would go.
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            if files.contains_key(&path[..at + i]) {
                return Some(exists);
            }
            at += i + 1;
        }
        None
    };
    let mode = |exec: Option<bool>, current: i32| match exec {
        Some(true) => 0o100755,
        Some(false) => 0o100644,
        None => current,
    };
    match a.kind.as_str() {
        "create" => {
            if let Some(why) = blocked(files, &a.path) {
                return Err(GlError::bad_request(why));
            }
            let blob = git.blob(a.content.as_deref().unwrap_or_default())?;
            files.insert(a.path.clone(), (blob, mode(a.execute_filemode, 0o100644)));
        }
        "update" => {
            let Some((_, m)) = files.get(&a.path).copied() else {
                return Err(GlError::bad_request(missing));
            };
            let blob = git.blob(a.content.as_deref().unwrap_or_default())?;
            files.insert(a.path.clone(), (blob, mode(a.execute_filemode, m)));
        }
        "delete" => {
            if files.remove(&a.path).is_none() {
                return Err(GlError::bad_request(missing));
            }
        }
        "move" => {
            let from = a.previous_path.as_deref().unwrap_or_default();
            check_path(from)?;
            let Some((oid, m)) = files.remove(from) else {
                return Err(GlError::bad_request(missing));
            };
            if let Some(why) = blocked(files, &a.path) {
                return Err(GlError::bad_request(why));
            }
            let oid = match &a.content {
                Some(c) => git.blob(c)?,
                None => oid,
            };
            files.insert(a.path.clone(), (oid, mode(a.execute_filemode, m)));
        }
        _ => {
            let Some(entry) = files.get_mut(&a.path) else {
                return Err(GlError::bad_request(missing));
            };
            entry.1 = mode(a.execute_filemode, entry.1);
        }
    }
    Ok(())
}

/// `POST /projects/:id/repository/commits`, with GitLab's rules (`Commits::CreateService`):
/// without `start_branch` or `start_sha` the commit goes on top of `branch`, which must exist
/// (unless the repository is empty); with one of them, `branch` is created from it, and must not
/// exist unless `force` is true, which overwrites it.
async fn create_commit(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path(id): Path<String>,
    input: Input,
) -> Api {
    let m = project(&f, &id)?;
    let [branch, message] = input.required(["branch", "commit_message"])?;
    let actions = actions(&input)?;
    let start_branch = input.str("start_branch")?;
    let start_sha = input.str("start_sha")?;
    if start_branch.is_some() && start_sha.is_some() {
        return Err(GlError::param(
            "start_branch, start_sha are mutually exclusive",
        ));
    }
    let force = input.bool("force")?.unwrap_or(false);
    let author_name = input.str("author_name")?;
    let author_email = input.str("author_email")?;
    let v = f.store.update_with(
        &m.full_name(),
        || GlError::not_found("Project"),
        |m, git| {
            if m.protection.contains_key(&branch) {
                return Err(GlError::message(
                    StatusCode::FORBIDDEN,
                    "403 Forbidden - You are not allowed to push into this branch",
                ));
            }
            let empty = store::is_empty(git)?;
            let start_branch = match &start_sha {
                Some(_) => None,
                None => Some(start_branch.clone().unwrap_or_else(|| branch.clone())),
            };
            let start = match &start_sha {
                Some(s) => {
                    if s.len() != 40 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(GlError::bad_request(format!("Invalid start_sha '{s}'")));
                    }
                    let c = Oid::from_str(s)
                        .and_then(|o| git.find_commit(o))
                        .map_err(|_| {
                            GlError::bad_request(format!("Cannot find start_sha '{s}'"))
                        })?;
                    Some(c)
                }
                None => None,
            };
            if let Some(sb) = &start_branch
                && !empty
                && branch_head(git, sb).is_none()
            {
                return Err(GlError::bad_request(
                    "You can only create or edit files when you are on a branch",
                ));
            }
            let different = start_branch.as_deref() != Some(branch.as_str());
            if !empty && different && branch_head(git, &branch).is_some() && !force {
                return Err(GlError::bad_request(format!(
                    "A branch called '{branch}' already exists. Switch to that branch in order to make changes"
                )));
            }
            if !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
                return Err(GlError::bad_request(format!(
                    "Something went wrong when we tried to create '{branch}' for you: Branch name is invalid"
                )));
            }
            let parent = match (start, &start_branch) {
                (Some(c), _) => Some(c),
                (None, Some(sb)) => match branch_head(git, sb) {
                    Some(o) => Some(git.find_commit(o)?),
                    None => None,
                },
                (None, None) => None,
            };
            let base_tree = match &parent {
                Some(c) => Some(c.tree()?),
                None => None,
            };
            let mut files = flatten(base_tree.as_ref())?;
            for a in &actions {
                apply(git, &mut files, a)?;
            }
            let tree = git.find_tree(write_tree(git, &files)?)?;
            let committer = git2::Signature::now(&l.0, &email(&l.0))?;
            let author = git2::Signature::now(
                author_name.as_deref().unwrap_or(&l.0),
                &author_email.clone().unwrap_or_else(|| email(&l.0)),
            )?;
            let parents: Vec<&git2::Commit> = parent.iter().collect();
            let oid = git.commit(None, &author, &committer, &message, &tree, &parents)?;
            git.reference(
                &format!("refs/heads/{branch}"),
                oid,
                true,
                "forge: commits API",
            )?;
            let stats = git
                .diff_tree_to_tree(base_tree.as_ref(), Some(&tree), None)?
                .stats()?;
            let mut v = commit_json(&f, m, &git.find_commit(oid)?);
            v["stats"] = json!({
                "additions": stats.insertions(),
                "deletions": stats.deletions(),
                "total": stats.insertions() + stats.deletions(),
            });
            v["status"] = Value::Null;
            v["project_id"] = json!(m.id);
            v["last_pipeline"] = Value::Null;
            Ok(v)
        },
    )?;
    ok(StatusCode::CREATED, v)
}
