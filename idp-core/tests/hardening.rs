//! Regression tests for defects found by attacking the platform as a hostile user would. Each
//! test fails without its fix.

mod common;
use common::{field_of, unfreeze};
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

#[test]
fn a_policy_file_the_loader_would_skip_is_refused() {
    let forbid = "forbid (principal, action, resource);\n";
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("deny.cedar"), forbid).unwrap();
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant); 4] = [
        ("policies/deny.cedar", |pol, out| {
            std::os::unix::fs::symlink(out.join("deny.cedar"), pol.join("deny.cedar")).unwrap()
        }),
        ("policies/.deny.cedar", |pol, _| {
            std::fs::write(
                pol.join(".deny.cedar"),
                "forbid (principal, action, resource);",
            )
            .unwrap()
        }),
        ("policies/deny.cedar.txt", |pol, _| {
            std::fs::write(
                pol.join("deny.cedar.txt"),
                "forbid (principal, action, resource);",
            )
            .unwrap()
        }),
        ("policies/team/deny", |pol, _| {
            std::fs::create_dir(pol.join("team")).unwrap();
            std::fs::write(
                pol.join("team/deny"),
                "forbid (principal, action, resource);",
            )
            .unwrap()
        }),
    ];
    for (file, plant) in cases {
        let dir = platform_dir();
        plant(&dir.path().join("policies"), outside.path());
        let ws = tempfile::tempdir().unwrap();
        let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{file}: {e}");
        assert!(
            e.context().iter().any(|(k, v)| *k == "file" && *v == file),
            "{file}: {e} {:?}",
            e.context()
        );
    }
    // Hidden folders elsewhere (a checkout's .git) are still fine.
    let dir = platform_dir();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let ws = tempfile::tempdir().unwrap();
    Platform::from_dir(dir.path(), ws.path()).unwrap();
}

#[test]
fn a_second_document_for_one_user_fails_to_load() {
    let dir = platform_dir();
    let org = dir.path().join("org/org.yaml");
    let mut text = std::fs::read_to_string(&org).unwrap();
    text.push_str(
        "\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: mallory\nspec:\n  memberOf: [platform-team]\n",
    );
    std::fs::write(&org, text).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("user:default/mallory is defined twice"),
        "{e}"
    );
}

#[test]
fn a_request_file_is_capped_and_never_echoed() {
    // A huge input stops at the cap instead of growing without bound.
    let e = ServiceRequest::read("from stdin", std::io::repeat(b' ')).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("larger than"), "{e}");
    // Text that is not a request (a password file) is never repeated in the error.
    for text in [
        "root:$6$s3cr3t-hash:19000:0:99999:7:::\n",
        "- s3cr3t-hash\n",
        "{ \"service\": \"s3cr3t-hash\n",
        "service: a\nowner: b\nparameters: 42\n",
        "service: a\nowner: b\nversion: 1234567\n",
        "service: [\"s3cr3t-hash\"]\n",
    ] {
        let e = ServiceRequest::read("r.yaml", text.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{text}: {e}");
        let shown = format!("{e} {:?}", e.context());
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("1234567"),
            "{shown}"
        );
    }
    // A request may leave the service and owner to flags.
    let r = ServiceRequest::read("r.yaml", "parameters: {port: 8080}\n".as_bytes()).unwrap();
    assert!(r.service.is_empty() && r.owner.is_empty());
}

#[test]
fn a_principal_must_be_a_user_reference() {
    for bad in [
        "",
        " ",
        "user:default/",
        "group:default/platform-team",
        "user:default/../x",
    ] {
        assert!(
            idp_core::org::check_user_ref(bad).is_err(),
            "{bad:?} accepted"
        );
    }
    for good in ["alice", "user:default/alice", "user:acme/first.last"] {
        idp_core::org::check_user_ref(good).unwrap();
    }
}

#[test]
fn bidirectional_controls_are_refused_in_values() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let req = ServiceRequest::new("payments-api", "team-payments")
        .param("description", "Pays \u{202E}gnp.exe");
    let e = p
        .plan(
            &p.principal("alice"),
            idp_core::Operation::RunGoldenPath,
            &req,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("bidirectional"), "{e}");
}

#[test]
fn platform_folder_checks_catch_what_would_fail_or_escape_later() {
    let ws = tempfile::tempdir().unwrap();
    // A namespace pattern that leaves its folder.
    let dir = platform_dir();
    edit_idp_yaml(
        dir.path(),
        "namespace: '{team}-{env}'",
        "namespace: '../{team}/{env}'",
    );
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(field_of(&e), "naming.namespace", "{e}");
    // A team whose name is a path.
    let dir = platform_dir();
    let org = dir.path().join("org/org.yaml");
    let text = std::fs::read_to_string(&org).unwrap();
    std::fs::write(
        &org,
        text.replacen("name: platform-team", "name: ../platform-team", 1),
    )
    .unwrap();
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(field_of(&e), "metadata.name", "{e}");
    // A Terraform module output that is not an HCL identifier (it would inject HCL).
    for (from, to, field) in [
        (
            "  bucket_arn: { secret: false }",
            "  bucket_arn: { secret: false }\n  \"arn } resource \\\"x\\\" \\\"y\\\" {\": { secret: false }",
            "outputs",
        ),
        (
            "  versioning: true",
            "  \"versioning flag\": true",
            "locked",
        ),
    ] {
        let dir = platform_dir();
        let m = dir.path().join("modules/bucket/aws-s3-bucket.yaml");
        let text = std::fs::read_to_string(&m).unwrap();
        assert!(text.contains(from));
        std::fs::write(&m, text.replacen(from, to, 1)).unwrap();
        let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
        assert_eq!(field_of(&e), field, "{e}");
        assert!(e.to_string().contains("HCL identifier"), "{e}");
    }
    // A Rego policy calling a built-in this build lacks.
    let dir = platform_dir();
    std::fs::write(
        dir.path().join("policies/net.rego"),
        "package main\nimport rego.v1\ndeny contains msg if {\n  http.send({\"method\": \"get\", \"url\": \"http://x\"})\n  msg := \"x\"\n}\n",
    )
    .unwrap();
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert!(e.to_string().contains("http.send"), "{e}");
    // A time zone that is not an IANA name.
    let dir = platform_dir();
    edit_idp_yaml(
        dir.path(),
        "  time_zone: UTC\n",
        "  time_zone: Mars/Olympus\n",
    );
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(field_of(&e), "organization.time_zone", "{e}");
    // A merge key without the field that names the list's items.
    let dir = platform_dir();
    let path_yaml = dir
        .path()
        .join("golden-paths/python-fastapi-service/2.1.0/path.yaml");
    let text = std::fs::read_to_string(&path_yaml).unwrap();
    std::fs::write(&path_yaml, format!("{text}\nmerge_keys:\n  topics: ''\n")).unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let problem = p.check_golden_paths().unwrap().problems.remove(0);
    assert_eq!(
        problem.field.as_deref(),
        Some("merge_keys.topics"),
        "{problem:?}"
    );
    // The version cannot be used: a request for it gets the error, with its file.
    let e = p
        .run_golden_path(
            &p.principal("pat"),
            &ServiceRequest::new("payments-api", "team-payments"),
        )
        .unwrap_err();
    assert!(e.to_string().contains("merge_keys"), "{e}");
}

#[test]
fn init_writes_only_into_a_new_or_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let e = Platform::init_dir(dir.path()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
    // A symlink inside would lead the writes out of the folder.
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("policies")).unwrap();
    assert_eq!(
        Platform::init_dir(dir.path()).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    // New and empty folders work.
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path().join("new/platform")).unwrap();
    Platform::init_dir(tempfile::tempdir().unwrap().path()).unwrap();
}

#[test]
fn an_existing_service_needs_no_owner_and_a_taken_name_does_not_name_its_team() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    p.run_golden_path(
        &alice,
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    // The owner comes from the service's record.
    let plan = p
        .plan(
            &alice,
            idp_core::Operation::RunGoldenPath,
            &ServiceRequest::new("payments-api", ""),
        )
        .unwrap();
    assert!(plan.allowed);
    // A new service still needs one.
    let e = p
        .plan(
            &alice,
            idp_core::Operation::RunGoldenPath,
            &ServiceRequest::new("orders-api", ""),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(field_of(&e), "owner");
    // Another team's request learns that the name is taken, not by whom.
    let e = p
        .run_golden_path(
            &p.principal("pat"),
            &ServiceRequest::new("payments-api", "platform-team"),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(!e.to_string().contains("team-payments"), "{e}");
}

/// Every byte idp keeps about a workspace: git objects are compressed, so the repos' files are
/// read through git; the state and audit databases are read raw.
fn everything_kept(ws: &Path) -> String {
    let mut out = String::new();
    for repo in repos(ws) {
        let git = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(ws.join("repos").join(&repo))
            .args(["log", "--all", "-p", "--format=%B"])
            .output()
            .unwrap();
        out.push_str(&String::from_utf8_lossy(&git.stdout));
    }
    for f in std::fs::read_dir(ws).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&f).unwrap()));
        }
    }
    out
}

#[test]
fn a_secret_nested_in_an_object_parameter_is_redacted_everywhere() {
    let dir = platform_dir();
    unfreeze(dir.path(), "2.1.0");
    let path_yaml = dir
        .path()
        .join("golden-paths/python-fastapi-service/2.1.0/path.yaml");
    let text = std::fs::read_to_string(&path_yaml).unwrap();
    std::fs::write(
        &path_yaml,
        text.replacen(
            "  properties:\n",
            "  properties:\n    database:\n      type: object\n      default: {}\n",
            1,
        ),
    )
    .unwrap();
    // 2.1.0 renders its README from the platform's shared templates.
    let readme = dir
        .path()
        .join("shared/templates/python-fastapi/README.md.tera");
    let mut text = std::fs::read_to_string(&readme).unwrap();
    text.push_str("\nDatabase: {{ params.database | json }}\n");
    std::fs::write(&readme, text).unwrap();

    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let alice = p.principal("alice");
    let req = ServiceRequest::new("payments-api", "team-payments").param(
        "database",
        serde_json::json!({"host": "db.internal", "password": "hunter2-nested"}),
    );
    let plan = p
        .plan(&alice, idp_core::Operation::RunGoldenPath, &req)
        .unwrap();
    let plan_json = serde_json::to_string(&plan).unwrap();
    assert!(!plan_json.contains("hunter2"), "plan: {plan_json}");
    assert!(plan_json.contains("db.internal"));
    let receipt = p.run_golden_path(&alice, &req).unwrap();
    assert!(!serde_json::to_string(&receipt).unwrap().contains("hunter2"));
    let kept = everything_kept(ws.path());
    assert!(
        kept.contains("db.internal"),
        "the test reads the right files"
    );
    assert!(!kept.contains("hunter2"), "a secret was kept");
}

#[test]
fn the_idempotency_key_is_a_keyed_mac_with_an_owner_only_key() {
    use std::os::unix::fs::PermissionsExt;
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("salt"), "a".repeat(64)).unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    p.run_golden_path(
        &p.principal("alice"),
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    assert!(
        !ws.path().join("salt").exists(),
        "the old world-readable salt is gone"
    );
    for f in [
        "idempotency.key",
        "audit-signing.key",
        "state.db",
        "audit.db",
    ] {
        let mode = std::fs::metadata(ws.path().join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{f} is readable by others: {mode:o}");
    }
}

#[test]
fn leftovers_of_killed_creations_are_removed() {
    let ws = tempfile::tempdir().unwrap();
    let stale = ws.path().join("repos/.payments-api.creating-999999999-0");
    std::fs::create_dir_all(stale.join("objects")).unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    p.run_golden_path(
        &p.principal("alice"),
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    assert!(!stale.exists(), "{:?}", repos(ws.path()));
}

#[test]
fn many_processes_opening_one_platform_record_one_policy_load() {
    let ws = tempfile::tempdir().unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
    let threads: Vec<_> = (0..12)
        .map(|_| {
            let (ws, barrier) = (ws.path().to_path_buf(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                Platform::builtin(&ws).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let p = Platform::builtin(ws.path()).unwrap();
    let loads = p
        .audit_list(
            &p.principal("pat"),
            &idp_core::audit::AuditFilter::default(),
        )
        .unwrap()
        .into_iter()
        .filter(|r| r.event.operation == "policy_load")
        .count();
    assert_eq!(loads, 1);
}

#[test]
fn reads_are_authorized_per_service_and_recorded() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let (alice, mallory, pat) = (
        p.principal("alice"),
        p.principal("mallory"),
        p.principal("pat"),
    );
    p.run_golden_path(
        &alice,
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    let everything = idp_core::audit::AuditFilter::default();
    // An outsider sees none of another team's services, runs, waivers or records...
    assert!(p.fleet(&mallory).unwrap().is_empty());
    assert!(p.runs(&mallory, None, 10).unwrap().is_empty());
    assert!(p.list_waivers(&mallory, None).unwrap().is_empty());
    let own = p.audit_list(&mallory, &everything).unwrap();
    assert!(
        own.iter()
            .all(|r| r.event.principal == "user:default/mallory"),
        "mallory read another's record"
    );
    // ... and naming the service is a denial.
    let e = p.runs(&mallory, Some("payments-api"), 10).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    let e = p
        .audit_list(
            &mallory,
            &idp_core::audit::AuditFilter {
                service: Some("payments-api".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    // The owning team and platform admins see it.
    assert_eq!(p.fleet(&alice).unwrap().len(), 1);
    assert_eq!(p.runs(&alice, None, 10).unwrap().len(), 1);
    let theirs = p.audit_list(&alice, &everything).unwrap();
    assert!(
        theirs
            .iter()
            .all(|r| r.event.resource == "service:payments-api"
                || r.event.principal == "user:default/alice"),
        "alice read a platform or another team's record"
    );
    assert!(!theirs.iter().any(|r| r.event.operation == "policy_load"));
    assert!(!theirs.is_empty());
    assert_eq!(p.fleet(&pat).unwrap().len(), 1);
    // Every read is in the log, with who read what.
    let log = p.audit_list(&pat, &everything).unwrap();
    for op in ["fleet", "list_runs", "list_waivers", "audit_list"] {
        assert!(
            log.iter()
                .any(|r| r.event.operation == op && r.event.principal == "user:default/mallory"),
            "no record of {op}"
        );
    }
    assert!(log.iter().any(|r| r.event.operation == "list_runs"
        && r.event.outcome == "denied"
        && r.event.resource == "service:payments-api"));
}
