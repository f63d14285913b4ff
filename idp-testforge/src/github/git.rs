//! The Git database API (blobs, trees, commits, refs) and file contents.

use std::path::Path as FsPath;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::{Extension, Router};
use git2::{ObjectType, Oid, Repository};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, ApiError, b64, ok, repo, unb64};
use crate::store::Meta;
use crate::{JsonBody, Login, Shared};

/// The Git database API needs a commit to exist (as GitHub's does).
fn non_empty(git: &Repository) -> Result<(), ApiError> {
    if crate::store::is_empty(git)? {
        return Err(ApiError::empty());
    }
    Ok(())
}

#[derive(Deserialize)]
struct NewBlob {
    content: String,
    #[serde(default)]
    encoding: Option<String>,
}

async fn create_blob(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewBlob>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    non_empty(&git)?;
    let data = match body.encoding.as_deref().unwrap_or("utf-8") {
        "base64" => unb64(&body.content)?,
        "utf-8" | "utf8" => body.content.into_bytes(),
        other => return Err(ApiError::invalid(format!("unknown encoding {other}"))),
    };
    let oid = git.blob(&data)?;
    ok(
        StatusCode::CREATED,
        json!({ "sha": oid.to_string(), "url": format!("{}/api/v3/repos/{}/git/blobs/{oid}", f.base, m.full_name()) }),
    )
}

async fn get_blob(
    State(f): State<Shared>,
    Path((o, r, sha)): Path<(String, String, String)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let git = f.store.git(&m.full_name())?;
    let oid = Oid::from_str(&sha).map_err(|_| ApiError::not_found())?;
    let blob = git.find_blob(oid)?;
    ok(
        StatusCode::OK,
        json!({
            "sha": sha,
            "size": blob.size(),
            "encoding": "base64",
            "content": b64(blob.content()),
            "node_id": format!("B_{sha}"),
            "url": format!("{}/api/v3/repos/{}/git/blobs/{sha}", f.base, m.full_name()),
        }),
    )
}

#[derive(Deserialize)]
struct TreeEntry {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    /// `Some(None)`: JSON null, which deletes the path.
    #[serde(default, deserialize_with = "nullable")]
    sha: Option<Option<String>>,
    #[serde(default)]
    content: Option<String>,
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Deserialize)]
struct NewTree {
    tree: Vec<TreeEntry>,
    #[serde(default)]
    base_tree: Option<String>,
}

fn tree_json(f: &Shared, full: &str, git: &Repository, tree: Oid, recursive: bool) -> Api {
    let t = git.find_tree(tree)?;
    let mut entries = Vec::new();
    let mut err = None;
    t.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        let path = format!("{dir}{}", e.name().unwrap_or(""));
        let kind = match e.kind() {
            Some(ObjectType::Tree) => "tree",
            Some(ObjectType::Commit) => "commit",
            _ => "blob",
        };
        let mut v = json!({
            "path": path,
            "mode": format!("{:06o}", e.filemode()),
            "type": kind,
            "sha": e.id().to_string(),
        });
        if kind == "blob" {
            match git.find_blob(e.id()) {
                Ok(b) => v["size"] = json!(b.size()),
                Err(x) => err = Some(x),
            }
        }
        entries.push(v);
        if recursive {
            git2::TreeWalkResult::Ok
        } else {
            git2::TreeWalkResult::Skip
        }
    })?;
    if let Some(e) = err {
        return Err(e.into());
    }
    ok(
        StatusCode::OK,
        json!({
            "sha": tree.to_string(),
            "url": format!("{}/api/v3/repos/{full}/git/trees/{tree}", f.base),
            "tree": entries,
            "truncated": false,
        }),
    )
}

async fn create_tree(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewTree>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    non_empty(&git)?;
    let base = match &body.base_tree {
        Some(s) => Some(
            git.find_tree(Oid::from_str(s).map_err(|_| ApiError::invalid("Invalid tree info"))?)
                .map_err(|_| ApiError::invalid("base_tree is not a valid tree"))?,
        ),
        None => None,
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    for e in &body.tree {
        if e.path.is_empty()
            || e.path.starts_with('/')
            || e.path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == ".." || s == ".git")
        {
            return Err(ApiError::invalid(format!(
                "tree.path `{}` is invalid",
                e.path
            )));
        }
        let mode = match (e.mode.as_str(), e.kind.as_str()) {
            ("100644", "blob") => git2::FileMode::Blob,
            ("100755", "blob") => git2::FileMode::BlobExecutable,
            ("120000", "blob") => git2::FileMode::Link,
            _ => {
                return Err(ApiError::invalid(format!(
                    "tree.mode {} with type {} is not supported",
                    e.mode, e.kind
                )));
            }
        };
        match (&e.sha, &e.content) {
            (Some(None), None) => {
                update.remove(&e.path);
            }
            (Some(Some(s)), None) => {
                let oid = Oid::from_str(s).map_err(|_| ApiError::invalid("tree.sha is invalid"))?;
                git.find_blob(oid)
                    .map_err(|_| ApiError::invalid(format!("tree.sha {s} is not a valid blob")))?;
                update.upsert(&e.path, oid, mode);
            }
            (None, Some(c)) => {
                let oid = git.blob(c.as_bytes())?;
                update.upsert(&e.path, oid, mode);
            }
            _ => {
                return Err(ApiError::invalid(
                    "each tree entry needs exactly one of sha and content",
                ));
            }
        }
    }
    let base = match base {
        Some(t) => t,
        None => git.find_tree(git.treebuilder(None)?.write()?)?,
    };
    let oid = update.create_updated(&git, &base)?;
    let mut resp = tree_json(&f, &full, &git, oid, false)?;
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

#[derive(Deserialize)]
struct TreeQuery {
    #[serde(default)]
    recursive: Option<String>,
}

async fn get_tree(
    State(f): State<Shared>,
    Path((o, r, sha)): Path<(String, String, String)>,
    Query(q): Query<TreeQuery>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    non_empty(&git)?;
    let tree = git
        .revparse_single(&sha)
        .and_then(|o| o.peel_to_tree())
        .map_err(|_| ApiError::not_found())?;
    let recursive = q
        .recursive
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    tree_json(&f, &full, &git, tree.id(), recursive)
}

#[derive(Deserialize)]
struct Person {
    name: String,
    email: String,
    #[serde(default)]
    date: Option<String>,
}

#[derive(Deserialize)]
struct NewCommit {
    message: String,
    tree: String,
    #[serde(default)]
    parents: Vec<String>,
    #[serde(default)]
    author: Option<Person>,
    #[serde(default)]
    committer: Option<Person>,
}

fn signature(p: &Person) -> Result<git2::Signature<'static>, ApiError> {
    match &p.date {
        Some(d) => {
            let t = chrono::DateTime::parse_from_rfc3339(d)
                .map_err(|_| ApiError::invalid(format!("date `{d}` is not ISO 8601")))?;
            Ok(git2::Signature::new(
                &p.name,
                &p.email,
                &git2::Time::new(t.timestamp(), t.offset().local_minus_utc() / 60),
            )?)
        }
        None => Ok(git2::Signature::now(&p.name, &p.email)?),
    }
}

pub(super) fn commit_json(f: &Shared, full: &str, c: &git2::Commit) -> Value {
    let person = |s: git2::Signature| {
        let t = chrono::DateTime::from_timestamp(s.when().seconds(), 0).unwrap_or_default();
        json!({
            "name": s.name().unwrap_or(""),
            "email": s.email().unwrap_or(""),
            "date": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        })
    };
    let sha = c.id().to_string();
    json!({
        "sha": sha,
        "node_id": format!("C_{sha}"),
        "url": format!("{}/api/v3/repos/{full}/git/commits/{sha}", f.base),
        "html_url": format!("{}/{full}/commit/{sha}", f.base),
        "message": c.message().unwrap_or(""),
        "tree": { "sha": c.tree_id().to_string(), "url": format!("{}/api/v3/repos/{full}/git/trees/{}", f.base, c.tree_id()) },
        "parents": c.parent_ids().map(|p| json!({ "sha": p.to_string(), "url": format!("{}/api/v3/repos/{full}/git/commits/{p}", f.base), "html_url": format!("{}/{full}/commit/{p}", f.base) })).collect::<Vec<_>>(),
        "author": person(c.author()),
        "committer": person(c.committer()),
        "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
    })
}

async fn create_commit(
    State(f): State<Shared>,
    Extension(l): Extension<Login>,
    Path((o, r)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewCommit>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    non_empty(&git)?;
    let tree = Oid::from_str(&body.tree)
        .ok()
        .and_then(|t| git.find_tree(t).ok())
        .ok_or_else(|| ApiError::invalid("Tree SHA does not exist"))?;
    let mut parents = Vec::new();
    for p in &body.parents {
        let c = Oid::from_str(p)
            .ok()
            .and_then(|p| git.find_commit(p).ok())
            .ok_or_else(|| {
                ApiError::invalid("Parent SHA does not exist or is not a commit object")
            })?;
        parents.push(c);
    }
    let default = Person {
        name: l.0.clone(),
        email: format!("{}@forge.invalid", l.0),
        date: None,
    };
    let author = signature(body.author.as_ref().unwrap_or(&default))?;
    let committer = signature(
        body.committer
            .as_ref()
            .or(body.author.as_ref())
            .unwrap_or(&default),
    )?;
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    let oid = git.commit(None, &author, &committer, &body.message, &tree, &refs)?;
    ok(
        StatusCode::CREATED,
        commit_json(&f, &full, &git.find_commit(oid)?),
    )
}

async fn get_commit(
    State(f): State<Shared>,
    Path((o, r, sha)): Path<(String, String, String)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    let oid = Oid::from_str(&sha).map_err(|_| ApiError::not_found())?;
    ok(
        StatusCode::OK,
        commit_json(&f, &full, &git.find_commit(oid)?),
    )
}

fn ref_json(f: &Shared, full: &str, name: &str, oid: Oid) -> Value {
    json!({
        "ref": name,
        "node_id": format!("REF_{oid}"),
        "url": format!("{}/api/v3/repos/{full}/git/{name}", f.base),
        "object": { "type": "commit", "sha": oid.to_string(), "url": format!("{}/api/v3/repos/{full}/git/commits/{oid}", f.base) },
    })
}

async fn get_ref(
    State(f): State<Shared>,
    Path((o, r, reference)): Path<(String, String, String)>,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    non_empty(&git)?;
    let name = format!("refs/{reference}");
    let oid = git.refname_to_id(&name)?;
    ok(StatusCode::OK, ref_json(&f, &full, &name, oid))
}

#[derive(Deserialize)]
struct NewRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
}

fn check_ref_name(name: &str) -> Result<(), ApiError> {
    if !name.starts_with("refs/") || !git2::Reference::is_valid_name(name) {
        return Err(ApiError::invalid(format!(
            "{name} is not a valid ref name."
        )));
    }
    Ok(())
}

fn protected(m: &Meta, name: &str) -> bool {
    name.strip_prefix("refs/heads/")
        .is_some_and(|b| m.protection.contains_key(b))
}

async fn create_ref(
    State(f): State<Shared>,
    Path((o, r)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewRef>,
) -> Api {
    let full = format!("{o}/{r}");
    check_ref_name(&body.name)?;
    let oid = f.store.update(&full, |_, git| {
        non_empty(git)?;
        let oid =
            Oid::from_str(&body.sha).map_err(|_| ApiError::invalid("Object does not exist"))?;
        git.find_commit(oid)
            .map_err(|_| ApiError::invalid("Object does not exist"))?;
        if git.refname_to_id(&body.name).is_ok() {
            return Err(ApiError::invalid("Reference already exists"));
        }
        git.reference(&body.name, oid, false, "forge: create ref")?;
        Ok(oid)
    })?;
    ok(StatusCode::CREATED, ref_json(&f, &full, &body.name, oid))
}

#[derive(Deserialize)]
struct UpdateRef {
    sha: String,
    #[serde(default)]
    force: bool,
}

async fn update_ref(
    State(f): State<Shared>,
    Path((o, r, reference)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<UpdateRef>,
) -> Api {
    let full = format!("{o}/{r}");
    let name = format!("refs/{reference}");
    check_ref_name(&name)?;
    let oid = f.store.update(&full, |m, git| {
        non_empty(git)?;
        if protected(m, &name) {
            return Err(ApiError::invalid(
                "Protected branch update failed: changes must be made through a pull request.",
            ));
        }
        let oid =
            Oid::from_str(&body.sha).map_err(|_| ApiError::invalid("Object does not exist"))?;
        git.find_commit(oid)
            .map_err(|_| ApiError::invalid("Object does not exist"))?;
        let current = git
            .refname_to_id(&name)
            .map_err(|_| ApiError::invalid("Reference does not exist"))?;
        if !body.force && current != oid && !git.graph_descendant_of(oid, current)? {
            return Err(ApiError::invalid("Update is not a fast forward"));
        }
        git.reference(&name, oid, true, "forge: update ref")?;
        Ok(oid)
    })?;
    ok(StatusCode::OK, ref_json(&f, &full, &name, oid))
}

async fn delete_ref(
    State(f): State<Shared>,
    Path((o, r, reference)): Path<(String, String, String)>,
) -> Api {
    let full = format!("{o}/{r}");
    let name = format!("refs/{reference}");
    f.store.update(&full, |m, git| {
        if protected(m, &name) {
            return Err(ApiError::invalid("Cannot delete a protected branch"));
        }
        let mut rf = git
            .find_reference(&name)
            .map_err(|_| ApiError::invalid("Reference does not exist"))?;
        rf.delete()?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct RefQuery {
    #[serde(rename = "ref", default)]
    reference: Option<String>,
}

async fn contents(
    State(f): State<Shared>,
    Path((o, r, path)): Path<(String, String, String)>,
    Query(q): Query<RefQuery>,
    headers: axum::http::HeaderMap,
) -> Api {
    let m = repo(&f, &o, &r)?;
    let full = m.full_name();
    let git = f.store.git(&full)?;
    if crate::store::is_empty(&git)? {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            "This repository is empty.".into(),
        ));
    }
    let reference = q.reference.unwrap_or(m.default_branch.clone());
    let tree = git
        .revparse_single(&reference)
        .and_then(|o| o.peel_to_tree())
        .map_err(|_| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("No commit found for the ref {reference}"),
            )
        })?;
    let path = path.trim_end_matches('/');
    let entry = tree.get_path(FsPath::new(path))?;
    let item = |name: &str, p: &str, e: &git2::TreeEntry| -> Result<Value, ApiError> {
        let (kind, git_url, download_url, size) = if e.kind() == Some(ObjectType::Tree) {
            let git_url = format!("{}/api/v3/repos/{full}/git/trees/{}", f.base, e.id());
            ("dir", git_url, Value::Null, 0)
        } else {
            let git_url = format!("{}/api/v3/repos/{full}/git/blobs/{}", f.base, e.id());
            let download = json!(format!("{}/{full}/raw/{reference}/{p}", f.base));
            ("file", git_url, download, git.find_blob(e.id())?.size())
        };
        let url = format!(
            "{}/api/v3/repos/{full}/contents/{p}?ref={reference}",
            f.base
        );
        let html_url = format!(
            "{}/{full}/{}/{reference}/{p}",
            f.base,
            if kind == "dir" { "tree" } else { "blob" }
        );
        Ok(json!({
            "type": kind, "name": name, "path": p, "sha": e.id().to_string(), "size": size,
            "url": url, "html_url": html_url, "git_url": git_url, "download_url": download_url,
            "_links": { "self": url, "git": git_url, "html": html_url },
        }))
    };
    if entry.kind() == Some(ObjectType::Tree) {
        let t = git.find_tree(entry.id())?;
        let list: Vec<Value> = t
            .iter()
            .map(|e| {
                let name = e.name().unwrap_or("");
                item(name, &format!("{path}/{name}"), &e)
            })
            .collect::<Result<_, _>>()?;
        return ok(StatusCode::OK, Value::Array(list));
    }
    let blob = git.find_blob(entry.id())?;
    // `Accept: application/vnd.github.raw` (or `.v3.raw`): the file's bytes, as GitHub answers
    // it (Backstage's GitHub URL reader reads catalog files so).
    let raw = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("vnd.github.raw") || a.contains("vnd.github.v3.raw"));
    if raw {
        return Ok((
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "application/vnd.github.raw",
            )],
            blob.content().to_vec(),
        )
            .into_response());
    }
    let mut v = item(entry.name().unwrap_or(""), path, &entry)?;
    v["encoding"] = json!("base64");
    v["content"] = json!(b64(blob.content()));
    ok(StatusCode::OK, v)
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{o}/{r}/git/blobs", post(create_blob))
        .route("/repos/{o}/{r}/git/blobs/{sha}", get(get_blob))
        .route("/repos/{o}/{r}/git/trees", post(create_tree))
        .route("/repos/{o}/{r}/git/trees/{*sha}", get(get_tree))
        .route("/repos/{o}/{r}/git/commits", post(create_commit))
        .route("/repos/{o}/{r}/git/commits/{sha}", get(get_commit))
        .route("/repos/{o}/{r}/git/ref/{*reference}", get(get_ref))
        .route("/repos/{o}/{r}/git/refs", post(create_ref))
        .route(
            "/repos/{o}/{r}/git/refs/{*reference}",
            patch(update_ref).delete(delete_ref),
        )
        .route("/repos/{o}/{r}/contents/{*path}", get(contents))
}
