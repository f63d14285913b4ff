//! What the forge's tests share: a forge in a temporary folder, the git CLI, plain HTTP bodies
//! and the webhook deliveries the forge recorded. None of it goes through idp.

// Each test file uses its own part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use idp_testforge::{Config, Running};
use serde_json::Value;

/// A forge rooted in `dir/root`, acting as `idp-bot` with `token`, with a second user
/// `reviewer` (token `reviewer_token`) and, with `secret`, webhook deliveries.
pub fn forge(dir: &Path, token: &str, reviewer_token: &str, secret: Option<&str>) -> Running {
    let mut cfg = Config::new(dir.join("root"), token);
    cfg.users.push(("reviewer".into(), reviewer_token.into()));
    cfg.webhook_secret = secret.map(str::to_string);
    idp_testforge::spawn(cfg).unwrap()
}

/// `git ARGS` in `dir` as `Dev <dev@example.com>`, which must succeed; its output, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A clone of `acme/NAME` (with `git ARGS` before the URL) in `dir/work-NAME`.
pub fn clone(f: &Running, token: &str, dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let work = dir.join(format!("work-{name}"));
    let url = format!("{}/acme/{name}.git", f.git_base(token));
    let mut all = vec!["clone", "-q"];
    all.extend_from_slice(args);
    all.extend([url.as_str(), work.to_str().unwrap()]);
    git(dir, &all);
    work
}

/// A request body: `null` is none.
pub fn body_text(body: &Value) -> String {
    if body.is_null() {
        String::new()
    } else {
        body.to_string()
    }
}

/// The webhook deliveries the forge recorded, oldest first.
pub fn deliveries(f: &Running, token: &str) -> Vec<Value> {
    f.request(token, "GET", "/_forge/deliveries", "")
        .json()
        .as_array()
        .unwrap()
        .clone()
}
