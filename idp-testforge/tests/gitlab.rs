//! The GitLab-shaped API (`/api/v4`) as any client sees it: plain HTTP with GitLab's
//! `PRIVATE-TOKEN` header, and the git CLI reading what it made. None of this goes through idp.

use std::path::Path;
use std::process::Command;

use common::git;
use idp_testforge::{Reply, Running};
use serde_json::{Value, json};

mod common;

const TOKEN: &str = "gitlab-test-token";
const REVIEWER: &str = "reviewer-token";
const SECRET: &str = "hook-secret";

fn forge(dir: &Path) -> Running {
    common::forge(dir, TOKEN, REVIEWER, Some(SECRET))
}

fn call(f: &Running, token: &str, method: &str, path: &str, body: Value) -> Reply {
    f.request_private_token(
        token,
        method,
        &format!("/api/v4{path}"),
        &common::body_text(&body),
    )
}

fn gl(f: &Running, method: &str, path: &str, body: Value) -> Reply {
    call(f, TOKEN, method, path, body)
}

/// The `acme` group's namespace id.
fn acme(f: &Running) -> u64 {
    let r = gl(f, "GET", "/namespaces/acme", json!(null));
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["id"].as_u64().unwrap()
}

/// A project `acme/NAME` with a README on `main`; its id.
fn project(f: &Running, name: &str) -> u64 {
    let r = gl(
        f,
        "POST",
        "/projects",
        json!({ "name": name, "namespace_id": acme(f), "initialize_with_readme": true }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["id"].as_u64().unwrap()
}

/// A clone of `acme/NAME` in `dir/work-NAME`.
fn clone(f: &Running, dir: &Path, name: &str) -> std::path::PathBuf {
    common::clone(f, TOKEN, dir, name, &[])
}

fn commit(f: &Running, id: u64, body: Value) -> Reply {
    gl(
        f,
        "POST",
        &format!("/projects/{id}/repository/commits"),
        body,
    )
}

/// One commit creating `path` on a new `branch` from main; the commit's id.
fn branch_with(f: &Running, id: u64, branch: &str, path: &str, content: &str) -> String {
    let r = commit(
        f,
        id,
        json!({ "branch": branch, "start_branch": "main", "commit_message": format!("{branch}: {path}"),
                "actions": [{ "action": "create", "file_path": path, "content": content }] }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["id"].as_str().unwrap().to_string()
}

fn open_mr(f: &Running, id: u64, branch: &str) -> Value {
    let r = gl(
        f,
        "POST",
        &format!("/projects/{id}/merge_requests"),
        json!({ "source_branch": branch, "target_branch": "main", "title": format!("Change {branch}"), "description": "d" }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json()
}

/// `PUT /projects/ID/merge_requests/IID/merge` with `body`.
fn merge(f: &Running, id: u64, iid: impl std::fmt::Display, body: Value) -> Reply {
    gl(
        f,
        "PUT",
        &format!("/projects/{id}/merge_requests/{iid}/merge"),
        body,
    )
}

/// `PUT /projects/ID/merge_requests/IID` with `body`.
fn edit_mr(f: &Running, id: u64, iid: u64, body: Value) -> Reply {
    gl(
        f,
        "PUT",
        &format!("/projects/{id}/merge_requests/{iid}"),
        body,
    )
}

/// `GET /projects/ID/repository/branches/NAME` (`name` URL-encoded).
fn branch(f: &Running, id: u64, name: &str) -> Reply {
    gl(
        f,
        "GET",
        &format!("/projects/{id}/repository/branches/{name}"),
        json!(null),
    )
}

fn deliveries(f: &Running) -> Vec<Value> {
    common::deliveries(f, TOKEN)
}

#[test]
fn users_namespaces_and_projects_are_found_by_id_and_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());

    let me = gl(&f, "GET", "/user", json!(null));
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["username"], "idp-bot");
    assert_eq!(me.json()["id"], 1);
    assert_eq!(me.json()["state"], "active");
    // GitLab also takes a bearer token; a wrong token is refused.
    let bearer = f.request_with(
        &format!("Authorization: Bearer {REVIEWER}"),
        "GET",
        "/api/v4/user",
        "",
    );
    assert_eq!(bearer.json()["username"], "reviewer");
    assert_eq!(call(&f, "wrong", "GET", "/user", json!(null)).status, 401);

    // Any name is a group; a user's login is a user namespace, and not a group.
    let group = gl(&f, "GET", "/namespaces/acme", json!(null)).json();
    assert_eq!(group["kind"], "group");
    assert_eq!(group["full_path"], "acme");
    let id = group["id"].as_u64().unwrap();
    assert_eq!(
        gl(&f, "GET", &format!("/namespaces/{id}"), json!(null)).json()["path"],
        "acme",
        "a namespace is found by its id"
    );
    assert_eq!(gl(&f, "GET", "/groups/acme", json!(null)).json()["id"], id);
    let user = gl(&f, "GET", "/namespaces/idp-bot", json!(null)).json();
    assert_eq!(user["kind"], "user");
    let not_group = gl(&f, "GET", "/groups/idp-bot", json!(null));
    assert_eq!(not_group.status, 404);
    assert_eq!(not_group.json()["message"], "404 Group Not Found");
    assert_eq!(gl(&f, "GET", "/namespaces/999", json!(null)).status, 404);

    let r = gl(
        &f,
        "POST",
        "/projects",
        json!({ "name": "svc", "namespace_id": id, "description": "the service", "visibility": "private",
                "initialize_with_readme": true, "default_branch": "main" }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let p = r.json();
    assert_eq!(p["path_with_namespace"], "acme/svc");
    assert_eq!(p["namespace"]["kind"], "group");
    assert_eq!(p["namespace"]["id"], id);
    assert_eq!(p["default_branch"], "main");
    assert_eq!(p["empty_repo"], false);
    assert_eq!(p["visibility"], "private");
    assert_eq!(
        p["http_url_to_repo"],
        format!("{}/acme/svc.git", f.base_url)
    );
    assert_eq!(p["web_url"], format!("{}/acme/svc", f.base_url));

    let again = gl(
        &f,
        "POST",
        "/projects",
        json!({ "name": "svc", "path": "svc", "namespace_id": id }),
    );
    assert_eq!(again.status, 400, "{again:?}");
    assert_eq!(again.json()["message"]["name"][0], "has already been taken");
    assert_eq!(again.json()["message"]["path"][0], "has already been taken");
    let bad = gl(
        &f,
        "POST",
        "/projects",
        json!({ "name": "ok", "path": "-bad", "namespace_id": id }),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"]["path"].is_array(), "{bad:?}");
    assert_eq!(gl(&f, "POST", "/projects", json!({})).status, 400);

    // By numeric id and by URL-encoded path, the same project.
    let pid = p["id"].as_u64().unwrap();
    let by_id = gl(&f, "GET", &format!("/projects/{pid}"), json!(null)).json();
    let by_path = gl(&f, "GET", "/projects/acme%2Fsvc", json!(null)).json();
    assert_eq!(by_id["path_with_namespace"], "acme/svc");
    assert_eq!(by_id, by_path);
    let missing = gl(&f, "GET", "/projects/acme%2Fnope", json!(null));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "404 Project Not Found");

    // The path comes from the name; no README: an empty project with no default branch yet.
    let empty = gl(
        &f,
        "POST",
        "/projects",
        json!({ "name": "Empty One", "namespace_id": id }),
    )
    .json();
    assert_eq!(empty["path"], "empty-one");
    assert_eq!(empty["name"], "Empty One");
    assert_eq!(empty["empty_repo"], true);
    assert_eq!(empty["default_branch"], Value::Null);
    // Without a namespace, the project is the user's.
    let mine = gl(&f, "POST", "/projects", json!({ "name": "mine" })).json();
    assert_eq!(mine["path_with_namespace"], "idp-bot/mine");
    assert_eq!(mine["namespace"]["kind"], "user");

    let unknown = gl(&f, "GET", "/no/such/route", json!(null));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "404 Not Found");

    // The same repositories through the GitHub shape.
    let gh = f.request(TOKEN, "GET", "/api/v3/repos/acme/svc", "");
    assert_eq!(gh.status, 200);
    assert_eq!(gh.json()["id"], pid);
}

#[test]
fn the_commits_api_makes_branches_and_its_files_are_what_git_sees() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let id = project(&f, "svc");
    let main = branch(&f, id, "main");
    assert_eq!(main.status, 200, "{main:?}");
    let main_sha = main.json()["commit"]["id"].as_str().unwrap().to_string();
    assert_eq!(main.json()["default"], true);

    // A new branch from main: create (text and base64), update.
    let r = commit(
        &f,
        id,
        json!({ "branch": "feature", "start_branch": "main", "commit_message": "first\n\nbody",
                "author_name": "Ann", "author_email": "ann@example.com",
                "actions": [
                    { "action": "create", "file_path": "a.txt", "content": "a\n" },
                    { "action": "create", "file_path": "dir/b.bin", "content": "AAEC/w==", "encoding": "base64" },
                    { "action": "update", "file_path": "README.md", "content": "# svc\nnew\n" },
                ] }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let c = r.json();
    assert_eq!(c["parent_ids"], json!([main_sha]));
    assert_eq!(c["title"], "first");
    assert_eq!(c["author_name"], "Ann");
    assert_eq!(c["committer_name"], "idp-bot");
    assert_eq!(
        c["stats"]["additions"], 2,
        "a.txt and README.md (b.bin is binary): {c}"
    );
    // On top of it: move and delete.
    let r = commit(
        &f,
        id,
        json!({ "branch": "feature", "commit_message": "second", "actions": [
            { "action": "move", "previous_path": "a.txt", "file_path": "c.txt" },
            { "action": "delete", "file_path": "dir/b.bin" },
        ] }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let second = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["parent_ids"], json!([c["id"]]));

    let work = clone(&f, dir.path(), "svc");
    git(&work, &["fetch", "-q", "origin", "feature"]);
    assert_eq!(git(&work, &["rev-parse", "FETCH_HEAD"]), second);
    assert_eq!(
        git(&work, &["ls-tree", "-r", "--name-only", "FETCH_HEAD"]),
        "README.md\nc.txt"
    );
    assert_eq!(git(&work, &["show", "FETCH_HEAD:c.txt"]), "a");
    assert_eq!(git(&work, &["show", "FETCH_HEAD:README.md"]), "# svc\nnew");
    assert_eq!(
        git(&work, &["log", "-1", "--format=%an <%ae>", "FETCH_HEAD~1"]),
        "Ann <ann@example.com>"
    );
    let bin = Command::new("git")
        .args(["show", "FETCH_HEAD~1:dir/b.bin"])
        .current_dir(&work)
        .output()
        .unwrap();
    assert_eq!(bin.stdout, [0, 1, 2, 255]);

    // GitLab's refusals.
    let refused = |body: Value, message: &str| {
        let r = commit(&f, id, body);
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.json()["message"], message, "{r:?}");
    };
    refused(
        json!({ "branch": "feature", "commit_message": "m", "actions": [{ "action": "create", "file_path": "README.md", "content": "x" }] }),
        "A file with this name already exists",
    );
    refused(
        json!({ "branch": "feature", "commit_message": "m", "actions": [{ "action": "update", "file_path": "nope.txt", "content": "x" }] }),
        "A file with this name doesn't exist",
    );
    refused(
        json!({ "branch": "feature", "commit_message": "m", "actions": [{ "action": "delete", "file_path": "nope.txt" }] }),
        "A file with this name doesn't exist",
    );
    refused(
        json!({ "branch": "nowhere", "commit_message": "m", "actions": [{ "action": "create", "file_path": "x", "content": "x" }] }),
        "You can only create or edit files when you are on a branch",
    );
    refused(
        json!({ "branch": "feature", "start_branch": "main", "commit_message": "m", "actions": [{ "action": "create", "file_path": "x", "content": "x" }] }),
        "A branch called 'feature' already exists. Switch to that branch in order to make changes",
    );
    let r = commit(
        &f,
        id,
        json!({ "branch": "feature", "commit_message": "m" }),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "actions is missing");
    // Nothing moved.
    assert_eq!(
        branch(&f, id, "feature").json()["commit"]["id"],
        second.as_str()
    );

    // `force` sets the branch to a new commit on `start_sha`, whatever it held.
    let r = commit(
        &f,
        id,
        json!({ "branch": "feature", "start_sha": main_sha, "force": true, "commit_message": "again",
                "actions": [{ "action": "create", "file_path": "x.txt", "content": "x\n" }] }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json()["parent_ids"], json!([main_sha]));
    git(&work, &["fetch", "-q", "origin", "feature"]);
    assert_eq!(
        git(&work, &["ls-tree", "-r", "--name-only", "FETCH_HEAD"]),
        "README.md\nx.txt"
    );

    // Branch names with slashes, URL-encoded; deleting one.
    branch_with(&f, id, "idp/svc/step", "s.txt", "s\n");
    let b = branch(&f, id, "idp%2Fsvc%2Fstep");
    assert_eq!(b.status, 200, "{b:?}");
    assert_eq!(b.json()["name"], "idp/svc/step");
    assert_eq!(b.json()["protected"], false);
    let d = gl(
        &f,
        "DELETE",
        &format!("/projects/{id}/repository/branches/idp%2Fsvc%2Fstep"),
        json!(null),
    );
    assert_eq!(d.status, 204, "{d:?}");
    let gone = branch(&f, id, "idp%2Fsvc%2Fstep");
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["message"], "404 Branch Not Found");

    // A protected branch takes no commit (and no push).
    let p = gl(
        &f,
        "POST",
        &format!("/projects/{id}/protected_branches"),
        json!({ "name": "main", "push_access_level": 40, "merge_access_level": 40 }),
    );
    assert_eq!(p.status, 201, "{p:?}");
    assert_eq!(p.json()["push_access_levels"][0]["access_level"], 40);
    let again = gl(
        &f,
        "POST",
        &format!("/projects/{id}/protected_branches"),
        json!({ "name": "main" }),
    );
    assert_eq!(again.status, 409, "{again:?}");
    let r = commit(
        &f,
        id,
        json!({ "branch": "main", "commit_message": "m", "actions": [{ "action": "create", "file_path": "y", "content": "y" }] }),
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("You are not allowed to push into this branch")
    );
    std::fs::write(work.join("z.txt"), "z\n").unwrap();
    git(&work, &["add", "z.txt"]);
    git(&work, &["commit", "-q", "-m", "direct"]);
    let push = Command::new("git")
        .args(["push", "origin", "HEAD:main"])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(!push.status.success(), "a push to a protected branch");
}

#[test]
fn the_tree_pages_like_gitlab_and_blobs_and_files_come_back_raw() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let id = project(&f, "data");
    let actions: Vec<Value> = (0..24)
        .map(|i| json!({ "action": "create", "file_path": format!("d{}/f{i:02}.txt", i % 3), "content": format!("file {i}\n") }))
        .collect();
    let r = commit(
        &f,
        id,
        json!({ "branch": "main", "commit_message": "files", "actions": actions }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let sha = r.json()["id"].as_str().unwrap().to_string();

    // 24 files, 3 folders and the README: 28 entries, 10 a page.
    let mut paths = Vec::new();
    let mut page = 1;
    loop {
        let r = gl(
            &f,
            "GET",
            &format!(
                "/projects/{id}/repository/tree?ref={sha}&recursive=true&per_page=10&page={page}"
            ),
            json!(null),
        );
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("x-page"), Some(page.to_string().as_str()));
        assert_eq!(r.header("x-per-page"), Some("10"));
        assert_eq!(r.header("x-total"), Some("28"));
        assert_eq!(r.header("x-total-pages"), Some("3"));
        let link = r.header("link").unwrap_or("").to_string();
        assert!(link.contains("rel=\"first\""), "{link}");
        let entries = r.json();
        for e in entries.as_array().unwrap() {
            paths.push(e["path"].as_str().unwrap().to_string());
            assert!(matches!(e["type"].as_str(), Some("blob" | "tree")));
            assert_eq!(
                e["path"].as_str().unwrap().rsplit('/').next(),
                e["name"].as_str()
            );
        }
        let next = r.header("x-next-page").unwrap().to_string();
        if next.is_empty() {
            assert!(!link.contains("rel=\"next\""), "{link}");
            assert_eq!(entries.as_array().unwrap().len(), 8);
            break;
        }
        assert!(link.contains(&format!("page={next}")), "{link}");
        assert!(link.contains("recursive=true"), "{link}");
        page = next.parse().unwrap();
    }
    assert_eq!(page, 3);
    let work = clone(&f, dir.path(), "data");
    let listed = git(&work, &["ls-tree", "-r", "-t", "--name-only", "HEAD"]);
    assert_eq!(paths.join("\n"), listed, "git's order, every entry once");

    // The default page is 20 entries; not recursive: the top level only.
    let r = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/tree?recursive=true"),
        json!(null),
    );
    assert_eq!(r.json().as_array().unwrap().len(), 20);
    assert_eq!(r.header("x-next-page"), Some("2"));
    let top = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/tree?ref=main"),
        json!(null),
    )
    .json();
    let names: Vec<&str> = top
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["README.md", "d0", "d1", "d2"]);
    let missing = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/tree?ref=no-such-branch"),
        json!(null),
    );
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "404 Tree Not Found");

    // A blob by its id, and a file by its URL-encoded path.
    let blob = git(&work, &["rev-parse", "HEAD:d1/f04.txt"]);
    let raw = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/blobs/{blob}/raw"),
        json!(null),
    );
    assert_eq!((raw.status, raw.body.as_str()), (200, "file 4\n"));
    let file = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/files/d1%2Ff04.txt/raw?ref=main"),
        json!(null),
    );
    assert_eq!((file.status, file.body.as_str()), (200, "file 4\n"));
    let absent = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/files/d1%2Fnope.txt/raw?ref=main"),
        json!(null),
    );
    assert_eq!(absent.status, 404);
    assert_eq!(absent.json()["message"], "404 File Not Found");
    let no_blob = gl(
        &f,
        "GET",
        &format!("/projects/{id}/repository/blobs/{}/raw", "0".repeat(40)),
        json!(null),
    );
    assert_eq!(no_blob.status, 404);
}

#[test]
fn merge_requests_open_once_list_and_merge_with_a_merge_commit_or_a_squash() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let id = project(&f, "svc");
    let head = branch_with(&f, id, "feature", "a.txt", "a\n");
    let r = gl(
        &f,
        "POST",
        &format!("/projects/{id}/merge_requests"),
        json!({ "source_branch": "feature", "target_branch": "main", "title": "Add a", "description": "why", "labels": "idp,step" }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let mr = r.json();
    assert_eq!(mr["iid"], 1);
    assert_eq!(mr["state"], "opened");
    assert_eq!(mr["sha"], head.as_str());
    assert_eq!(mr["labels"], json!(["idp", "step"]));
    assert_eq!(mr["detailed_merge_status"], "mergeable");
    assert_eq!(mr["has_conflicts"], false);
    assert_eq!(mr["author"]["username"], "idp-bot");
    assert_eq!(mr["references"]["full"], "acme/svc!1");
    assert_eq!(
        mr["web_url"],
        format!("{}/acme/svc/-/merge_requests/1", f.base_url)
    );

    // One open merge request per source branch; a branch that does not exist is refused.
    let again = gl(
        &f,
        "POST",
        &format!("/projects/{id}/merge_requests"),
        json!({ "source_branch": "feature", "target_branch": "main", "title": "again" }),
    );
    assert_eq!(again.status, 409, "{again:?}");
    assert_eq!(
        again.json()["message"][0],
        "Another open merge request already exists for this source branch: !1"
    );
    let nowhere = gl(
        &f,
        "POST",
        &format!("/projects/{id}/merge_requests"),
        json!({ "source_branch": "nowhere", "target_branch": "main", "title": "x" }),
    );
    assert_eq!(nowhere.status, 422, "{nowhere:?}");
    let untitled = gl(
        &f,
        "POST",
        &format!("/projects/{id}/merge_requests"),
        json!({ "source_branch": "feature", "target_branch": "main" }),
    );
    assert_eq!(untitled.status, 400);
    assert_eq!(untitled.json()["error"], "title is missing");

    // The store's pull request, seen through the GitHub shape.
    let pull = f.request(TOKEN, "GET", "/api/v3/repos/acme/svc/pulls/1", "");
    assert_eq!(pull.status, 200);
    assert_eq!(pull.json()["head"]["ref"], "feature");
    assert_eq!(pull.json()["title"], "Add a");
    assert_eq!(pull.json()["state"], "open");

    // Listing, filtered and paged.
    branch_with(&f, id, "other", "o.txt", "o\n");
    open_mr(&f, id, "other");
    let all = gl(
        &f,
        "GET",
        &format!(
            "/projects/{id}/merge_requests?state=all&order_by=created_at&sort=desc&per_page=100"
        ),
        json!(null),
    );
    assert_eq!(all.status, 200);
    let iids: Vec<u64> = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["iid"].as_u64().unwrap())
        .collect();
    assert_eq!(iids, [2, 1], "newest first");
    assert_eq!(all.header("x-total"), Some("2"));
    assert_eq!(all.header("x-next-page"), Some(""));
    let by_branch = gl(
        &f,
        "GET",
        &format!("/projects/{id}/merge_requests?source_branch=feature"),
        json!(null),
    )
    .json();
    assert_eq!(by_branch.as_array().unwrap().len(), 1);
    assert_eq!(by_branch[0]["iid"], 1);
    let paged = gl(
        &f,
        "GET",
        "/projects/acme%2Fsvc/merge_requests?per_page=1&page=1",
        json!(null),
    );
    assert_eq!(paged.json().as_array().unwrap().len(), 1);
    assert_eq!(paged.header("x-next-page"), Some("2"));

    // Merging: a stale sha is refused, then a merge commit.
    let stale = merge(&f, id, 1, json!({ "sha": "0".repeat(40) }));
    assert_eq!(stale.status, 409, "{stale:?}");
    assert_eq!(
        stale.json()["message"],
        format!("SHA does not match HEAD of source branch: {head}")
    );
    let merged = merge(&f, id, 1, json!({ "sha": head }));
    assert_eq!(merged.status, 200, "{merged:?}");
    let m = merged.json();
    assert_eq!(m["state"], "merged");
    assert_eq!(m["merged_by"]["username"], "idp-bot");
    let merge_sha = m["merge_commit_sha"].as_str().unwrap().to_string();
    let work = clone(&f, dir.path(), "svc");
    assert_eq!(git(&work, &["rev-parse", "HEAD"]), merge_sha);
    let parents = git(&work, &["log", "-1", "--format=%P", "HEAD"]);
    assert_eq!(parents.split(' ').nth(1), Some(head.as_str()), "{parents}");
    assert_eq!(
        git(&work, &["log", "-1", "--format=%s", "HEAD"]),
        "Merge branch 'feature' into 'main'"
    );
    let pull = f
        .request(TOKEN, "GET", "/api/v3/repos/acme/svc/pulls/1", "")
        .json();
    assert_eq!(pull["merged"], true);
    assert_eq!(pull["merge_commit_sha"], merge_sha.as_str());
    let twice = merge(&f, id, 1, json!({}));
    assert_eq!(twice.status, 405);
    assert_eq!(twice.json()["message"], "405 Method Not Allowed");
    let listed = gl(
        &f,
        "GET",
        &format!("/projects/{id}/merge_requests?state=merged"),
        json!(null),
    )
    .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // A squash: the branch's two commits as one, merged by a merge commit; the source branch
    // removed as asked.
    let first = branch_with(&f, id, "sq", "s1.txt", "1\n");
    let r = commit(
        &f,
        id,
        json!({ "branch": "sq", "commit_message": "two", "actions": [{ "action": "create", "file_path": "s2.txt", "content": "2\n" }] }),
    );
    let last = r.json()["id"].as_str().unwrap().to_string();
    let sq = open_mr(&f, id, "sq");
    let iid = sq["iid"].as_u64().unwrap();
    let r = merge(
        &f,
        id,
        iid,
        json!({ "squash": true, "should_remove_source_branch": true }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let squash = r.json()["squash_commit_sha"].as_str().unwrap().to_string();
    let merge = r.json()["merge_commit_sha"].as_str().unwrap().to_string();
    git(&work, &["pull", "-q", "origin", "main"]);
    assert_eq!(git(&work, &["rev-parse", "HEAD"]), merge);
    assert_eq!(
        git(&work, &["log", "-1", "--format=%P", "HEAD"]),
        format!("{merge_sha} {squash}")
    );
    assert_eq!(
        git(&work, &["log", "-1", "--format=%P", &squash]),
        merge_sha,
        "the squash commit sits on the merge base"
    );
    assert_eq!(
        git(&work, &["ls-tree", "-r", "--name-only", &squash]),
        "README.md\na.txt\ns1.txt\ns2.txt"
    );
    let history = git(&work, &["rev-list", "HEAD"]);
    assert!(!history.contains(&first) && !history.contains(&last));
    let gone = branch(&f, id, "sq");
    assert_eq!(gone.status, 404, "the source branch was removed");
}

#[test]
fn a_conflicting_merge_request_says_so_and_cannot_merge() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let id = project(&f, "svc");
    for b in ["one", "two"] {
        let r = commit(
            &f,
            id,
            json!({ "branch": b, "start_branch": "main", "commit_message": b,
                    "actions": [{ "action": "update", "file_path": "README.md", "content": format!("{b}\n") }] }),
        );
        assert_eq!(r.status, 201, "{r:?}");
    }
    let one = open_mr(&f, id, "one");
    let two = open_mr(&f, id, "two");
    let r = merge(&f, id, &one["iid"], json!({}));
    assert_eq!(r.status, 200, "{r:?}");
    let two = gl(
        &f,
        "GET",
        &format!("/projects/{id}/merge_requests/{}", two["iid"]),
        json!(null),
    )
    .json();
    assert_eq!(two["has_conflicts"], true);
    assert_eq!(two["detailed_merge_status"], "conflict");
    assert_eq!(two["merge_status"], "cannot_be_merged");
    let r = merge(&f, id, &two["iid"], json!({ "sha": two["sha"] }));
    assert_eq!(r.status, 405, "current GitLab: not mergeable: {r:?}");
    let pull = f
        .request(TOKEN, "GET", "/api/v3/repos/acme/svc/pulls/2", "")
        .json();
    assert_eq!(pull["mergeable_state"], "dirty");
}

#[test]
fn an_approval_rule_blocks_a_merge_until_another_user_approves() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let id = project(&f, "svc");
    let r = gl(
        &f,
        "POST",
        &format!("/projects/{id}/approval_rules"),
        json!({ "name": "Reviewers", "approvals_required": 1 }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json()["approvals_required"], 1);
    let taken = gl(
        &f,
        "POST",
        &format!("/projects/{id}/approval_rules"),
        json!({ "name": "Reviewers", "approvals_required": 1 }),
    );
    assert_eq!(taken.status, 400);

    let head = branch_with(&f, id, "change", "c.txt", "c\n");
    let mr = open_mr(&f, id, "change");
    let iid = mr["iid"].as_u64().unwrap();
    assert_eq!(mr["detailed_merge_status"], "not_approved");
    let r = merge(&f, id, iid, json!({ "sha": head }));
    assert_eq!(r.status, 405, "{r:?}");
    let a = gl(
        &f,
        "GET",
        &format!("/projects/{id}/merge_requests/{iid}/approvals"),
        json!(null),
    )
    .json();
    assert_eq!(
        (
            &a["approved"],
            &a["approvals_required"],
            &a["approvals_left"]
        ),
        (&json!(false), &json!(1), &json!(1))
    );

    // The author cannot approve; another user can, once.
    let own = gl(
        &f,
        "POST",
        &format!("/projects/{id}/merge_requests/{iid}/approve"),
        json!({}),
    );
    assert_eq!(own.status, 401, "{own:?}");
    let other = call(
        &f,
        REVIEWER,
        "POST",
        &format!("/projects/{id}/merge_requests/{iid}/approve"),
        json!({ "sha": head }),
    );
    assert_eq!(other.status, 201, "{other:?}");
    assert_eq!(other.json()["approved"], true);
    assert_eq!(
        other.json()["approved_by"][0]["user"]["username"],
        "reviewer"
    );
    let twice = call(
        &f,
        REVIEWER,
        "POST",
        &format!("/projects/{id}/merge_requests/{iid}/approve"),
        json!({}),
    );
    assert_eq!(twice.status, 401);
    // The approval is the store's approving review: the GitHub shape counts it too.
    let reviews = f
        .request(TOKEN, "GET", "/api/v3/repos/acme/svc/pulls/1/reviews", "")
        .json();
    assert_eq!(reviews[0]["state"], "APPROVED");
    assert_eq!(reviews[0]["user"]["login"], "reviewer");
    let mr = gl(
        &f,
        "GET",
        &format!("/projects/{id}/merge_requests/{iid}"),
        json!(null),
    )
    .json();
    assert_eq!(mr["detailed_merge_status"], "mergeable");
    let r = merge(&f, id, iid, json!({ "sha": head }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["state"], "merged");
}

#[test]
fn closing_and_merging_send_gitlab_webhooks_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let id = project(&f, "svc");
    branch_with(&f, id, "dropped", "d.txt", "d\n");
    let mr = open_mr(&f, id, "dropped");
    let iid = mr["iid"].as_u64().unwrap();

    // Editing: labels added, the description changed.
    let r = edit_mr(
        &f,
        id,
        iid,
        json!({ "description": "new words", "add_labels": "one,two" }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["labels"], json!(["one", "two"]));
    assert_eq!(r.json()["description"], "new words");
    let nothing = edit_mr(&f, id, iid, json!({}));
    assert_eq!(nothing.status, 400);
    assert!(deliveries(&f).is_empty(), "no hook for an edit");

    let r = edit_mr(&f, id, iid, json!({ "state_event": "close" }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["state"], "closed");
    assert!(r.json()["closed_at"].is_string());
    assert_eq!(r.json()["detailed_merge_status"], "not_open");
    let d = deliveries(&f);
    assert_eq!(d.len(), 1);
    let h = &d[0]["headers"];
    assert_eq!(h["x-gitlab-event"], "Merge Request Hook");
    assert_eq!(h["x-gitlab-token"], SECRET);
    assert_eq!(h["content-type"], "application/json");
    assert!(h["x-gitlab-event-uuid"].as_str().unwrap().len() == 36);
    let body: Value = serde_json::from_str(d[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["object_kind"], "merge_request");
    assert_eq!(body["event_type"], "merge_request");
    assert_eq!(body["object_attributes"]["action"], "close");
    assert_eq!(body["object_attributes"]["state"], "closed");
    assert_eq!(body["object_attributes"]["iid"], iid);
    assert_eq!(body["object_attributes"]["description"], "new words");
    assert_eq!(body["object_attributes"]["url"], mr["web_url"]);
    assert_eq!(body["project"]["path_with_namespace"], "acme/svc");
    assert_eq!(body["labels"][1]["title"], "two");
    assert_eq!(body["user"]["username"], "idp-bot");
    let pull = f
        .request(
            TOKEN,
            "GET",
            &format!("/api/v3/repos/acme/svc/pulls/{iid}"),
            "",
        )
        .json();
    assert_eq!(pull["state"], "closed");
    assert_eq!(pull["merged"], false);

    // Reopened, then merged: a `merge` hook naming the merge commit.
    let r = edit_mr(&f, id, iid, json!({ "state_event": "reopen" }));
    assert_eq!(r.json()["state"], "opened");
    let r = merge(&f, id, iid, json!({}));
    assert_eq!(r.status, 200, "{r:?}");
    let merge_sha = r.json()["merge_commit_sha"].clone();
    let d = deliveries(&f);
    assert_eq!(d.len(), 2);
    let body: Value = serde_json::from_str(d[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["object_attributes"]["action"], "merge");
    assert_eq!(body["object_attributes"]["state"], "merged");
    assert_eq!(body["object_attributes"]["merge_commit_sha"], merge_sha);
    assert_eq!(
        body["object_attributes"]["last_commit"]["id"],
        r.json()["sha"]
    );
    assert_ne!(
        d[0]["headers"]["x-gitlab-event-uuid"],
        d[1]["headers"]["x-gitlab-event-uuid"]
    );
}

#[test]
fn a_restarted_forge_knows_its_namespaces_and_projects_again() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    // A group with no project yet: known by its path, then by its id after a restart.
    let id = gl(&f, "GET", "/namespaces/platform", json!(null)).json()["id"]
        .as_u64()
        .unwrap();
    let r = gl(
        &f,
        "POST",
        "/projects",
        json!({ "name": "Billing API", "path": "billing", "namespace_id": acme(&f), "visibility": "internal" }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let pid = r.json()["id"].as_u64().unwrap();
    drop(f);

    let f = forge(dir.path());
    let r = gl(
        &f,
        "POST",
        "/projects",
        json!({ "name": "infra", "namespace_id": id }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json()["path_with_namespace"], "platform/infra");
    let p = gl(&f, "GET", &format!("/projects/{pid}"), json!(null)).json();
    assert_eq!(p["name"], "Billing API");
    assert_eq!(p["path"], "billing");
    assert_eq!(p["visibility"], "internal");
    assert_eq!(p["namespace"]["id"], acme(&f));
}
