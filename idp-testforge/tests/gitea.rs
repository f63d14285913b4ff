//! The Gitea-shaped API (`/api/v1`) as a client sees it: plain HTTP requests and the git CLI,
//! nothing of idp. The same store is behind the GitHub shape, so what is made here is read
//! back there too.

use std::path::Path;

use base64::Engine as _;
use common::git;
use idp_testforge::{Reply, Running};
use serde_json::{Value, json};

mod common;

const TOKEN: &str = "gitea-test-token";
const REVIEWER: &str = "gitea-reviewer-token";
const SECRET: &str = "gitea-webhook-secret";

fn forge(dir: &Path) -> Running {
    common::forge(dir, TOKEN, REVIEWER, Some(SECRET))
}

/// `METHOD /api/v1{path}` as `token`.
fn call(f: &Running, token: &str, method: &str, path: &str, body: Value) -> Reply {
    f.request(
        token,
        method,
        &format!("/api/v1{path}"),
        &common::body_text(&body),
    )
}

fn v1(f: &Running, method: &str, path: &str, body: Value) -> Reply {
    call(f, TOKEN, method, path, body)
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &str) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(s.replace('\n', ""))
        .unwrap();
    String::from_utf8(raw).unwrap()
}

/// `acme/NAME`, made with a README on `main`.
fn new_repo(f: &Running, name: &str) {
    let r = v1(
        f,
        "POST",
        "/orgs/acme/repos",
        json!({ "name": name, "private": true, "auto_init": true }),
    );
    assert_eq!(r.status, 201, "{r:?}");
}

/// The commit `branch` points at, through the API.
fn head(f: &Running, repo: &str, branch: &str) -> String {
    let r = v1(
        f,
        "GET",
        &format!("/repos/acme/{repo}/branches/{branch}"),
        json!(null),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["commit"]["id"].as_str().unwrap().to_string()
}

/// The blob SHA of `path` on `branch` (from the recursive tree).
fn blob_sha(f: &Running, repo: &str, branch: &str, path: &str) -> String {
    let r = v1(
        f,
        "GET",
        &format!("/repos/acme/{repo}/git/trees/{branch}?recursive=true"),
        json!(null),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["tree"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("{path} is not on {branch}"))["sha"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One commit creating `files` (path, content) on a new branch `branch` from main.
fn commit_on_new_branch(f: &Running, repo: &str, branch: &str, files: &[(&str, &str)]) -> Value {
    let ops: Vec<Value> = files
        .iter()
        .map(|(p, c)| json!({ "operation": "create", "path": p, "content": b64(c) }))
        .collect();
    let r = change_files(
        f,
        repo,
        json!({ "files": ops, "branch": "main", "new_branch": branch, "message": format!("{branch}: change") }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json()
}

/// `POST /repos/acme/REPO/contents` with `body`: one commit of many files.
fn change_files(f: &Running, repo: &str, body: Value) -> Reply {
    v1(f, "POST", &format!("/repos/acme/{repo}/contents"), body)
}

fn open_pull(f: &Running, repo: &str, branch: &str, title: &str) -> u64 {
    let r = v1(
        f,
        "POST",
        &format!("/repos/acme/{repo}/pulls"),
        json!({ "title": title, "head": branch, "base": "main", "body": "why" }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["number"].as_u64().unwrap()
}

/// HMAC-SHA-256 (RFC 2104), written out here again so the check shares no code with the forge.
fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::digest([ipad.as_slice(), msg].concat());
    let outer = Sha256::digest([opad.as_slice(), inner.as_slice()].concat());
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn repositories_are_made_once_and_errors_have_giteas_shape() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let me = v1(&f, "GET", "/user", json!(null));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["login"], "idp-bot");
    assert_eq!(me.json()["id"], 1);

    let r = v1(
        &f,
        "POST",
        "/orgs/acme/repos",
        json!({ "name": "svc", "description": "d", "private": true, "auto_init": true }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let repo = r.json();
    assert_eq!(repo["full_name"], "acme/svc");
    assert_eq!(repo["owner"]["login"], "acme");
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(repo["empty"], false);
    assert_eq!(repo["private"], true);
    assert_eq!(repo["clone_url"], format!("{}/acme/svc.git", f.base_url));
    assert_eq!(repo["url"], format!("{}/api/v1/repos/acme/svc", f.base_url));

    let again = v1(&f, "POST", "/orgs/acme/repos", json!({ "name": "svc" }));
    assert_eq!(again.status, 409, "{again:?}");
    assert_eq!(
        again.json()["message"],
        "The repository with the same name already exists."
    );
    assert_eq!(again.json()["url"], format!("{}/api/swagger", f.base_url));
    for bad in ["bad name", "x.git", ".."] {
        let r = v1(&f, "POST", "/user/repos", json!({ "name": bad }));
        assert_eq!(r.status, 422, "{bad}: {r:?}");
    }
    let mine = v1(
        &f,
        "POST",
        "/user/repos",
        json!({ "name": "own", "default_branch": "trunk" }),
    );
    assert_eq!(mine.status, 201, "{mine:?}");
    assert_eq!(mine.json()["full_name"], "idp-bot/own");
    assert_eq!(mine.json()["empty"], true);
    assert_eq!(mine.json()["default_branch"], "trunk");

    let missing = v1(&f, "GET", "/repos/acme/nope", json!(null));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "The target couldn't be found.");
    assert!(
        missing.json()["url"]
            .as_str()
            .unwrap()
            .ends_with("/api/swagger")
    );
    let got = v1(&f, "GET", "/repos/acme/svc", json!(null));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["id"], repo["id"]);
    let no_branch = v1(&f, "GET", "/repos/acme/svc/branches/nope", json!(null));
    assert_eq!(no_branch.status, 404);
    assert_eq!(
        no_branch.json()["errors"][0],
        "branch does not exist [name: nope]"
    );
}

#[test]
fn change_files_makes_one_commit_of_many_files_and_refuses_what_gitea_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    new_repo(&f, "svc");
    let main = head(&f, "svc", "main");
    let readme = blob_sha(&f, "svc", "main", "README.md");

    // Create, update and delete in one commit, on a new branch whose name has slashes.
    let r = change_files(
        &f,
        "svc",
        json!({
            "branch": "main",
            "new_branch": "idp/svc/step",
            "message": "Step one",
            "author": { "name": "Ada", "email": "ada@example.com" },
            "committer": { "name": "Bot", "email": "bot@example.com" },
            "files": [
                { "operation": "create", "path": "a.txt", "content": b64("a\n") },
                { "operation": "create", "path": "dir/b.txt", "content": b64("b\n") },
                { "operation": "update", "path": "README.md", "content": b64("# new\n"), "sha": readme },
            ],
        }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let v = r.json();
    let c1 = v["commit"]["sha"].as_str().unwrap().to_string();
    assert_eq!(v["commit"]["parents"][0]["sha"], main);
    assert_eq!(v["commit"]["author"]["name"], "Ada");
    assert_eq!(v["commit"]["committer"]["email"], "bot@example.com");
    assert_eq!(v["files"][0]["path"], "a.txt");
    assert_eq!(unb64(v["files"][0]["content"].as_str().unwrap()), "a\n");
    assert_eq!(v["files"][2]["path"], "README.md");
    assert_eq!(v["verification"]["verified"], false);
    // Main did not move; the branch reads the same raw and percent-encoded.
    assert_eq!(head(&f, "svc", "main"), main);
    assert_eq!(head(&f, "svc", "idp/svc/step"), c1);
    assert_eq!(head(&f, "svc", "idp%2Fsvc%2Fstep"), c1);

    // Delete and rename on the branch itself.
    let b = blob_sha(&f, "svc", "idp%2Fsvc%2Fstep", "dir/b.txt");
    let a = blob_sha(&f, "svc", "idp%2Fsvc%2Fstep", "a.txt");
    let r = change_files(
        &f,
        "svc",
        json!({
            "branch": "idp/svc/step",
            "files": [
                { "operation": "delete", "path": "dir/b.txt", "sha": b },
                { "operation": "update", "from_path": "a.txt", "path": "c.txt", "content": b64("c\n"), "sha": a },
            ],
        }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let v = r.json();
    assert_eq!(v["files"][0], Value::Null);
    assert_eq!(v["commit"]["parents"][0]["sha"], c1);
    assert_eq!(v["commit"]["message"], "Update c.txt\nDelete dir/b.txt\n");
    let c2 = v["commit"]["sha"].as_str().unwrap().to_string();

    // What git sees.
    let work = common::clone(&f, TOKEN, dir.path(), "svc", &["-b", "idp/svc/step"]);
    assert_eq!(git(&work, &["rev-parse", "HEAD"]), c2);
    assert_eq!(git(&work, &["rev-list", "--count", "HEAD"]), "3");
    assert_eq!(
        git(&work, &["log", "-1", "--format=%an <%ae>", "HEAD~1"]),
        "Ada <ada@example.com>"
    );
    assert_eq!(
        git(&work, &["log", "-1", "--format=%s", "HEAD~1"]),
        "Step one"
    );
    assert_eq!(std::fs::read_to_string(work.join("c.txt")).unwrap(), "c\n");
    assert_eq!(
        std::fs::read_to_string(work.join("README.md")).unwrap(),
        "# new\n"
    );
    assert!(!work.join("a.txt").exists());
    assert!(!work.join("dir/b.txt").exists());

    // Refusals, none of which commits.
    let change = |body: Value| change_files(&f, "svc", body);
    let create = |p: &str| json!({ "operation": "create", "path": p, "content": b64("x") });
    let cases = [
        (
            json!({ "branch": "main", "new_branch": "idp/svc/step", "files": [create("z.txt")] }),
            422,
            "branch already exists [name: idp/svc/step]",
        ),
        (
            json!({ "branch": "idp/svc/step", "files": [create("c.txt")] }),
            422,
            "repository file already exists [path: c.txt]",
        ),
        (
            json!({ "branch": "idp/svc/step", "files": [{ "operation": "update", "path": "c.txt", "content": b64("y"), "sha": readme }] }),
            422,
            "sha does not match",
        ),
        (
            json!({ "branch": "idp/svc/step", "files": [{ "operation": "update", "path": "c.txt", "content": b64("y") }] }),
            422,
            "a SHA or commit ID must be proved",
        ),
        (
            json!({ "branch": "idp/svc/step", "files": [{ "operation": "delete", "path": "gone.txt", "sha": readme }] }),
            404,
            "object does not exist",
        ),
        (
            json!({ "branch": "nope", "files": [create("z.txt")] }),
            404,
            "branch does not exist [name: nope]",
        ),
        (
            json!({ "branch": "main", "files": [create(".git/config")] }),
            422,
            "malformed path",
        ),
    ];
    for (body, status, message) in cases {
        let r = change(body.clone());
        assert_eq!(r.status, status, "{body}: {r:?}");
        assert!(
            r.json()["message"].as_str().unwrap().contains(message),
            "{body}: {r:?}"
        );
    }
    assert_eq!(head(&f, "svc", "idp/svc/step"), c2);
    assert_eq!(head(&f, "svc", "main"), main);

    // Without a branch, the default one.
    let r = change(json!({ "files": [create("top.txt")] }));
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json()["commit"]["message"], "Add top.txt\n");
    assert_eq!(
        head(&f, "svc", "main"),
        r.json()["commit"]["sha"].as_str().unwrap()
    );
}

#[test]
fn an_empty_repository_takes_creates_only_and_its_first_branch_becomes_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let r = v1(&f, "POST", "/orgs/acme/repos", json!({ "name": "empty" }));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["empty"], true);
    let update = change_files(
        &f,
        "empty",
        json!({ "files": [{ "operation": "update", "path": "a", "content": b64("a"), "sha": "0000000000000000000000000000000000000000" }] }),
    );
    assert_eq!(update.status, 404, "{update:?}");
    let r = change_files(
        &f,
        "empty",
        json!({ "new_branch": "develop", "files": [{ "operation": "create", "path": "a", "content": b64("a") }] }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json()["commit"]["parents"], json!([]));
    let repo = v1(&f, "GET", "/repos/acme/empty", json!(null)).json();
    assert_eq!(repo["empty"], false);
    assert_eq!(repo["default_branch"], "develop");
    let work = common::clone(&f, TOKEN, dir.path(), "empty", &[]);
    assert_eq!(git(&work, &["branch", "--show-current"]), "develop");
}

#[test]
fn trees_page_as_gitea_pages_them_and_blobs_and_raw_files_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    new_repo(&f, "svc");
    let files = [
        ("k8s/base/deploy.yaml", "kind: Deployment\n"),
        ("k8s/base/svc.yaml", "kind: Service\n"),
        ("src/main.py", "print('hi')\n"),
        ("bin.dat", "\u{1}\u{2}binary"),
    ];
    let v = commit_on_new_branch(&f, "svc", "idp/svc/files", &files);
    let commit = v["commit"]["sha"].as_str().unwrap().to_string();
    let tree_sha = v["commit"]["tree"]["sha"].as_str().unwrap().to_string();

    let all = v1(
        &f,
        "GET",
        "/repos/acme/svc/git/trees/idp%2Fsvc%2Ffiles?recursive=true",
        json!(null),
    );
    assert_eq!(all.status, 200, "{all:?}");
    let all = all.json();
    // Gitea 1.22 answers with the commit it resolved.
    assert_eq!(all["sha"], commit);
    assert_eq!(all["truncated"], false);
    let entries = all["tree"].as_array().unwrap().clone();
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "README.md",
            "bin.dat",
            "k8s",
            "k8s/base",
            "k8s/base/deploy.yaml",
            "k8s/base/svc.yaml",
            "src",
            "src/main.py"
        ]
    );
    assert_eq!(all["total_count"], 8);
    let k8s = &entries[2];
    assert_eq!(k8s["type"], "tree");
    assert_eq!(k8s["mode"], "040000");
    assert!(k8s["url"].as_str().unwrap().contains("/git/trees/"));
    let deploy = &entries[4];
    assert_eq!(deploy["type"], "blob");
    assert_eq!(deploy["mode"], "100644");
    assert_eq!(deploy["size"], 17);

    // Pages of 3: every page says truncated (Gitea 1.22), past the end there is no tree.
    let mut paged = Vec::new();
    for page in 1..=3 {
        let r = v1(
            &f,
            "GET",
            &format!("/repos/acme/svc/git/trees/{commit}?recursive=1&per_page=3&page={page}"),
            json!(null),
        )
        .json();
        assert_eq!(r["truncated"], true, "page {page}");
        assert_eq!(r["page"], page);
        assert_eq!(r["total_count"], 8);
        paged.extend(r["tree"].as_array().unwrap().clone());
    }
    assert_eq!(paged, entries);
    let past = v1(
        &f,
        "GET",
        &format!("/repos/acme/svc/git/trees/{commit}?recursive=1&per_page=3&page=4"),
        json!(null),
    )
    .json();
    assert_eq!(past["tree"], Value::Null);
    assert_eq!(past["truncated"], false);

    // The root tree by its own SHA, not recursive.
    let top = v1(
        &f,
        "GET",
        &format!("/repos/acme/svc/git/trees/{tree_sha}"),
        json!(null),
    )
    .json();
    assert_eq!(top["sha"], tree_sha);
    assert_eq!(top["tree"].as_array().unwrap().len(), 4);

    let unknown = v1(
        &f,
        "GET",
        "/repos/acme/svc/git/trees/0123456789abcdef0123456789abcdef01234567",
        json!(null),
    );
    assert_eq!(unknown.status, 400, "{unknown:?}");
    assert!(
        unknown.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("sha not found")
    );

    for (path, content) in files {
        let sha = entries.iter().find(|e| e["path"] == path).unwrap()["sha"]
            .as_str()
            .unwrap();
        let b = v1(
            &f,
            "GET",
            &format!("/repos/acme/svc/git/blobs/{sha}"),
            json!(null),
        );
        assert_eq!(b.status, 200, "{b:?}");
        assert_eq!(b.json()["encoding"], "base64");
        assert_eq!(b.json()["size"], content.len());
        assert_eq!(unb64(b.json()["content"].as_str().unwrap()), content);
    }
    let no_blob = v1(
        &f,
        "GET",
        "/repos/acme/svc/git/blobs/0123456789abcdef0123456789abcdef01234567",
        json!(null),
    );
    assert_eq!(no_blob.status, 400);

    let raw = f.request(
        TOKEN,
        "GET",
        "/api/v1/repos/acme/svc/raw/src/main.py?ref=idp/svc/files",
        "",
    );
    assert_eq!(raw.status, 200, "{raw:?}");
    assert_eq!(raw.body, "print('hi')\n");
    let raw = f.request(
        TOKEN,
        "GET",
        "/api/v1/repos/acme/svc/raw/idp/svc/files/k8s/base/svc.yaml",
        "",
    );
    assert_eq!(raw.status, 200, "{raw:?}");
    assert_eq!(raw.body, "kind: Service\n");
    let raw = f.request(TOKEN, "GET", "/api/v1/repos/acme/svc/raw/README.md", "");
    assert_eq!(raw.status, 200);
    assert!(raw.body.starts_with("# svc"));
    let missing = f.request(
        TOKEN,
        "GET",
        "/api/v1/repos/acme/svc/raw/src/main.py?ref=main",
        "",
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn pull_requests_open_once_page_with_giteas_headers_and_are_the_github_shapes_too() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    new_repo(&f, "svc");
    let label = v1(
        &f,
        "POST",
        "/repos/acme/svc/labels",
        json!({ "name": "idp", "color": "#00AABB", "description": "Opened by idp" }),
    );
    assert_eq!(label.status, 201, "{label:?}");
    assert_eq!(label.json()["color"], "00aabb");
    let label_id = label.json()["id"].as_u64().unwrap();
    let bad = v1(
        &f,
        "POST",
        "/repos/acme/svc/labels",
        json!({ "name": "x", "color": "blue" }),
    );
    assert_eq!(bad.status, 422);
    let labels = v1(
        &f,
        "GET",
        "/repos/acme/svc/labels?limit=50&page=1",
        json!(null),
    );
    assert_eq!(labels.json().as_array().unwrap().len(), 1);
    assert_eq!(labels.header("x-total-count"), Some("1"));

    for i in 1..=3 {
        commit_on_new_branch(
            &f,
            "svc",
            &format!("idp/step-{i}"),
            &[(&format!("f{i}.txt"), "x\n")],
        );
    }
    let r = v1(
        &f,
        "POST",
        "/repos/acme/svc/pulls",
        json!({ "title": "Step 1", "head": "idp/step-1", "base": "main", "body": "b", "labels": [label_id, 999_999] }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let p = r.json();
    assert_eq!(p["number"], 1);
    assert_eq!(p["state"], "open");
    assert_eq!(p["mergeable"], true);
    assert_eq!(p["merged"], false);
    assert_eq!(p["user"]["login"], "idp-bot");
    assert_eq!(p["head"]["ref"], "idp/step-1");
    assert_eq!(p["head"]["sha"], head(&f, "svc", "idp/step-1"));
    assert_eq!(p["base"]["ref"], "main");
    assert_eq!(p["base"]["repo"]["full_name"], "acme/svc");
    assert_eq!(
        p["labels"],
        json!([{
            "id": label_id, "name": "idp", "exclusive": false, "is_archived": false, "color": "00aabb",
            "description": "Opened by idp",
            "url": format!("{}/api/v1/repos/acme/svc/labels/{label_id}", f.base_url),
        }])
    );
    assert_eq!(p["html_url"], format!("{}/acme/svc/pulls/1", f.base_url));
    assert_eq!(p["merge_base"], head(&f, "svc", "main"));

    let again = v1(
        &f,
        "POST",
        "/repos/acme/svc/pulls",
        json!({ "title": "Again", "head": "idp/step-1", "base": "main" }),
    );
    assert_eq!(again.status, 409, "{again:?}");
    assert!(
        again.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("pull request already exists for these targets")
    );
    let same = v1(
        &f,
        "POST",
        "/repos/acme/svc/pulls",
        json!({ "title": "t", "head": "main", "base": "main" }),
    );
    assert_eq!(same.status, 422);
    let missing = v1(
        &f,
        "POST",
        "/repos/acme/svc/pulls",
        json!({ "title": "t", "head": "nope", "base": "main" }),
    );
    assert_eq!(missing.status, 404);
    open_pull(&f, "svc", "idp/step-2", "Step 2");
    open_pull(&f, "svc", "idp/step-3", "Step 3");

    // Newest first, two a page.
    let page1 = v1(
        &f,
        "GET",
        "/repos/acme/svc/pulls?state=open&limit=2",
        json!(null),
    );
    assert_eq!(page1.status, 200);
    let numbers: Vec<u64> = page1
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2]);
    assert_eq!(page1.header("x-total-count"), Some("3"));
    let api = format!("{}/api/v1/repos/acme/svc/pulls", f.base_url);
    assert_eq!(
        page1.header("link"),
        Some(format!("<{api}?limit=2&page=2&state=open>; rel=\"next\",<{api}?limit=2&page=2&state=open>; rel=\"last\"").as_str())
    );
    let page2 = v1(
        &f,
        "GET",
        "/repos/acme/svc/pulls?state=open&limit=2&page=2",
        json!(null),
    );
    let numbers: Vec<u64> = page2
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1]);
    assert_eq!(
        page2.header("link"),
        Some(format!("<{api}?limit=2&page=1&state=open>; rel=\"first\",<{api}?limit=2&page=1&state=open>; rel=\"prev\"").as_str())
    );

    // The same pull request through the GitHub shape.
    let gh = f.request(TOKEN, "GET", "/api/v3/repos/acme/svc/pulls/1", "");
    assert_eq!(gh.status, 200, "{gh:?}");
    assert_eq!(gh.json()["title"], "Step 1");
    assert_eq!(gh.json()["head"]["ref"], "idp/step-1");
    assert_eq!(gh.json()["labels"][0]["name"], "idp");

    // Edited (201, as Gitea answers), then closed; a closed one lists as closed.
    let edited = v1(
        &f,
        "PATCH",
        "/repos/acme/svc/pulls/2",
        json!({ "title": "Step two", "labels": [] }),
    );
    assert_eq!(edited.status, 201, "{edited:?}");
    assert_eq!(edited.json()["title"], "Step two");
    let added = v1(
        &f,
        "POST",
        "/repos/acme/svc/issues/2/labels",
        json!({ "labels": [label_id] }),
    );
    assert_eq!(added.status, 200, "{added:?}");
    assert_eq!(added.json()[0]["name"], "idp");
    let closed = v1(
        &f,
        "PATCH",
        "/repos/acme/svc/pulls/2",
        json!({ "state": "closed" }),
    );
    assert_eq!(closed.status, 201, "{closed:?}");
    assert_eq!(closed.json()["state"], "closed");
    assert_eq!(closed.json()["merged"], false);
    assert!(closed.json()["closed_at"].is_string());
    let list = v1(&f, "GET", "/repos/acme/svc/pulls?state=closed", json!(null)).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["number"], 2);
    assert_eq!(
        f.request(TOKEN, "GET", "/api/v3/repos/acme/svc/pulls/2", "")
            .json()["state"],
        "closed"
    );
    let merge_closed = v1(
        &f,
        "POST",
        "/repos/acme/svc/pulls/2/merge",
        json!({ "Do": "merge" }),
    );
    assert_eq!(merge_closed.status, 404, "{merge_closed:?}");

    // The close was delivered, signed as Gitea signs.
    let d = common::deliveries(&f, TOKEN).pop().unwrap();
    let body = d["body"].as_str().unwrap();
    assert_eq!(d["headers"]["x-gitea-event"], "pull_request");
    assert_signed(&d);
    assert_eq!(
        d["headers"]["x-forgejo-signature"],
        d["headers"]["x-gitea-signature"]
    );
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["action"], "closed");
    assert_eq!(payload["number"], 2);
    assert_eq!(payload["pull_request"]["merged"], false);
    assert_eq!(payload["repository"]["full_name"], "acme/svc");
    assert_eq!(payload["sender"]["login"], "idp-bot");
}

/// `POST /repos/acme/svc/pulls/{n}/merge` with `body`.
fn merge(f: &Running, n: u64, body: Value) -> Reply {
    v1(f, "POST", &format!("/repos/acme/svc/pulls/{n}/merge"), body)
}

/// Pull request `n` of `acme/svc`.
fn pull(f: &Running, n: u64) -> Value {
    v1(f, "GET", &format!("/repos/acme/svc/pulls/{n}"), json!(null)).json()
}

/// A review of pull request `n` of `acme/svc`, posted as `token`.
fn review(f: &Running, token: &str, n: u64, body: Value) -> Reply {
    call(
        f,
        token,
        "POST",
        &format!("/repos/acme/svc/pulls/{n}/reviews"),
        body,
    )
}

/// Each delivery is signed as Gitea signs: the hex HMAC-SHA-256 of its body.
fn assert_signed(d: &Value) {
    let body = d["body"].as_str().unwrap();
    assert_eq!(
        d["headers"]["x-gitea-signature"],
        hmac_hex(SECRET.as_bytes(), body.as_bytes())
    );
}

/// A pull request for a new branch holding `path` = `content`, opened; its number.
fn pull_for(f: &Running, repo: &str, branch: &str, path: &str, content: &str) -> u64 {
    commit_on_new_branch(f, repo, branch, &[(path, content)]);
    open_pull(f, repo, branch, &format!("Add {path}"))
}

/// Moves main on with a merged pull request adding `path`.
fn advance_main(f: &Running, repo: &str, branch: &str, path: &str) {
    let n = pull_for(f, repo, branch, path, "other\n");
    let r = v1(
        f,
        "POST",
        &format!("/repos/acme/{repo}/pulls/{n}/merge"),
        json!({ "Do": "merge" }),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn each_merge_style_lands_on_the_base_as_gitea_lands_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    new_repo(&f, "svc");
    let work = common::clone(&f, TOKEN, dir.path(), "svc", &[]);
    let fetch = || {
        git(&work, &["fetch", "-q", "origin"]);
    };
    let parents = |rev: &str| -> Vec<String> {
        git(&work, &["rev-list", "--parents", "-n", "1", rev])
            .split(' ')
            .skip(1)
            .map(str::to_string)
            .collect()
    };

    // merge: a merge commit of base and head, titled as Gitea titles it.
    let n = pull_for(&f, "svc", "b-merge", "m.txt", "m\n");
    let (base, tip) = (head(&f, "svc", "main"), head(&f, "svc", "b-merge"));
    let stale = merge(&f, n, json!({ "Do": "merge", "head_commit_id": base }));
    assert_eq!(stale.status, 409, "{stale:?}");
    assert_eq!(stale.json()["message"], "head out of date");
    let bad = merge(&f, n, json!({ "Do": "octopus" }));
    assert_eq!(bad.status, 422);
    let not_yet = v1(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!(null),
    );
    assert_eq!(not_yet.status, 404);
    let r = merge(
        &f,
        n,
        json!({ "Do": "merge", "head_commit_id": tip, "MergeMessageField": "More words." }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, "");
    fetch();
    assert_eq!(parents("origin/main"), [base.clone(), tip.clone()]);
    assert_eq!(
        git(&work, &["log", "-1", "--format=%B", "origin/main"]),
        format!("Merge pull request 'Add m.txt' (#{n}) from b-merge into main\n\nMore words.")
    );
    let p = pull(&f, n);
    assert_eq!(p["merged"], true);
    assert_eq!(p["state"], "closed");
    assert_eq!(p["merge_commit_sha"], head(&f, "svc", "main"));
    assert_eq!(p["merged_by"]["login"], "idp-bot");
    assert_eq!(
        v1(
            &f,
            "GET",
            &format!("/repos/acme/svc/pulls/{n}/merge"),
            json!(null)
        )
        .status,
        204
    );
    let twice = merge(&f, n, json!({ "Do": "merge" }));
    assert_eq!(twice.status, 405, "{twice:?}");
    let reopen = v1(
        &f,
        "PATCH",
        &format!("/repos/acme/svc/pulls/{n}"),
        json!({ "state": "open" }),
    );
    assert_eq!(reopen.status, 412, "{reopen:?}");

    // squash: one commit on the base, the poster's, titled "TITLE (#N)"; the branch deleted.
    let n = pull_for(&f, "svc", "b-squash", "s.txt", "s\n");
    let base = head(&f, "svc", "main");
    let r = merge(
        &f,
        n,
        json!({ "Do": "squash", "delete_branch_after_merge": true }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    fetch();
    assert_eq!(parents("origin/main"), [base]);
    assert_eq!(
        git(&work, &["log", "-1", "--format=%s|%an", "origin/main"]),
        format!("Add s.txt (#{n})|idp-bot")
    );
    assert_eq!(git(&work, &["show", "origin/main:s.txt"]), "s");
    assert_eq!(
        v1(&f, "GET", "/repos/acme/svc/branches/b-squash", json!(null)).status,
        404
    );
    let p = pull(&f, n);
    assert_eq!(p["head"]["ref"], format!("refs/pull/{n}/head"));
    assert_eq!(p["head"]["label"], "b-squash");

    // rebase onto a base that moved: the head's commit replayed, no merge commit.
    let n = pull_for(&f, "svc", "b-rebase", "r.txt", "r\n");
    let tip = head(&f, "svc", "b-rebase");
    advance_main(&f, "svc", "b-other-1", "o1.txt");
    let base = head(&f, "svc", "main");
    let r = merge(&f, n, json!({ "Do": "rebase" }));
    assert_eq!(r.status, 200, "{r:?}");
    fetch();
    assert_eq!(parents("origin/main"), std::slice::from_ref(&base));
    assert_ne!(head(&f, "svc", "main"), tip);
    assert_eq!(
        git(&work, &["log", "-1", "--format=%s", "origin/main"]),
        "b-rebase: change"
    );
    assert_eq!(git(&work, &["show", "origin/main:r.txt"]), "r");
    assert_eq!(git(&work, &["show", "origin/main:o1.txt"]), "other");

    // rebase-merge: replayed, then a merge commit of them.
    let n = pull_for(&f, "svc", "b-rebase-merge", "rm.txt", "rm\n");
    let tip = head(&f, "svc", "b-rebase-merge");
    advance_main(&f, "svc", "b-other-2", "o2.txt");
    let base = head(&f, "svc", "main");
    let r = merge(&f, n, json!({ "Do": "rebase-merge" }));
    assert_eq!(r.status, 200, "{r:?}");
    fetch();
    let ps = parents("origin/main");
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0], base);
    assert_ne!(ps[1], tip);
    assert_eq!(parents(&ps[1]), [base]);

    // fast-forward-only: refused (as a 500, which Gitea does not map) once the base moved on,
    // then the base moves to the head.
    let n = pull_for(&f, "svc", "b-ff", "ff.txt", "ff\n");
    let tip = head(&f, "svc", "b-ff");
    advance_main(&f, "svc", "b-other-3", "o3.txt");
    let r = merge(&f, n, json!({ "Do": "fast-forward-only" }));
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(head(&f, "svc", "b-ff"), tip);
    let n = pull_for(&f, "svc", "b-ff-2", "ff2.txt", "ff\n");
    let tip = head(&f, "svc", "b-ff-2");
    let r = merge(&f, n, json!({ "Do": "fast-forward-only" }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(head(&f, "svc", "main"), tip);
    let p = pull(&f, n);
    assert_eq!(p["merge_commit_sha"], tip);

    // Every merge was delivered as Gitea delivers one: closed, merged.
    let deliveries = common::deliveries(&f, TOKEN);
    let merged: Vec<Value> = deliveries
        .iter()
        .map(|d| serde_json::from_str::<Value>(d["body"].as_str().unwrap()).unwrap())
        .filter(|p| p["pull_request"]["merged"] == true)
        .collect();
    assert_eq!(merged.len(), 8);
    assert!(merged.iter().all(|p| p["action"] == "closed"));
    deliveries.iter().for_each(assert_signed);
}

#[test]
fn conflicts_and_missing_approvals_block_a_merge_until_a_reviewer_approves() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    new_repo(&f, "svc");

    // Two pull requests writing the same file: once one merges, the other cannot.
    let first = pull_for(&f, "svc", "one", "same.txt", "one\n");
    let second = pull_for(&f, "svc", "two", "same.txt", "two\n");
    let r = merge(&f, first, json!({ "Do": "merge" }));
    assert_eq!(r.status, 200, "{r:?}");
    let p = pull(&f, second);
    assert_eq!(p["mergeable"], false);
    let main = head(&f, "svc", "main");
    let r = merge(&f, second, json!({ "Do": "merge" }));
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.json()["message"], "Please try again later");
    assert_eq!(head(&f, "svc", "main"), main);

    // One approval required on main.
    let rule = v1(
        &f,
        "POST",
        "/repos/acme/svc/branch_protections",
        json!({ "branch_name": "main", "required_approvals": 1, "enable_push": false }),
    );
    assert_eq!(rule.status, 201, "{rule:?}");
    assert_eq!(rule.json()["rule_name"], "main");
    assert_eq!(rule.json()["required_approvals"], 1);
    let again = v1(
        &f,
        "POST",
        "/repos/acme/svc/branch_protections",
        json!({ "rule_name": "main" }),
    );
    assert_eq!(again.status, 403);
    let rules = v1(&f, "GET", "/repos/acme/svc/branch_protections", json!(null)).json();
    assert_eq!(rules.as_array().unwrap().len(), 1);
    let branch = v1(&f, "GET", "/repos/acme/svc/branches/main", json!(null)).json();
    assert_eq!(branch["protected"], true);
    assert_eq!(branch["required_approvals"], 1);
    // Through the GitHub shape too.
    let gh = f.request(
        TOKEN,
        "GET",
        "/api/v3/repos/acme/svc/branches/main/protection",
        "",
    );
    assert_eq!(gh.status, 200, "{gh:?}");
    assert_eq!(
        gh.json()["required_pull_request_reviews"]["required_approving_review_count"],
        1
    );

    // No commit lands on main but by a merge.
    let direct = change_files(
        &f,
        "svc",
        json!({ "branch": "main", "files": [{ "operation": "create", "path": "x", "content": b64("x") }] }),
    );
    assert_eq!(direct.status, 403, "{direct:?}");
    assert_eq!(
        v1(&f, "DELETE", "/repos/acme/svc/branches/main", json!(null)).status,
        403
    );

    let n = pull_for(&f, "svc", "three", "three.txt", "3\n");
    let blocked = merge(&f, n, json!({ "Do": "merge" }));
    assert_eq!(blocked.status, 405, "{blocked:?}");
    assert_eq!(blocked.json()["message"], "Does not have enough approvals");
    let own = review(&f, TOKEN, n, json!({ "event": "APPROVED", "body": "" }));
    assert_eq!(own.status, 422, "{own:?}");
    assert_eq!(
        own.json()["message"],
        "approve your own pull is not allowed"
    );
    let comment = review(&f, REVIEWER, n, json!({ "event": "COMMENT" }));
    assert_eq!(comment.status, 422, "{comment:?}");
    let changes = review(
        &f,
        REVIEWER,
        n,
        json!({ "event": "REQUEST_CHANGES", "body": "no" }),
    );
    assert_eq!(changes.status, 200, "{changes:?}");
    assert_eq!(changes.json()["state"], "REQUEST_CHANGES");
    let approve = review(
        &f,
        REVIEWER,
        n,
        json!({ "event": "APPROVED", "body": "ok" }),
    );
    assert_eq!(approve.status, 200, "{approve:?}");
    let review = approve.json();
    assert_eq!(review["state"], "APPROVED");
    assert_eq!(review["user"]["login"], "reviewer");
    assert_eq!(review["commit_id"], head(&f, "svc", "three"));
    assert_eq!(review["official"], true);
    assert_eq!(review["stale"], false);
    let reviews = v1(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{n}/reviews"),
        json!(null),
    )
    .json();
    assert_eq!(reviews.as_array().unwrap().len(), 2);
    // The GitHub shape sees the same approval.
    let gh = f
        .request(
            TOKEN,
            "GET",
            &format!("/api/v3/repos/acme/svc/pulls/{n}/reviews"),
            "",
        )
        .json();
    assert_eq!(gh[1]["state"], "APPROVED");

    let r = merge(&f, n, json!({ "Do": "merge" }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(pull(&f, n)["merged"], true);

    // Branches: a merged head deletes, a missing one is 404, the default one is kept.
    assert_eq!(
        v1(&f, "DELETE", "/repos/acme/svc/branches/three", json!(null)).status,
        204
    );
    assert_eq!(
        v1(&f, "DELETE", "/repos/acme/svc/branches/three", json!(null)).status,
        404
    );
    assert_eq!(
        v1(
            &f,
            "DELETE",
            "/repos/acme/svc/branch_protections/main",
            json!(null)
        )
        .status,
        204
    );
    let default = v1(&f, "DELETE", "/repos/acme/svc/branches/main", json!(null));
    assert_eq!(default.status, 403);
    assert_eq!(default.json()["message"], "can not delete default branch");
}

#[test]
fn a_pull_request_opened_through_github_reads_through_gitea() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    new_repo(&f, "svc");
    commit_on_new_branch(&f, "svc", "gh", &[("gh.txt", "gh\n")]);
    let r = f.request(
        TOKEN,
        "POST",
        "/api/v3/repos/acme/svc/pulls",
        &json!({ "title": "From GitHub", "head": "gh", "base": "main" }).to_string(),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let n = r.json()["number"].as_u64().unwrap();
    let p = v1(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{n}"),
        json!(null),
    );
    assert_eq!(p.status, 200);
    assert_eq!(p.json()["title"], "From GitHub");
    let dup = v1(
        &f,
        "POST",
        "/repos/acme/svc/pulls",
        json!({ "title": "t", "head": "gh", "base": "main" }),
    );
    assert_eq!(dup.status, 409);
}
