//! Regression tests for defects found by attacking the platform as a hostile user would. Each
//! test fails without its fix.

use idp_core::blocking::Platform;
use idp_core::{ErrorKind, ServiceRequest};
use std::path::Path;

fn platform_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    dir
}

/// Edits `idp.yaml` of a platform folder: replaces `from` (which must be there) by `to`.
fn edit_idp_yaml(dir: &Path, from: &str, to: &str) {
    let f = dir.join("idp.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains(from), "idp.yaml has no {from:?}");
    std::fs::write(&f, text.replacen(from, to, 1)).unwrap();
}

fn field_of(e: &idp_core::Error) -> String {
    e.context()
        .iter()
        .find(|(k, _)| *k == "field")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn repos(ws: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(ws.join("repos"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn a_service_may_not_take_the_name_of_a_shared_repo() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    for name in ["gitops", "infra"] {
        let e = p
            .run_golden_path(&alice, &ServiceRequest::new(name, "team-payments"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("shares"), "{e}");
        assert!(repos(ws.path()).is_empty(), "{:?}", repos(ws.path()));
    }
    // Also once the shared repos exist.
    p.run_golden_path(
        &alice,
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    for name in ["gitops", "infra"] {
        let e = p
            .run_golden_path(&alice, &ServiceRequest::new(name, "team-payments"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
    // A renamed shared repo is reserved under its new name.
    let dir = platform_dir();
    edit_idp_yaml(
        dir.path(),
        "gitops_repo: gitops",
        "gitops_repo: deployments",
    );
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let e = p
        .run_golden_path(&alice, &ServiceRequest::new("deployments", "team-payments"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[test]
fn two_shared_repos_with_one_name_fail_to_load() {
    let dir = platform_dir();
    edit_idp_yaml(dir.path(), "gitops_repo: gitops", "gitops_repo: infra");
    let ws = tempfile::tempdir().unwrap();
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(field_of(&e), "providers.source_control.infra_repo", "{e}");
    let dir = platform_dir();
    edit_idp_yaml(dir.path(), "infra_repo: infra", "infra_repo: ../x");
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(field_of(&e), "providers.source_control.infra_repo", "{e}");
}

#[test]
fn a_bot_identity_that_would_break_a_commit_fails_to_load() {
    for (field, bot) in [
        ("name", "name: \"idp\\nbot\"\n    email: bot@acme.example"),
        ("name", "name: \"idp <bot>\"\n    email: bot@acme.example"),
        ("name", "name: \"\"\n    email: bot@acme.example"),
        ("email", "name: idp\n    email: \"bot@acme.example>\""),
        ("email", "name: idp\n    email: \"bot\\n@acme.example\""),
        ("email", "name: idp\n    email: nobody"),
    ] {
        let dir = platform_dir();
        edit_idp_yaml(
            dir.path(),
            "name: idp-bot\n    email: idp-bot@acme.example",
            bot,
        );
        let ws = tempfile::tempdir().unwrap();
        let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bot}: {e}");
        assert_eq!(field_of(&e), format!("organization.bot.{field}"), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }
}
