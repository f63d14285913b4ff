//! Trees, blobs and the multi-file contents API (`POST /repos/{o}/{r}/contents`).

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use git2::{Oid, Repository};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, Body, Error, api, b64, git_time, ok, repo, unb64, unsigned, update};
use crate::store::{self, branch_head};
use crate::{Login, Shared};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{o}/{r}/git/trees/{sha}", get(tree))
        .route("/repos/{o}/{r}/git/blobs/{sha}", get(blob))
        .route("/repos/{o}/{r}/contents", post(change_files))
}

/// Go's `strconv.ParseBool`, false when it does not parse (Gitea's `FormBool`).
fn form_bool(v: Option<&String>) -> bool {
    matches!(
        v.map(String::as_str),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True")
    )
}

/// `GET /git/trees/{sha}`: `sha` is a commit, a tree, or a name git resolves (a branch).
async fn tree(
    State(f): State<Shared>,
    Path((o, r, sha)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    let not_found = || Error::new(StatusCode::BAD_REQUEST, format!("sha not found [{sha}]"));
    let object = git.revparse_single(&sha).map_err(|_| not_found())?;
    let tree = object.peel_to_tree().map_err(|_| not_found())?;
    // Gitea 1.22 answers with the id it resolved: the commit's, for a commit or a branch.
    let resolved = match object.kind() {
        Some(git2::ObjectType::Tree) => tree.id(),
        _ => object.peel_to_commit().map_or(tree.id(), |c| c.id()),
    };
    let recursive = form_bool(q.get("recursive"));
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let per_page = match num("per_page") {
        p if p <= 0 || p > 1000 => 1000,
        p => p as usize,
    };
    let page = num("page").max(1) as usize;
    let items = store::tree_items(&git, tree.id(), recursive)?;
    let start = per_page * (page - 1);
    let mut v = json!({
        "sha": resolved.to_string(),
        "url": format!("{}/repos/{full}/git/trees/{resolved}", api(&f)),
        "tree": null,
        "truncated": false,
        "page": page,
        "total_count": items.len(),
    });
    if start < items.len() {
        // As in Gitea 1.22: truncated when the tree has more entries than a page, on every page.
        v["truncated"] = json!(items.len() > per_page);
        v["tree"] = items[start..(start + per_page).min(items.len())]
            .iter()
            .map(|e| {
                let url = match e.kind {
                    "tree" => format!("{}/repos/{full}/git/trees/{}", api(&f), e.id),
                    "blob" => format!("{}/repos/{full}/git/blobs/{}", api(&f), e.id),
                    _ => String::new(),
                };
                json!({
                    "path": e.path,
                    "mode": format!("{:06o}", e.mode),
                    "type": e.kind,
                    "size": e.size,
                    "sha": e.id.to_string(),
                    "url": url,
                })
            })
            .collect();
    }
    ok(StatusCode::OK, v)
}

/// `GET /git/blobs/{sha}`: an unknown blob is a 400, as Gitea answers.
async fn blob(State(f): State<Shared>, Path((o, r, sha)): Path<(String, String, String)>) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let blob = Oid::from_str(&sha)
        .and_then(|oid| git.find_blob(oid))
        .map_err(|_| {
            Error::new(
                StatusCode::BAD_REQUEST,
                format!("object does not exist [id: {sha}, rel_path: ]"),
            )
        })?;
    ok(
        StatusCode::OK,
        json!({
            "content": b64(blob.content()),
            "encoding": "base64",
            "url": format!("{}/repos/{}/git/blobs/{sha}", api(&f), m.full_name()),
            "sha": blob.id().to_string(),
            "size": blob.size(),
        }),
    )
}

/// `ChangeFileOperation`.
#[derive(Deserialize)]
struct FileOp {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    from_path: Option<String>,
}

/// `Identity`.
#[derive(Deserialize, Default)]
struct Identity {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// `CommitDateOptions`.
#[derive(Deserialize, Default)]
struct Dates {
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    committer: Option<String>,
}

/// `ChangeFilesOptions`.
#[derive(Deserialize)]
struct ChangeFiles {
    #[serde(default)]
    files: Vec<FileOp>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    new_branch: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    author: Option<Identity>,
    #[serde(default)]
    committer: Option<Identity>,
    #[serde(default)]
    dates: Option<Dates>,
    #[serde(default)]
    signoff: bool,
}

/// Gitea's `CleanUploadFileName`: the path made relative and clean, or `None` when it names
/// nothing or goes into `.git`.
fn clean_path(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for s in p.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() || parts.contains(&".git") {
        return None;
    }
    Some(parts.join("/"))
}

/// An identity the request gave (a name or an email).
fn given(i: &Option<Identity>) -> Option<&Identity> {
    i.as_ref()
        .filter(|i| !i.name.is_empty() || !i.email.is_empty())
}

/// A signature for `who` at `date` (RFC 3339), or now.
fn signature(who: &Identity, date: Option<&str>) -> Result<git2::Signature<'static>, Error> {
    match date.filter(|d| !d.is_empty()) {
        Some(d) => {
            let t = chrono::DateTime::parse_from_rfc3339(d)
                .map_err(|_| Error::invalid(format!("[Dates]: invalid date `{d}`")))?;
            Ok(git2::Signature::new(
                &who.name,
                &who.email,
                &git2::Time::new(t.timestamp(), t.offset().local_minus_utc() / 60),
            )?)
        }
        None => Ok(git2::Signature::now(&who.name, &who.email)?),
    }
}

/// The commit message Gitea makes when none is given: `Add a, b`, `Update c`, `Delete d`.
fn default_message(files: &[FileOp]) -> String {
    let list = |op: &str| {
        files
            .iter()
            .filter(|f| f.operation == op)
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        ("create", "Add"),
        ("update", "Update"),
        ("delete", "Delete"),
    ]
    .iter()
    .filter_map(|(op, verb)| {
        let l = list(op);
        (!l.is_empty()).then(|| format!("{verb} {l}"))
    })
    .collect::<Vec<_>>()
    .join("\n")
}

/// Applies one operation to `tree`, checking it as Gitea does; returns the new tree.
fn apply(
    git: &Repository,
    tree: &git2::Tree,
    op: &FileOp,
    data: Option<&[u8]>,
) -> Result<Oid, Error> {
    let path = clean_path(&op.path).ok_or_else(|| {
        Error::invalid(format!(
            "path contains a malformed path component [path: {}]",
            op.path
        ))
    })?;
    let entry = |p: &str| tree.get_path(FsPath::new(p)).ok();
    let mut update = git2::build::TreeUpdateBuilder::new();
    // A file where a folder of the path should be.
    let parts: Vec<&str> = path.split('/').collect();
    for i in 1..parts.len() {
        let dir = parts[..i].join("/");
        if entry(&dir).is_some_and(|e| e.kind() != Some(git2::ObjectType::Tree)) {
            return Err(Error::invalid(format!(
                "a file exists where you're trying to create a subdirectory [path: {dir}]"
            )));
        }
    }
    match op.operation.as_str() {
        "create" => {
            if let Some(e) = entry(&path) {
                return Err(Error::invalid(
                    if e.kind() == Some(git2::ObjectType::Tree) {
                        format!(
                            "a directory exists where you're trying to create a file [path: {path}]"
                        )
                    } else {
                        format!("repository file already exists [path: {path}]")
                    },
                ));
            }
            let blob = git.blob(data.unwrap_or_default())?;
            update.upsert(&path, blob, git2::FileMode::Blob);
        }
        "update" | "delete" => {
            let from = match op.from_path.as_deref().filter(|p| !p.is_empty()) {
                Some(p) => clean_path(p).ok_or_else(|| {
                    Error::invalid(format!(
                        "path contains a malformed path component [path: {p}]"
                    ))
                })?,
                None => path.clone(),
            };
            let current = entry(&from)
                .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
                .ok_or_else(|| {
                    Error::new(
                        StatusCode::NOT_FOUND,
                        format!("object does not exist [id: , rel_path: {from}]"),
                    )
                })?;
            match op.sha.as_deref().filter(|s| !s.is_empty()) {
                None => {
                    return Err(Error::invalid(
                        "a SHA or commit ID must be proved when updating a file",
                    ));
                }
                Some(sha) if sha != current.id().to_string() => {
                    return Err(Error::invalid(format!(
                        "sha does not match [given: {sha}, expected: {}]",
                        current.id()
                    )));
                }
                Some(_) => {}
            }
            if op.operation == "delete" || from != path {
                update.remove(&from);
            }
            if op.operation == "update" {
                if from != path && entry(&path).is_some() {
                    return Err(Error::invalid(format!(
                        "repository file already exists [path: {path}]"
                    )));
                }
                let mode = if current.filemode() == i32::from(git2::FileMode::BlobExecutable) {
                    git2::FileMode::BlobExecutable
                } else {
                    git2::FileMode::Blob
                };
                let blob = git.blob(data.unwrap_or_default())?;
                update.upsert(&path, blob, mode);
            }
        }
        other => {
            return Err(Error::invalid(format!(
                "[Files.Operation]: `{other}` is not create, update or delete"
            )));
        }
    }
    Ok(update.create_updated(git, tree)?)
}

/// `FileCommitResponse`.
fn commit_json(f: &Shared, full: &str, c: &git2::Commit) -> Value {
    let person = |s: git2::Signature| {
        json!({
            "name": s.name().unwrap_or(""),
            "email": s.email().unwrap_or(""),
            "date": git_time(s.when()),
        })
    };
    let sha = c.id().to_string();
    json!({
        "url": format!("{}/repos/{full}/git/commits/{sha}", api(f)),
        "sha": sha,
        "created": git_time(c.committer().when()),
        "html_url": format!("{}/{full}/commit/{sha}", f.base),
        "author": person(c.author()),
        "committer": person(c.committer()),
        "parents": c.parent_ids().map(|p| json!({
            "url": format!("{}/repos/{full}/git/commits/{p}", api(f)),
            "sha": p.to_string(),
        })).collect::<Vec<_>>(),
        "message": String::from_utf8_lossy(c.message_bytes()),
        "tree": {
            "url": format!("{}/repos/{full}/git/trees/{}", api(f), c.tree_id()),
            "sha": c.tree_id().to_string(),
        },
    })
}

/// `ContentsResponse` of the file at `path` on `branch`, whose tip is `commit`.
fn contents_json(
    f: &Shared,
    full: &str,
    git: &Repository,
    branch: &str,
    commit: &git2::Commit,
    path: &str,
) -> Result<Value, Error> {
    let e = commit.tree()?.get_path(FsPath::new(path))?;
    let blob = git.find_blob(e.id())?;
    let url = format!("{}/repos/{full}/contents/{path}?ref={branch}", api(f));
    let git_url = format!("{}/repos/{full}/git/blobs/{}", api(f), e.id());
    let html_url = format!("{}/{full}/src/branch/{branch}/{path}", f.base);
    Ok(json!({
        "name": path.rsplit('/').next().unwrap_or(path),
        "path": path,
        "sha": e.id().to_string(),
        "last_commit_sha": commit.id().to_string(),
        "type": "file",
        "size": blob.size(),
        "encoding": "base64",
        "content": b64(blob.content()),
        "target": null,
        "url": url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": format!("{}/{full}/raw/branch/{branch}/{path}", f.base),
        "submodule_git_url": null,
        "_links": { "self": url, "git": git_url, "html": html_url },
    }))
}

/// `POST /repos/{o}/{r}/contents`: one commit of every operation, on `branch` or on
/// `new_branch` made from it.
async fn change_files(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r)): Path<(String, String)>,
    Body(body): Body<ChangeFiles>,
) -> Api {
    if body.files.is_empty() {
        return Err(Error::invalid("[Files]: Required"));
    }
    // Contents are base64 (Gitea decodes them before anything else).
    let mut data = Vec::new();
    for op in &body.files {
        data.push(match &op.content {
            Some(c) if op.operation != "delete" => {
                Some(unb64(c).ok_or_else(|| {
                    Error::invalid(format!("illegal base64 data for {}", op.path))
                })?)
            }
            _ => None,
        });
    }
    let v = update(&f, &o, &r, |m, git| {
        let full = m.full_name();
        let empty = store::is_empty(git)?;
        let old = body
            .branch
            .clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| m.default_branch.clone());
        let old_head = branch_head(git, &old);
        if old_head.is_none() && !empty {
            return Err(Error::new(
                StatusCode::NOT_FOUND,
                format!("branch does not exist [name: {old}]"),
            ));
        }
        let new = body
            .new_branch
            .clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| old.clone());
        if new != old && branch_head(git, &new).is_some() {
            return Err(Error::invalid(format!(
                "branch already exists [name: {new}]"
            )));
        }
        if !git2::Branch::name_is_valid(&new).unwrap_or(false) {
            return Err(Error::invalid(format!("invalid branch name [name: {new}]")));
        }
        if m.protection.contains_key(&new) {
            return Err(Error::new(
                StatusCode::FORBIDDEN,
                format!("user cannot commit to repo [user: {}]", l.0),
            ));
        }
        let parent = old_head.map(|h| git.find_commit(h)).transpose()?;
        let mut tree = match &parent {
            Some(c) => c.tree()?,
            None => git.find_tree(git.treebuilder(None)?.write()?)?,
        };
        for (op, data) in body.files.iter().zip(&data) {
            tree = git.find_tree(apply(git, &tree, op, data.as_deref())?)?;
        }
        // Author and committer default to each other, then to the user.
        let doer = Identity {
            name: l.0.clone(),
            email: format!("{}@noreply.localhost", l.0),
        };

        let author = given(&body.author)
            .or(given(&body.committer))
            .unwrap_or(&doer);
        let committer = given(&body.committer)
            .or(given(&body.author))
            .unwrap_or(&doer);
        let dates = body.dates.as_ref();
        let author_sig = signature(author, dates.and_then(|d| d.author.as_deref()))?;
        let committer_sig = signature(committer, dates.and_then(|d| d.committer.as_deref()))?;
        let mut message = body
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| default_message(&body.files));
        if body.signoff {
            message.push_str(&format!(
                "\n\nSigned-off-by: {} <{}>",
                committer.name, committer.email
            ));
        }
        if !message.ends_with('\n') {
            message.push('\n');
        }
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let oid = git.commit(None, &author_sig, &committer_sig, &message, &tree, &parents)?;
        let refname = format!("refs/heads/{new}");
        match old_head {
            Some(h) if new == old => {
                git.reference_matching(&refname, oid, true, h, "gitea: contents")?
            }
            _ => git.reference(&refname, oid, false, "gitea: contents")?,
        };
        if empty {
            // A repository's first branch becomes its default branch, as Gitea's push does.
            git.set_head(&refname)?;
            m.default_branch = new.clone();
        }
        let c = git.find_commit(oid)?;
        let files = body
            .files
            .iter()
            .map(|op| match (op.operation.as_str(), clean_path(&op.path)) {
                ("delete", _) | (_, None) => Ok(Value::Null),
                (_, Some(p)) => contents_json(&f, &full, git, &new, &c, &p),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({
            "files": files,
            "commit": commit_json(&f, &full, &c),
            "verification": unsigned(),
        }))
    })?;
    ok(StatusCode::CREATED, v)
}
