//! The test forge as any client sees it: the binary's command-line contract, git smart HTTP with
//! the git CLI, and the REST API over plain HTTP. None of this goes through idp.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::git;
use idp_testforge::{Config, Running};
use serde_json::json;

mod common;

const TOKEN: &str = "forge-test-token";
const REVIEWER: &str = "reviewer-token";

fn forge(dir: &Path) -> Running {
    common::forge(dir, TOKEN, REVIEWER, None)
}

fn api(f: &Running, method: &str, path: &str, body: serde_json::Value) -> idp_testforge::Reply {
    f.request(
        TOKEN,
        method,
        &format!("/api/v3{path}"),
        &common::body_text(&body),
    )
}

/// A repo with a README on main, cloned into `dir/work-NAME`; returns the clone.
fn repo_with_clone(f: &Running, dir: &Path, name: &str) -> std::path::PathBuf {
    let r = api(
        f,
        "POST",
        "/orgs/acme/repos",
        json!({ "name": name, "private": true, "auto_init": true }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json()["default_branch"], "main");
    common::clone(f, TOKEN, dir, name, &[])
}

/// Commits `content` to `path` on a new branch and pushes it.
fn push_branch(work: &Path, branch: &str, path: &str, content: &str) {
    git(work, &["checkout", "-q", "-B", branch, "origin/main"]);
    std::fs::write(work.join(path), content).unwrap();
    git(work, &["add", path]);
    git(work, &["commit", "-q", "-m", &format!("{branch}: {path}")]);
    git(work, &["push", "-q", "origin", branch]);
}

fn open_pull(f: &Running, repo: &str, head: &str) -> u64 {
    let r = api(
        f,
        "POST",
        &format!("/repos/acme/{repo}/pulls"),
        json!({ "title": head, "head": head, "base": "main", "body": "b" }),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["number"].as_u64().unwrap()
}

#[test]
fn the_binary_prints_its_base_url_first_and_serves_the_github_api_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idp-testforge"))
        .args(["--listen", "127.0.0.1:0", "--root"])
        .arg(dir.path().join("root"))
        .args(["--token", TOKEN])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET /api/v3/user HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"login\":\"idp-bot\""), "{text}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_bad_token_is_401_for_the_api_and_for_git() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let r = f.request("wrong", "GET", "/api/v3/user", "");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "Bad credentials");
    repo_with_clone(&f, dir.path(), "private");
    let out = Command::new("git")
        .args(["ls-remote"])
        .arg(format!("{}/acme/private.git", f.git_base("wrong")))
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a wrong token read a private repo");
}

#[test]
fn a_pushed_branch_merges_as_a_real_merge_commit_and_the_pull_request_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let work = repo_with_clone(&f, dir.path(), "svc");
    push_branch(&work, "feature", "a.txt", "a\n");
    let n = open_pull(&f, "svc", "feature");
    let p = api(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{n}"),
        json!(null),
    )
    .json();
    assert_eq!(p["mergeable"], true);
    assert_eq!(p["mergeable_state"], "clean");
    let head = git(&work, &["rev-parse", "HEAD"]);
    assert_eq!(p["head"]["sha"], head.as_str());

    // A second open pull request for the same branch is refused, as GitHub does.
    let again = api(
        &f,
        "POST",
        "/repos/acme/svc/pulls",
        json!({ "title": "x", "head": "acme:feature", "base": "main" }),
    );
    assert_eq!(again.status, 422, "{again:?}");

    let stale = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!({ "sha": "0000000000000000000000000000000000000000" }),
    );
    assert_eq!(stale.status, 409, "a merge of a stale head: {stale:?}");
    let m = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!({ "merge_method": "merge", "sha": head }),
    );
    assert_eq!(m.status, 200, "{m:?}");
    let merge_sha = m.json()["sha"].as_str().unwrap().to_string();
    git(&work, &["fetch", "-q", "origin"]);
    assert_eq!(git(&work, &["rev-parse", "origin/main"]), merge_sha);
    let parents = git(&work, &["log", "-1", "--format=%P", "origin/main"]);
    assert_eq!(parents.split(' ').count(), 2, "a merge commit: {parents}");
    assert_eq!(git(&work, &["show", "origin/main:a.txt"]), "a");
    let p = api(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{n}"),
        json!(null),
    )
    .json();
    assert_eq!(p["merged"], true);
    assert_eq!(p["state"], "closed");
    assert_eq!(p["merge_commit_sha"], merge_sha.as_str());
    assert_eq!(
        api(
            &f,
            "GET",
            &format!("/repos/acme/svc/pulls/{n}/merge"),
            json!(null)
        )
        .status,
        204
    );
    // Raw files are served from any ref.
    let raw = f.request("", "GET", "/acme/svc/raw/main/a.txt", "");
    assert_eq!((raw.status, raw.body.as_str()), (200, "a\n"));
}

#[test]
fn squash_makes_one_commit_and_rebase_fast_forwards() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let work = repo_with_clone(&f, dir.path(), "svc");
    push_branch(&work, "sq", "s.txt", "s\n");
    let n = open_pull(&f, "svc", "sq");
    let r = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!({ "merge_method": "squash" }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    git(&work, &["fetch", "-q", "origin"]);
    let parents = git(&work, &["log", "-1", "--format=%P", "origin/main"]);
    assert_eq!(parents.split(' ').count(), 1);

    push_branch(&work, "ff", "f.txt", "f\n");
    let head = git(&work, &["rev-parse", "HEAD"]);
    let n = open_pull(&f, "svc", "ff");
    let r = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!({ "merge_method": "rebase" }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    git(&work, &["fetch", "-q", "origin"]);
    assert_eq!(
        git(&work, &["rev-parse", "origin/main"]),
        head,
        "fast-forward"
    );
}

#[test]
fn conflicting_pull_requests_cannot_merge_and_say_where() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let work = repo_with_clone(&f, dir.path(), "svc");
    push_branch(&work, "one", "README.md", "one\n");
    push_branch(&work, "two", "README.md", "two\n");
    let one = open_pull(&f, "svc", "one");
    let two = open_pull(&f, "svc", "two");
    let r = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{one}/merge"),
        json!({}),
    );
    assert_eq!(r.status, 200);
    let p = api(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{two}"),
        json!(null),
    )
    .json();
    assert_eq!(p["mergeable"], false);
    assert_eq!(p["mergeable_state"], "dirty");
    let r = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{two}/merge"),
        json!({}),
    );
    assert_eq!(r.status, 405);
    assert!(r.json()["message"].as_str().unwrap().contains("README.md"));
}

#[test]
fn a_protected_branch_needs_another_users_approval_and_refuses_direct_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let work = repo_with_clone(&f, dir.path(), "svc");
    let r = api(
        &f,
        "PUT",
        "/repos/acme/svc/branches/main/protection",
        json!({ "required_pull_request_reviews": { "required_approving_review_count": 1 }, "enforce_admins": true, "required_status_checks": null, "restrictions": null }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    push_branch(&work, "change", "c.txt", "c\n");
    let n = open_pull(&f, "svc", "change");
    let p = api(
        &f,
        "GET",
        &format!("/repos/acme/svc/pulls/{n}"),
        json!(null),
    )
    .json();
    assert_eq!(p["mergeable_state"], "blocked");
    let r = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!({}),
    );
    assert_eq!(r.status, 405);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("approving review")
    );

    // The author cannot approve their own pull request; another user can.
    let own = api(
        &f,
        "POST",
        &format!("/repos/acme/svc/pulls/{n}/reviews"),
        json!({ "event": "APPROVE" }),
    );
    assert_eq!(own.status, 422);
    let other = f.request(
        REVIEWER,
        "POST",
        &format!("/api/v3/repos/acme/svc/pulls/{n}/reviews"),
        &json!({ "event": "APPROVE" }).to_string(),
    );
    assert_eq!(other.status, 200, "{other:?}");
    let r = api(
        &f,
        "PUT",
        &format!("/repos/acme/svc/pulls/{n}/merge"),
        json!({}),
    );
    assert_eq!(r.status, 200, "{r:?}");

    // Straight to main: refused by the forge's hook, over git, and over the refs API.
    git(&work, &["checkout", "-q", "-B", "direct", "origin/main"]);
    git(&work, &["pull", "-q", "origin", "main"]);
    std::fs::write(work.join("d.txt"), "d\n").unwrap();
    git(&work, &["add", "d.txt"]);
    git(&work, &["commit", "-q", "-m", "direct"]);
    let out = Command::new("git")
        .args(["push", "origin", "direct:main"])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("protected branch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sha = git(&work, &["rev-parse", "HEAD"]);
    let r = api(
        &f,
        "PATCH",
        "/repos/acme/svc/git/refs/heads/main",
        json!({ "sha": sha, "force": true }),
    );
    assert_eq!(r.status, 422, "{r:?}");
}

#[test]
fn the_git_database_api_builds_commits_and_refuses_an_empty_repository() {
    let dir = tempfile::tempdir().unwrap();
    let f = forge(dir.path());
    let r = api(&f, "POST", "/orgs/acme/repos", json!({ "name": "empty" }));
    assert_eq!(r.status, 201);
    let r = api(
        &f,
        "POST",
        "/repos/acme/empty/git/trees",
        json!({ "tree": [{ "path": "a", "mode": "100644", "type": "blob", "content": "a" }] }),
    );
    assert_eq!(
        r.status, 409,
        "GitHub's answer for an empty repository: {r:?}"
    );

    let work = repo_with_clone(&f, dir.path(), "data");
    let main = api(
        &f,
        "GET",
        "/repos/acme/data/git/ref/heads/main",
        json!(null),
    )
    .json();
    let base = main["object"]["sha"].as_str().unwrap().to_string();
    let commit = api(
        &f,
        "GET",
        &format!("/repos/acme/data/git/commits/{base}"),
        json!(null),
    )
    .json();
    let blob = api(
        &f,
        "POST",
        "/repos/acme/data/git/blobs",
        json!({ "content": "AAEC/w==", "encoding": "base64" }),
    );
    assert_eq!(blob.status, 201);
    let tree = api(
        &f,
        "POST",
        "/repos/acme/data/git/trees",
        json!({ "base_tree": commit["tree"]["sha"], "tree": [
            { "path": "dir/new.txt", "mode": "100644", "type": "blob", "content": "new\n" },
            { "path": "bin.dat", "mode": "100644", "type": "blob", "sha": blob.json()["sha"] },
            { "path": "README.md", "mode": "100644", "type": "blob", "sha": null },
        ] }),
    );
    assert_eq!(tree.status, 201, "{tree:?}");
    let c = api(
        &f,
        "POST",
        "/repos/acme/data/git/commits",
        json!({ "message": "m", "tree": tree.json()["sha"], "parents": [base], "author": { "name": "A", "email": "a@x", "date": "2026-01-02T03:04:05Z" } }),
    );
    assert_eq!(c.status, 201, "{c:?}");
    let sha = c.json()["sha"].as_str().unwrap().to_string();
    let r = api(
        &f,
        "POST",
        "/repos/acme/data/git/refs",
        json!({ "ref": "refs/heads/built", "sha": sha }),
    );
    assert_eq!(r.status, 201);
    let again = api(
        &f,
        "POST",
        "/repos/acme/data/git/refs",
        json!({ "ref": "refs/heads/built", "sha": sha }),
    );
    assert_eq!(again.status, 422, "Reference already exists");

    // The git CLI sees exactly that commit.
    git(&work, &["fetch", "-q", "origin", "built"]);
    assert_eq!(git(&work, &["rev-parse", "FETCH_HEAD"]), sha);
    assert_eq!(git(&work, &["show", "FETCH_HEAD:dir/new.txt"]), "new");
    assert_eq!(
        git(&work, &["log", "-1", "--format=%an %aI", "FETCH_HEAD"]),
        "A 2026-01-02T03:04:05Z"
    );
    let files = git(&work, &["ls-tree", "-r", "--name-only", "FETCH_HEAD"]);
    assert_eq!(files, "bin.dat\ndir/new.txt");
    let listed = api(
        &f,
        "GET",
        &format!("/repos/acme/data/git/trees/{sha}?recursive=1"),
        json!(null),
    )
    .json();
    let paths: Vec<&str> = listed["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["bin.dat", "dir", "dir/new.txt"]);
    let content = api(
        &f,
        "GET",
        "/repos/acme/data/contents/dir/new.txt?ref=built",
        json!(null),
    )
    .json();
    assert_eq!(content["content"], "bmV3Cg==\n");
}

#[test]
fn faults_are_served_in_order_and_the_rate_limit_speaks_githubs_headers() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::new(dir.path().join("root"), TOKEN);
    cfg.rate_limit = Some(5);
    let f = idp_testforge::spawn(cfg).unwrap();
    let r = f.request(
        TOKEN,
        "POST",
        "/_forge/faults",
        &json!([
            { "kind": "status", "status": 429, "retry_after": 7, "path_contains": "/user" },
            { "kind": "drop_before", "path_contains": "/user" },
            { "kind": "status", "status": 502, "method": "POST" },
        ])
        .to_string(),
    );
    assert_eq!(r.status, 204);
    let limited = f.request(TOKEN, "GET", "/api/v3/user", "");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert_eq!(
        f.request(TOKEN, "GET", "/api/v3/user", "").status,
        0,
        "dropped"
    );
    let ok = f.request(TOKEN, "GET", "/api/v3/user", "");
    assert_eq!(ok.status, 200);
    let remaining: u64 = ok.header("x-ratelimit-remaining").unwrap().parse().unwrap();
    assert_eq!(remaining, 2, "five per window, three used");
    assert!(ok.header("x-ratelimit-reset").is_some());
    // The POST-only fault is still queued: a GET does not take it.
    assert_eq!(
        f.request(TOKEN, "GET", "/_forge/faults", "")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    f.request(TOKEN, "GET", "/api/v3/user", "");
    f.request(TOKEN, "GET", "/api/v3/user", "");
    let over = f.request(TOKEN, "GET", "/api/v3/user", "");
    assert_eq!(over.status, 403);
    assert_eq!(over.header("x-ratelimit-remaining"), Some("0"));
    assert!(
        over.json()["message"]
            .as_str()
            .unwrap()
            .contains("rate limit")
    );
    let stats = f.request(TOKEN, "GET", "/_forge/stats", "").json();
    assert_eq!(stats["by_route"]["GET /api/v3/user"], 6);
}

/// The test-only GitHub App key idp's own tests use.
fn app_key() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../idp-core/tests/fixtures/github-app-test-key.pem"),
    )
    .unwrap()
}

/// A JWT for `iss`, signed with the test key, written out here (not idp's code).
fn app_jwt(iss: &str, iat: u64, exp: u64) -> String {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let pem = app_key();
    let body: String = pem
        .split("-----BEGIN RSA PRIVATE KEY-----")
        .nth(1)
        .unwrap()
        .split("-----END RSA PRIVATE KEY-----")
        .next()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let key = ring::signature::RsaKeyPair::from_der(&der).unwrap();
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64(json!({ "iss": iss, "iat": iat, "exp": exp })
            .to_string()
            .as_bytes())
    );
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

#[test]
fn a_github_app_trades_its_jwt_for_an_installation_token_that_acts_as_its_bot_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::new(dir.path().join("root"), TOKEN);
    cfg.apps
        .push(idp_testforge::App::from_private_key_pem(42, 7, "idp-app", &app_key()).unwrap());
    cfg.app_token_ttl_secs = 1;
    let f = idp_testforge::spawn(cfg).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mint = |jwt: &str, installation: u64| {
        f.request_with(
            &format!("Authorization: Bearer {jwt}"),
            "POST",
            &format!("/api/v3/app/installations/{installation}/access_tokens"),
            "",
        )
    };

    let r = mint(&app_jwt("42", now - 60, now + 540), 7);
    assert_eq!(r.status, 201, "{r:?}");
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ghs_"));
    assert!(r.json()["expires_at"].is_string());
    let me = f.request(&token, "GET", "/api/v3/user", "");
    assert_eq!(me.json()["login"], "idp-app[bot]");

    // Another installation, another app, an expired or overlong JWT, a forged signature.
    assert_eq!(mint(&app_jwt("42", now - 60, now + 540), 8).status, 404);
    assert_eq!(mint(&app_jwt("43", now - 60, now + 540), 7).status, 401);
    assert_eq!(mint(&app_jwt("42", now - 700, now - 100), 7).status, 401);
    assert_eq!(mint(&app_jwt("42", now, now + 3600), 7).status, 401);
    let good = app_jwt("42", now - 60, now + 540);
    let forged = format!("{}A", &good[..good.len() - 1]);
    assert_eq!(mint(&forged, 7).status, 401);
    assert_eq!(mint("not-a-jwt", 7).status, 401);

    // The token lasts its time, then it is refused.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(f.request(&token, "GET", "/api/v3/user", "").status, 401);
}
