//! End-to-end behaviour of the engine on the embedded default (bare git repos + SQLite).

use git2::Repository;
use idp_core::blocking::Platform;
use idp_core::{ErrorKind, FileAction, Operation, ServiceRequest};

fn platform(ws: &std::path::Path) -> Platform {
    Platform::builtin(ws).expect("built-in platform loads")
}

fn req() -> ServiceRequest {
    ServiceRequest::new("payments-api", "team-payments")
}

fn commits(ws: &std::path::Path, repo: &str) -> Vec<git2::Oid> {
    let r = Repository::open_bare(ws.join("repos").join(format!("{repo}.git"))).unwrap();
    let mut walk = r.revwalk().unwrap();
    walk.push_ref("refs/heads/main").unwrap();
    walk.map(|o| o.unwrap()).collect()
}

fn changed_paths(ws: &std::path::Path, repo: &str, commit: git2::Oid) -> Vec<String> {
    let r = Repository::open_bare(ws.join("repos").join(format!("{repo}.git"))).unwrap();
    let c = r.find_commit(commit).unwrap();
    let parent = c.parent(0).unwrap().tree().unwrap();
    let diff = r
        .diff_tree_to_tree(Some(&parent), Some(&c.tree().unwrap()), None)
        .unwrap();
    let mut out: Vec<String> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

fn nothing_written(ws: &std::path::Path, p: &Platform) {
    let repos = ws.join("repos");
    assert!(
        !repos.exists() || std::fs::read_dir(&repos).unwrap().next().is_none(),
        "a repo was created"
    );
    assert!(
        p.runs(&p.principal("pat"), None, 10).unwrap().is_empty(),
        "a run was recorded"
    );
}

#[test]
fn golden_path_creates_three_artifact_sets_with_commits_and_receipt() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let alice = p.principal("alice");
    let r = p.run_golden_path(&alice, &req()).unwrap();
    let steps: Vec<&str> = r.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "bootstrap_service",
            "wire_ci",
            "provision_gitops",
            "attach_observability"
        ]
    );
    for s in &r.steps {
        let cr = s
            .change_request
            .as_ref()
            .expect("each step opened a change request");
        assert_eq!(cr.state, idp_core::receipt::ChangeRequestState::Merged);
        assert!(!s.artifacts.is_empty());
        for a in &s.artifacts {
            assert_eq!(a.sha256.len(), 64);
            assert!(
                a.provenance.starts_with("python-fastapi-service@2.1.0:"),
                "{}",
                a.provenance
            );
        }
    }
    assert_eq!(commits(ws.path(), "payments-api").len(), 2);
    assert_eq!(commits(ws.path(), "gitops").len(), 2);
    let paths: Vec<&str> = r
        .steps
        .iter()
        .flat_map(|s| s.artifacts.iter().map(|a| a.path.as_str()))
        .collect();
    for want in [
        "Dockerfile",
        "src/payments_api/main.py",
        ".github/workflows/ci.yml",
        "apps/payments-api/prod/deployment.yaml",
        "argocd/applications/payments-api-staging.yaml",
        "apps/payments-api/dev/prometheusrule.yaml",
    ] {
        assert!(paths.contains(&want), "missing {want}");
    }
    // The stamp records every rendered file of the service repo with its hash.
    let stamp = p
        .block_on(p.source_control().read_files(
            "payments-api",
            None,
            &[".idp/scaffold.json".into()],
        ))
        .unwrap()
        .unwrap();
    let stamp: serde_json::Value = serde_json::from_slice(stamp[0].as_ref().unwrap()).unwrap();
    assert_eq!(stamp["goldenPathId"], "python-fastapi-service");
    assert_eq!(stamp["scaffoldVersion"], "2.1.0");
    assert_eq!(stamp["files"]["Dockerfile"]["ownership"], "merged");
    assert!(stamp["files"][".github/workflows/ci.yml"]["sha256"].is_string());
}

#[test]
fn rerun_with_same_input_writes_nothing_and_returns_the_same_receipt() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let alice = p.principal("alice");
    let first = p.run_golden_path(&alice, &req()).unwrap();
    let before = (
        commits(ws.path(), "payments-api"),
        commits(ws.path(), "gitops"),
    );
    let second = p.run_golden_path(&alice, &req()).unwrap();
    assert_eq!(
        before,
        (
            commits(ws.path(), "payments-api"),
            commits(ws.path(), "gitops")
        )
    );
    assert_ne!(first.run_id, second.run_id);
    assert_eq!(first.stable_json(), second.stable_json());
    // Each step alone is also a no-op now.
    for op in [
        Operation::BootstrapService,
        Operation::WireCi,
        Operation::ProvisionGitops,
        Operation::AttachObservability,
    ] {
        let r = p.execute(&alice, op, &req()).unwrap();
        let full = first
            .steps
            .iter()
            .find(|s| Some(s.step) == op.single_step())
            .unwrap();
        assert_eq!(&r.steps[0], full, "{op}");
    }
    assert_eq!(
        before,
        (
            commits(ws.path(), "payments-api"),
            commits(ws.path(), "gitops")
        )
    );
}

#[test]
fn changed_input_moves_only_the_changed_files() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let alice = p.principal("alice");
    p.run_golden_path(&alice, &req()).unwrap();
    let gitops_before = commits(ws.path(), "gitops").len();
    // cpu_limit changes prod too, a protected environment: a platform admin makes the change.
    p.provision_gitops(&p.principal("pat"), &req().param("cpu_limit", "750m"))
        .unwrap();
    let after = commits(ws.path(), "gitops");
    assert_eq!(after.len(), gitops_before + 1);
    let changed = changed_paths(ws.path(), "gitops", after[0]);
    assert_eq!(
        changed,
        [
            "apps/payments-api/.idp/scaffold.json",
            "apps/payments-api/dev/deployment.yaml",
            "apps/payments-api/prod/deployment.yaml",
            "apps/payments-api/staging/deployment.yaml",
        ]
    );
}

#[test]
fn plan_shows_the_change_set_with_diffs_and_writes_nothing() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let alice = p.principal("alice");
    let plan = p.plan(&alice, Operation::RunGoldenPath, &req()).unwrap();
    assert!(plan.has_changes());
    assert_eq!(plan.change_sets.len(), 4);
    assert!(plan.change_sets[0].creates_repo);
    // Later steps plan against the earlier steps' writes: wire_ci needs no new repo.
    assert!(!plan.change_sets[1].creates_repo);
    let ci = plan.change_sets[1]
        .files
        .iter()
        .find(|f| f.path == ".github/workflows/ci.yml")
        .unwrap();
    assert_eq!(ci.action, FileAction::Create);
    assert!(
        ci.diff
            .as_ref()
            .unwrap()
            .contains("+++ b/.github/workflows/ci.yml")
    );
    nothing_written(ws.path(), &p);
    // After a real run, the same plan is all `unchanged`.
    p.run_golden_path(&alice, &req()).unwrap();
    let again = p.plan(&alice, Operation::RunGoldenPath, &req()).unwrap();
    assert!(!again.has_changes(), "{:#?}", again.warnings);
}

#[test]
fn every_preflight_failure_is_typed_and_writes_nothing() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let alice = p.principal("alice");
    let cases: Vec<(ServiceRequest, ErrorKind)> = vec![
        (
            ServiceRequest::new("../../etc", "team-payments"),
            ErrorKind::InvalidInput,
        ),
        (
            ServiceRequest::new("Payments", "team-payments"),
            ErrorKind::InvalidInput,
        ),
        (
            ServiceRequest::new("admin", "team-payments"),
            ErrorKind::InvalidInput,
        ),
        (
            ServiceRequest::new("a".repeat(41), "team-payments"),
            ErrorKind::InvalidInput,
        ),
        (
            ServiceRequest::new("payments-api", "team-nobody"),
            ErrorKind::NotFound,
        ),
        (req().param("port", 70000), ErrorKind::InvalidInput),
        (req().param("port", "eighty"), ErrorKind::InvalidInput),
        (req().param("colour", "red"), ErrorKind::InvalidInput),
        (
            req().param("description", "{{ 7 * 7 }}"),
            ErrorKind::InvalidInput,
        ),
        (
            req().param("description", "${{ secrets.GITHUB_TOKEN }}"),
            ErrorKind::InvalidInput,
        ),
        (
            req().param("description", "x".repeat(100_000)),
            ErrorKind::InvalidInput,
        ),
        (req().param("image_tag", "latest"), ErrorKind::InvalidInput),
        (
            ServiceRequest {
                golden_path: Some("nope".into()),
                ..req()
            },
            ErrorKind::NotFound,
        ),
        (
            ServiceRequest {
                version: Some("9.9.9".into()),
                ..req()
            },
            ErrorKind::NotFound,
        ),
    ];
    for (r, kind) in cases {
        let e = p.run_golden_path(&alice, &r).unwrap_err();
        assert_eq!(e.kind(), kind, "{r:?}: {e}");
        let e = p.plan(&alice, Operation::RunGoldenPath, &r).unwrap_err();
        assert_eq!(e.kind(), kind, "plan {r:?}: {e}");
        assert!(e.to_string().len() < 2000, "error too long: {e}");
    }
    // A step that needs the service repo says so.
    let e = p.wire_ci(&alice, &req()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    nothing_written(ws.path(), &p);
}

#[test]
fn a_name_taken_by_another_team_is_a_conflict() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    p.bootstrap_service(&p.principal("alice"), &req()).unwrap();
    let before = commits(ws.path(), "payments-api");
    let e = p
        .bootstrap_service(
            &p.principal("pat"),
            &ServiceRequest::new("payments-api", "platform-team"),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("taken by another team"), "{e}");
    assert_eq!(before, commits(ws.path(), "payments-api"));
}

#[test]
fn a_lost_state_database_still_protects_the_name_and_reruns_cleanly() {
    let ws = tempfile::tempdir().unwrap();
    {
        let p = platform(ws.path());
        p.run_golden_path(&p.principal("alice"), &req()).unwrap();
    }
    for f in ["state.db", "state.db-wal", "state.db-shm"] {
        let _ = std::fs::remove_file(ws.path().join(f));
    }
    let p = platform(ws.path());
    let e = p
        .bootstrap_service(
            &p.principal("pat"),
            &ServiceRequest::new("payments-api", "platform-team"),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let before = commits(ws.path(), "payments-api");
    p.run_golden_path(&p.principal("alice"), &req()).unwrap();
    assert_eq!(before, commits(ws.path(), "payments-api"));
}

#[test]
fn seeded_files_are_never_touched_again_and_managed_edits_are_reported() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let alice = p.principal("alice");
    p.run_golden_path(&alice, &req()).unwrap();
    // The team edits a seeded file and a managed file (through the provider, like a push).
    let spec = idp_core::providers::ChangeRequestSpec {
        key: "team-edit".into(),
        repo: "payments-api".into(),
        branch: "team/edit".into(),
        title: "team edits".into(),
        body: String::new(),
        files: vec![
            (
                "src/payments_api/main.py".into(),
                Some(std::sync::Arc::new(b"# ours\n".to_vec())),
            ),
            (
                ".github/SECURITY.md".into(),
                Some(std::sync::Arc::new(b"# ours\n".to_vec())),
            ),
        ],
        author: idp_core::providers::Signature {
            name: "a".into(),
            email: "a@x".into(),
        },
        committer: idp_core::providers::Signature {
            name: "a".into(),
            email: "a@x".into(),
        },
        trailers: vec![],
        hold: false,
    };
    p.block_on(p.source_control().submit(&spec))
        .unwrap()
        .unwrap();
    let r = p
        .bootstrap_service(
            &alice,
            &req().param("description", "Payments, now with a new description"),
        )
        .unwrap();
    let files = p
        .block_on(p.source_control().read_files(
            "payments-api",
            None,
            &[
                "src/payments_api/main.py".into(),
                ".github/SECURITY.md".into(),
            ],
        ))
        .unwrap()
        .unwrap();
    assert_eq!(
        files[0].as_deref(),
        Some(&b"# ours\n"[..]),
        "seeded file was overwritten"
    );
    assert_ne!(
        files[1].as_deref(),
        Some(&b"# ours\n"[..]),
        "managed file kept a local edit"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains(".github/SECURITY.md")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn explain_lists_every_file_with_ownership_and_override_advice() {
    let ws = tempfile::tempdir().unwrap();
    let p = platform(ws.path());
    let r = p.run_golden_path(&p.principal("alice"), &req()).unwrap();
    let e = p.explain(&p.principal("alice"), "payments-api").unwrap();
    let artifacts: usize = r.steps.iter().map(|s| s.artifacts.len()).sum();
    assert_eq!(e.files.len(), artifacts);
    let main = e
        .files
        .iter()
        .find(|f| f.path == "src/payments_api/main.py")
        .unwrap();
    assert!(!main.managed_by_platform && !main.locally_modified);
    let ci = e
        .files
        .iter()
        .find(|f| f.path == ".github/workflows/ci.yml")
        .unwrap();
    assert!(ci.managed_by_platform && ci.how_to_override.contains("separate workflow"));
    assert_eq!(e.change_requests.len(), 4);
    assert_eq!(
        p.explain(&p.principal("alice"), "nope").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        p.explain(&p.principal("alice"), "../x").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn a_platform_folder_with_a_mistake_names_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    let ws = tempfile::tempdir().unwrap();
    assert!(Platform::from_dir(dir.path(), ws.path()).is_ok());
    let idp_yaml = dir.path().join("idp.yaml");
    let text = std::fs::read_to_string(&idp_yaml).unwrap();
    std::fs::write(
        &idp_yaml,
        text.replace(
            "replicas: { min: 3, max: 10 }",
            "replicas: { min: 3, max: many }",
        ),
    )
    .unwrap();
    let e = Platform::from_dir(dir.path(), ws.path()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let ctx: Vec<_> = e
        .context()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert!(ctx.contains(&"file=idp.yaml".to_string()), "{e}");
    assert!(
        ctx.iter()
            .any(|c| c.starts_with("field=environments[2].replicas.max")),
        "{e}"
    );
    // A template that does not compile breaks its version only: the platform loads, a request
    // for that version names the template, other versions work, and the check reports it.
    std::fs::write(&idp_yaml, text).unwrap();
    let tpl = dir
        .path()
        .join("golden-paths/python-fastapi-service/1.0.0/templates/service/SECURITY.md.tera");
    std::fs::write(&tpl, "{% if %}").unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let v1 = ServiceRequest {
        version: Some("1.0.0".into()),
        ..req()
    };
    let e = p.run_golden_path(&p.principal("alice"), &v1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(
        e.to_string()
            .contains("python-fastapi-service@1.0.0 does not load")
            && e.to_string().contains("SECURITY.md.tera"),
        "{e}"
    );
    assert!(!ws.path().join("repos/payments-api.git").exists());
    p.run_golden_path(&p.principal("alice"), &req()).unwrap();
    let report = p.check_golden_paths().unwrap();
    assert!(!report.ok);
    let problem = &report.problems[0];
    assert_eq!(
        (problem.version.as_str(), problem.file.as_deref()),
        (
            "1.0.0",
            Some("golden-paths/python-fastapi-service/1.0.0/templates/service/SECURITY.md.tera")
        ),
        "{problem:?}"
    );
    // init refuses to overwrite.
    assert_eq!(
        Platform::init_dir(dir.path()).unwrap_err().kind(),
        ErrorKind::Conflict
    );
}

fn main_tree(ws: &std::path::Path, repo: &str) -> git2::Oid {
    let r = Repository::open_bare(ws.join("repos").join(format!("{repo}.git"))).unwrap();
    r.find_reference("refs/heads/main")
        .unwrap()
        .peel_to_tree()
        .unwrap()
        .id()
}

#[test]
fn a_run_interrupted_after_some_steps_resumes_without_duplicate_commits() {
    // Generated files embed repo URLs, which embed the workspace path: run the uninterrupted
    // reference and the interrupted run at the same path, one after the other.
    let root = tempfile::tempdir().unwrap();
    let ws = root.path().join("ws");
    let reference = {
        let p = platform(&ws);
        let r = p.run_golden_path(&p.principal("alice"), &req()).unwrap();
        (r, main_tree(&ws, "payments-api"), main_tree(&ws, "gitops"))
    };
    std::fs::remove_dir_all(&ws).unwrap();

    let p = platform(&ws);
    let alice = p.principal("alice");
    // The first step landed (as its own operation), then the golden path ran: the engine finds
    // bootstrap already applied and does not commit it again.
    p.bootstrap_service(&alice, &req()).unwrap();
    let r = p.run_golden_path(&alice, &req()).unwrap();
    assert_eq!(commits(&ws, "payments-api").len(), 2);
    assert_eq!(commits(&ws, "gitops").len(), 2);
    assert_eq!(main_tree(&ws, "payments-api"), reference.1);
    assert_eq!(main_tree(&ws, "gitops"), reference.2);
    let hashes = |r: &idp_core::Receipt| -> Vec<(String, String)> {
        r.steps
            .iter()
            .flat_map(|s| {
                s.artifacts
                    .iter()
                    .map(|a| (a.path.clone(), a.sha256.clone()))
            })
            .collect()
    };
    assert_eq!(hashes(&r), hashes(&reference.0));
}
