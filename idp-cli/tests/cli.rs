//! The `idp` binary as users and CI run it: exit codes, JSON output, and crash safety (the real
//! process killed at several points, then resumed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn idp(ws: &Path) -> Command {
    idp_as(ws, "user:default/alice")
}

/// `idp init DIR`: a platform folder to edit.
fn init_folder(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("init")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn idp_as(ws: &Path, user: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idp"));
    c.arg("--workspace")
        .arg(ws)
        .arg("--as")
        .arg(user)
        .env_remove("IDP_FAILPOINT");
    c
}

const RUN: [&str; 6] = [
    "golden-path",
    "run",
    "--service",
    "payments-api",
    "--owner",
    "team-payments",
];

/// Runs git in `dir` as a team member would; it must succeed.
fn git_in(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.name=T", "-c", "user.email=t@x"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn main_commits(ws: &Path, repo: &str) -> Vec<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(ws.join("repos").join(format!("{repo}.git")))
        .args(["rev-list", "main"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn main_tree(ws: &Path, repo: &str) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(ws.join("repos").join(format!("{repo}.git")))
        .args(["rev-parse", "main^{tree}"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn artifacts(receipt: &serde_json::Value) -> Vec<(String, String)> {
    receipt["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["artifacts"].as_array().unwrap().iter())
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn golden_path_run_prints_a_receipt_and_a_rerun_prints_the_same_one() {
    let ws = tempfile::tempdir().unwrap();
    let first = idp(ws.path()).arg("--json").args(RUN).output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("bootstrap_service"),
        "progress goes to stderr: {stderr}"
    );
    let second = idp(ws.path()).arg("--json").args(RUN).output().unwrap();
    let (mut a, mut b) = (json_of(&first), json_of(&second));
    for v in [&mut a, &mut b] {
        for k in ["run_id", "started_at", "finished_at"] {
            v.as_object_mut().unwrap().remove(k);
        }
    }
    assert_eq!(a, b);
    assert_eq!(main_commits(ws.path(), "payments-api").len(), 2);
}

#[test]
fn exit_codes_distinguish_invalid_input_not_found_conflict_and_success() {
    let ws = tempfile::tempdir().unwrap();
    let code = |args: &[&str], who: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_idp"));
        c.arg("--workspace")
            .arg(ws.path())
            .arg("--as")
            .arg(who)
            .arg("-q")
            .args(args);
        c.output().unwrap().status.code().unwrap()
    };
    assert_eq!(
        code(
            &[
                "bootstrap-service",
                "--service",
                "../../etc",
                "--owner",
                "team-payments"
            ],
            "alice"
        ),
        2
    );
    assert_eq!(
        code(
            &[
                "bootstrap-service",
                "--service",
                "x1",
                "--owner",
                "team-payments",
                "--param",
                "port=1"
            ],
            "alice"
        ),
        2
    );
    assert_eq!(
        code(
            &[
                "bootstrap-service",
                "--service",
                "x1",
                "--owner",
                "team-ghost"
            ],
            "alice"
        ),
        5
    );
    assert_eq!(
        code(
            &[
                "bootstrap-service",
                "--service",
                "x1",
                "--owner",
                "team-payments"
            ],
            "alice"
        ),
        0
    );
    assert_eq!(
        code(
            &[
                "bootstrap-service",
                "--service",
                "x1",
                "--owner",
                "platform-team"
            ],
            "pat"
        ),
        4
    );
    assert_eq!(code(&["resume", "run-nope"], "alice"), 5);
    // An error with --json is a JSON object naming the kind.
    let out = idp(ws.path())
        .args([
            "--json",
            "-q",
            "wire-ci",
            "--service",
            "zz",
            "--owner",
            "team-payments",
        ])
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["error"]["kind"], "NotFound");
}

#[test]
fn params_are_typed_by_the_schema_and_plan_writes_nothing() {
    let ws = tempfile::tempdir().unwrap();
    let out = idp(ws.path())
        .args([
            "--json",
            "-q",
            "plan",
            "golden-path",
            "--service",
            "svc-a",
            "--owner",
            "team-payments",
        ])
        .args([
            "--param",
            "port=9090",
            "--param",
            "python_version=3.11",
            "--param",
            "availability_slo=0.999",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = json_of(&out);
    assert_eq!(plan["parameters"]["port"], 9090);
    assert_eq!(plan["parameters"]["python_version"], "3.11");
    assert_eq!(plan["change_sets"].as_array().unwrap().len(), 4);
    assert!(!ws.path().join("repos").exists());
}

/// Runs the golden path with a fail point set; returns once the process is gone.
fn crash_at(ws: &Path, point: &str) {
    if let Some(name) = point.strip_suffix(":pause") {
        // Pause at the point, then SIGKILL from outside.
        let ready = ws.with_extension("ready");
        let _ = std::fs::remove_file(&ready);
        let mut child = idp(ws)
            .args(["-q"])
            .args(RUN)
            .env("IDP_FAILPOINT", point)
            .env("IDP_FAILPOINT_READY", &ready)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while !ready.exists() {
            assert!(
                start.elapsed().as_secs() < 60,
                "fail point {name} never reached"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
    } else {
        let out = idp(ws)
            .args(["-q"])
            .args(RUN)
            .env("IDP_FAILPOINT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "fail point {point} was not reached");
    }
}

fn running_run(ws: &Path) -> Option<String> {
    let out = idp(ws).args(["--json", "-q", "runs"]).output().unwrap();
    json_of(&out)
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "running")
        .map(|r| r["run_id"].as_str().unwrap().to_string())
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the fail points: --features idp-cli/failpoints"
)]
fn a_killed_golden_path_resumes_to_the_same_end_state_without_duplicate_commits() {
    let root = tempfile::tempdir().unwrap();
    let ws: PathBuf = root.path().join("ws");
    // Reference: an uninterrupted run at the same path (generated files embed repo URLs).
    let out = idp(&ws).args(["--json", "-q"]).args(RUN).output().unwrap();
    let reference = json_of(&out);
    let trees = (main_tree(&ws, "payments-api"), main_tree(&ws, "gitops"));
    std::fs::remove_dir_all(&ws).unwrap();

    let points = [
        "run:created",
        "step:bootstrap_service:planned",
        "scm:committed",
        "scm:locked:pause",
        "scm:recorded",
        "step:wire_ci:submitted",
        // Merged to prod's manifests but not recorded: the resumed run is still the first
        // deploy (a later step touching prod is not a change to a running environment).
        "step:provision_gitops:submitted",
        "step:provision_gitops:recorded",
        "step:attach_observability:planned:pause",
    ];
    for (i, point) in points.iter().enumerate() {
        crash_at(&ws, point);
        // Alternate the two ways to resume: `idp resume RUN`, and the next identical request.
        let run =
            running_run(&ws).unwrap_or_else(|| panic!("{point}: no interrupted run recorded"));
        let out = if i % 2 == 0 {
            idp(&ws)
                .args(["--json", "-q", "resume", &run])
                .output()
                .unwrap()
        } else {
            idp(&ws).args(["--json", "-q"]).args(RUN).output().unwrap()
        };
        assert!(
            out.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let receipt = json_of(&out);
        assert_eq!(
            receipt["run_id"],
            run.as_str(),
            "{point}: the interrupted run was not the one resumed"
        );
        assert_eq!(artifacts(&receipt), artifacts(&reference), "{point}");
        assert_eq!(
            (main_tree(&ws, "payments-api"), main_tree(&ws, "gitops")),
            trees,
            "{point}: end state differs"
        );
        assert_eq!(
            main_commits(&ws, "payments-api").len(),
            2,
            "{point}: duplicate commits"
        );
        assert_eq!(
            main_commits(&ws, "gitops").len(),
            2,
            "{point}: duplicate commits"
        );
        for s in receipt["steps"].as_array().unwrap() {
            assert!(
                s["change_request"]["id"].is_string(),
                "{point}: step without its change request: {s}"
            );
        }
        assert!(
            running_run(&ws).is_none(),
            "{point}: a run is still marked running"
        );
        std::fs::remove_dir_all(&ws).unwrap();
    }
}

#[test]
fn two_concurrent_identical_requests_execute_once() {
    let ws = tempfile::tempdir().unwrap();
    let spawn = || {
        idp(ws.path())
            .args(["--json", "-q"])
            .args(RUN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(main_commits(ws.path(), "payments-api").len(), 2);
    assert_eq!(main_commits(ws.path(), "gitops").len(), 2);
    let (ra, rb) = (json_of(&a), json_of(&b));
    assert_eq!(artifacts(&ra), artifacts(&rb));
    assert_eq!(
        ra["steps"], rb["steps"],
        "both callers see the same change requests"
    );
}

#[test]
fn init_writes_an_editable_platform_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("platform");
    let out = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("init")
        .arg(&pf)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(pf.join("idp.yaml").is_file() && pf.join("org/org.yaml").is_file());
    let ws = dir.path().join("ws");
    let out = idp(&ws)
        .arg("--platform")
        .arg(&pf)
        .args(["--json", "-q", "golden-path", "list"])
        .output()
        .unwrap();
    let ids: Vec<String> = json_of(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{}@{}",
                g["id"].as_str().unwrap(),
                g["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "node-express-service@1.0.0",
            "python-fastapi-service@1.0.0",
            "python-fastapi-service@2.0.0",
            "python-fastapi-service@2.1.0"
        ]
    );
}

#[test]
fn audit_verify_names_the_first_tampered_record_of_a_real_workspace() {
    let ws = tempfile::tempdir().unwrap();
    assert!(
        idp(ws.path())
            .args(["-q"])
            .args(RUN)
            .status()
            .unwrap()
            .success()
    );
    let denied = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("--workspace")
        .arg(ws.path())
        .args([
            "--as",
            "user:default/mallory",
            "-q",
            "wire-ci",
            "--service",
            "payments-api",
            "--owner",
            "team-payments",
        ])
        .status()
        .unwrap();
    assert_eq!(denied.code(), Some(3));
    let ok = idp(ws.path())
        .args(["--json", "audit", "verify"])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let report = json_of(&ok);
    let n = report["records"].as_u64().unwrap();
    assert!(n >= 3, "policy load, run, denial: {report}");
    let listed = idp(ws.path())
        .args(["--json", "audit", "list", "--service", "payments-api"])
        .output()
        .unwrap();
    let records = json_of(&listed);
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["event"]["principal"] == "user:default/mallory"
                && r["event"]["decision"] == "deny")
    );

    let db = rusqlite::Connection::open(ws.path().join("audit.db")).unwrap();
    db.execute(
        "UPDATE audit SET event = replace(event, 'mallory', 'alice') WHERE seq = ?1",
        [n],
    )
    .unwrap();
    drop(db);
    let bad = idp(ws.path()).args(["audit", "verify"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains(&format!("BROKEN at record {n}")), "{text}");
}

#[test]
fn waivers_are_requested_approved_and_listed_from_the_cli() {
    let ws = tempfile::tempdir().unwrap();
    assert!(
        idp(ws.path())
            .args(["-q"])
            .args(RUN)
            .status()
            .unwrap()
            .success()
    );
    let out = idp(ws.path())
        .args([
            "--json",
            "waiver",
            "request",
            "--rule",
            "protected-environment",
            "--service",
            "payments-api",
        ])
        .args([
            "--env",
            "prod",
            "--operation",
            "provision-gitops",
            "--justification",
            "bump memory after an incident",
            "--expires",
            "1d",
        ])
        .output()
        .unwrap();
    let id = json_of(&out)["id"].as_str().unwrap().to_string();
    // The requester cannot approve; an admin can.
    assert_eq!(
        idp(ws.path())
            .args(["-q", "waiver", "approve", &id])
            .status()
            .unwrap()
            .code(),
        Some(3)
    );
    let pat = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("--workspace")
        .arg(ws.path())
        .args(["--as", "user:default/pat", "-q", "waiver", "approve", &id])
        .status()
        .unwrap();
    assert!(pat.success());
    let list = json_of(
        &idp(ws.path())
            .args(["--json", "waiver", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(list[0]["state"], "approved");
    let change = idp(ws.path())
        .args([
            "-q",
            "provision-gitops",
            "--service",
            "payments-api",
            "--owner",
            "team-payments",
            "--param",
            "memory_limit=512Mi",
        ])
        .status()
        .unwrap();
    assert!(change.success());
}

#[test]
fn a_waiver_of_a_rule_nothing_checks_is_refused_with_the_valid_rules() {
    let ws = tempfile::tempdir().unwrap();
    let out = idp(ws.path())
        .args([
            "waiver",
            "request",
            "--rule",
            "managed-edit",
            "--service",
            "payments-api",
        ])
        .args([
            "--owner",
            "team-payments",
            "--justification",
            "keep our edited deployment",
        ])
        .args(["--expires", "1d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for valid in [
        "protected-environment",
        "image-tag-pinned",
        "deny_privileged",
    ] {
        assert!(err.contains(valid), "{err}");
    }
    let list = json_of(
        &idp(ws.path())
            .args(["--json", "waiver", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn policy_test_runs_the_builtin_policy_tests() {
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("platform");
    assert!(
        Command::new(env!("CARGO_BIN_EXE_idp"))
            .arg("init")
            .arg(&pf)
            .status()
            .unwrap()
            .success()
    );
    let ws = dir.path().join("ws");
    let run = |json: bool| {
        idp(&ws)
            .arg("--platform")
            .arg(&pf)
            .args(json.then_some("--json"))
            .args(["policy", "test"])
            .arg(pf.join("policies/tests"))
            .output()
            .unwrap()
    };
    let out = run(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_of(&out)["failed"], 0);
    let wrong = |test: &str| std::fs::write(pf.join("policies/tests/wrong.yaml"), test).unwrap();
    // A wrong expectation fails the run.
    wrong(
        "tests:\n  - name: mallory may bootstrap\n    principal: user:default/mallory\n    action: bootstrap_service\n    service: {name: x, owner: team-payments}\n    expect: allow\n",
    );
    assert_eq!(run(false).status.code(), Some(1));
    // The right decision by the wrong policies fails too, and says what was expected.
    wrong(
        "tests:\n  - name: mallory is stopped by a named policy\n    principal: user:default/mallory\n    action: bootstrap_service\n    service: {name: x, owner: team-payments}\n    expect: deny\n    policies: [no-strangers]\n",
    );
    let out = run(false);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("expected Deny (policies [no-strangers]), got Deny (policies [])"),
        "{text}"
    );
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the fail points: --features idp-cli/failpoints"
)]
fn a_crash_mid_upgrade_leaves_the_repo_as_it_was_and_a_rerun_completes() {
    let ws = tempfile::tempdir().unwrap();
    let v1 = idp(ws.path())
        .args(["-q"])
        .args(RUN)
        .args(["--version", "1.0.0"])
        .status()
        .unwrap();
    assert!(v1.success());
    let before = main_commits(ws.path(), "payments-api");
    let upgrade = |failpoint: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_idp"));
        c.arg("--workspace").arg(ws.path()).args([
            "--as",
            "user:default/pat",
            "-q",
            "--json",
            "upgrade",
            "payments-api",
        ]);
        if let Some(f) = failpoint {
            c.env("IDP_FAILPOINT", f);
        }
        c.output().unwrap()
    };
    let crashed = upgrade(Some("scm:committed"));
    assert!(!crashed.status.success());
    assert_eq!(
        main_commits(ws.path(), "payments-api"),
        before,
        "a crashed upgrade moved the repo"
    );
    let fleet = json_of(
        &idp(ws.path())
            .args(["-q", "--json", "fleet"])
            .output()
            .unwrap(),
    );
    assert_eq!(fleet[0]["version"], "1.0.0");
    let done = upgrade(None);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(json_of(&done)["status"], "upgraded");
    assert_eq!(
        main_commits(ws.path(), "payments-api").len(),
        before.len() + 1,
        "one upgrade commit"
    );
    let again = upgrade(None);
    assert_eq!(json_of(&again)["status"], "up_to_date");
    assert_eq!(
        main_commits(ws.path(), "payments-api").len(),
        before.len() + 1
    );
}

#[test]
fn an_upgrade_with_conflicts_exits_with_the_conflict_code_alone_and_in_the_fleet() {
    let ws = tempfile::tempdir().unwrap();
    assert!(
        idp(ws.path())
            .args(["-q"])
            .args(RUN)
            .args(["--version", "1.0.0"])
            .status()
            .unwrap()
            .success()
    );
    // The team edits the line 2.0.0 changes, as a push to main would.
    let clone = ws.path().join("clone");
    let git = |args: &[&str]| git_in(ws.path(), args);
    git(&["clone", "-q", "repos/payments-api.git", "clone"]);
    let docker = std::fs::read_to_string(clone.join("Dockerfile"))
        .unwrap()
        .replace("--retries=3", "--retries=5");
    std::fs::write(clone.join("Dockerfile"), docker).unwrap();
    git(&["-C", "clone", "commit", "-qam", "more retries"]);
    git(&["-C", "clone", "push", "-q", "origin", "main"]);
    let upgrade = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_idp"))
            .arg("--workspace")
            .arg(ws.path())
            .args(["--as", "user:default/pat", "-q", "--json", "upgrade"])
            .args(extra)
            .output()
            .unwrap()
    };
    let one = upgrade(&["payments-api"]);
    assert_eq!(json_of(&one)["status"], "conflicts");
    assert_eq!(one.status.code(), Some(4), "the conflict exit code");
    let fleet = upgrade(&["--all"]);
    assert_eq!(json_of(&fleet)["conflicts"], 1);
    assert_eq!(fleet.status.code(), Some(4));
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the fail points: --features idp-cli/failpoints"
)]
fn ctrl_c_stops_the_run_at_a_safe_point_records_it_cancelled_and_resume_finishes_it() {
    let root = tempfile::tempdir().unwrap();
    let ws: PathBuf = root.path().join("ws");
    let reference = json_of(&idp(&ws).args(["--json", "-q"]).args(RUN).output().unwrap());
    let trees = (main_tree(&ws, "payments-api"), main_tree(&ws, "gitops"));
    std::fs::remove_dir_all(&ws).unwrap();

    // Ctrl-C while provision_gitops is under way: it finishes, and the run stops before the
    // next step.
    let ready = root.path().join("ready");
    let child = idp(&ws)
        .args(RUN)
        .env("IDP_FAILPOINT", "step:provision_gitops:planned:delay")
        .env("IDP_FAILPOINT_READY", &ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed().as_secs() < 60,
            "the run never reached provision_gitops"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("[Cancelled]") && stderr.contains("idp resume"),
        "{stderr}"
    );

    let runs = json_of(&idp(&ws).args(["--json", "-q", "runs"]).output().unwrap());
    let run = &runs[0];
    assert_eq!(run["status"], "cancelled");
    assert_eq!(
        run["steps_completed"],
        serde_json::json!(["bootstrap_service", "wire_ci", "provision_gitops"])
    );
    let run_id = run["run_id"].as_str().unwrap();
    let resumed = idp(&ws)
        .args(["--json", "-q", "resume", run_id])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let receipt = json_of(&resumed);
    assert_eq!(receipt["run_id"], run_id);
    assert_eq!(artifacts(&receipt), artifacts(&reference));
    assert_eq!(
        (main_tree(&ws, "payments-api"), main_tree(&ws, "gitops")),
        trees
    );
}

#[test]
fn hostile_request_input_is_capped_and_refused_without_echo() {
    let ws = tempfile::tempdir().unwrap();
    let out = idp(ws.path())
        .args(["plan", "golden-path", "--request", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger than"),
        "{out:?}"
    );
    let secret = ws.path().join("shadow");
    std::fs::write(&secret, "root:$6$s3cr3t:19000:0:99999:7:::\n").unwrap();
    let out = idp(ws.path())
        .args(["plan", "golden-path", "--request"])
        .arg(&secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("s3cr3t"),
        "{out:?}"
    );
    // A request file may leave service and owner to the flags.
    let req = ws.path().join("req.yaml");
    std::fs::write(&req, "parameters: { port: 8081 }\n").unwrap();
    let out = idp(ws.path())
        .args(["--json", "plan", "golden-path", "--request"])
        .arg(&req)
        .args(["--service", "payments-api", "--owner", "team-payments"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // An empty --as is not a principal.
    let out = idp_as(ws.path(), "").args(RUN).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a user reference"),
        "{out:?}"
    );
    assert!(!ws.path().join("repos").exists());
}

#[test]
fn a_pinned_workspace_refuses_writes_from_another_platform_folder() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pf");
    let evil = dir.path().join("evil");
    for d in [&pf, &evil] {
        init_folder(d);
    }
    std::fs::write(
        evil.join("policies/authz.cedar"),
        "@id(\"permit-all\")\npermit (principal, action, resource);\n",
    )
    .unwrap();
    // Only a platform admin pins.
    let out = idp(ws.path())
        .arg("--platform")
        .arg(&pf)
        .arg("pin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let pin = |platform: &Path| {
        let mut c = idp_as(ws.path(), "user:default/pat");
        c.arg("--platform").arg(platform);
        c
    };
    let out = pin(&pf).arg("pin").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    // The permit-all folder cannot write, re-pin or unpin; a plan still works.
    let out = pin(&evil).args(RUN).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pinned"),
        "{out:?}"
    );
    assert!(!ws.path().join("repos/payments-api.git").exists());
    for args in [&["pin"][..], &["pin", "--clear"][..]] {
        let out = pin(&evil).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {out:?}");
    }
    let out = pin(&evil)
        .args([
            "plan",
            "golden-path",
            "--service",
            "payments-api",
            "--owner",
            "team-payments",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // The pinned folder writes, and every record names the platform that decided.
    let out = idp(ws.path())
        .arg("--platform")
        .arg(&pf)
        .args(RUN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = pin(&pf).args(["--json", "pin", "--show"]).output().unwrap();
    let shown = json_of(&out);
    assert_eq!(shown["matches"], true);
    let digest = shown["platform_digest"].as_str().unwrap().to_string();
    let list = json_of(
        &idp(ws.path())
            .args(["--json", "audit", "list"])
            .output()
            .unwrap(),
    );
    let records = list.as_array().unwrap();
    let runs: Vec<_> = records
        .iter()
        .filter(|r| r["event"]["operation"] == "run_golden_path")
        .collect();
    assert!(!runs.is_empty());
    for r in runs {
        if r["event"]["outcome"] == "denied" {
            // The refused write from the permit-all folder is recorded, with that folder's digest.
            assert_eq!(r["event"]["details"]["pinned"], true, "{r}");
            assert_ne!(r["event"]["platform"], digest.as_str(), "{r}");
        } else {
            assert_eq!(r["event"]["platform"], digest.as_str(), "{r}");
        }
    }
    assert!(
        records
            .iter()
            .any(|r| r["event"]["outcome"] == "denied" && r["event"]["details"]["pinned"] == true),
        "the refused write is not in the log"
    );
    // A pin by path follows the folder's edits; a pin by digest does not.
    std::fs::write(pf.join("policies/notes.md"), "edited\n").unwrap();
    let out = pin(&pf).args(RUN).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = pin(&pf).args(["pin", "--by", "path"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "an edited folder cannot re-pin: {out:?}"
    );
    std::fs::remove_file(pf.join("policies/notes.md")).unwrap();
    assert!(
        pin(&pf)
            .args(["pin", "--by", "path"])
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::write(pf.join("policies/notes.md"), "edited\n").unwrap();
    let out = pin(&pf).args(RUN).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        pin(&pf)
            .args(["pin", "--clear"])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(pin(&evil).args(RUN).output().unwrap().status.success());
}

#[test]
fn audit_verify_reads_only_and_exported_checkpoints_catch_a_truncation() {
    let ws = tempfile::tempdir().unwrap();
    assert!(
        idp(ws.path())
            .args(["-q"])
            .args(RUN)
            .status()
            .unwrap()
            .success()
    );
    let records = || {
        rusqlite::Connection::open(ws.path().join("audit.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM audit", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let n = records();
    // With another platform folder, verify still records nothing (no policy load).
    let pf = tempfile::tempdir().unwrap();
    let pf = pf.path().join("pf");
    init_folder(&pf);
    std::fs::write(
        pf.join("policies/extra.cedar"),
        "@id(\"x\")\nforbid (principal, action, resource) when { false };\n",
    )
    .unwrap();
    let out = idp(ws.path())
        .arg("--platform")
        .arg(&pf)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(records(), n, "verify wrote to the log it checks");
    // Signing checkpoints is for platform admins.
    let out = idp(ws.path())
        .args(["audit", "checkpoint"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = idp_as(ws.path(), "user:default/pat")
        .args(["audit", "checkpoint"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Export is refused inside the workspace, and works outside it.
    let out = idp(ws.path())
        .args(["audit", "export", "--to"])
        .arg(ws.path().join("cp.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let outside = tempfile::tempdir().unwrap();
    let anchors = outside.path().join("checkpoints.jsonl");
    let out = idp(ws.path())
        .args(["audit", "export", "--to"])
        .arg(&anchors)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let total = records();
    // Delete the tail and every checkpoint (the every-1000th signatures that would survive in a
    // longer log are tested in idp-core's audit tests): verify names the first unsigned record,
    // and the exported checkpoint names the cut.
    let db = rusqlite::Connection::open(ws.path().join("audit.db")).unwrap();
    db.execute_batch(&format!(
        "DELETE FROM audit WHERE seq > {}; DELETE FROM audit_checkpoints;",
        total - 2
    ))
    .unwrap();
    drop(db);
    let out = idp(ws.path())
        .args(["--json", "audit", "verify", "--checkpoints"])
        .arg(&anchors)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_of(&out);
    assert_eq!(report["ok"], false, "{report}");
    let out = idp(ws.path())
        .args(["--json", "audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

fn runs_json(ws: &Path) -> Vec<serde_json::Value> {
    let out = idp(ws).args(["--json", "-q", "runs"]).output().unwrap();
    json_of(&out).as_array().unwrap().clone()
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the fail points: --features idp-cli/failpoints"
)]
fn a_retry_after_an_io_failure_past_the_commit_reuses_that_commit() {
    let ws = tempfile::tempdir().unwrap();
    // The commit of wire_ci is written (and merged); then an I/O error fails the run.
    let out = idp(ws.path())
        .args(["-q"])
        .args(RUN)
        .env("IDP_FAILPOINT", "step:wire_ci:submitted:error")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let failed = runs_json(ws.path());
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["status"], "failed");
    let commits = main_commits(ws.path(), "payments-api");
    assert_eq!(commits.len(), 2, "bootstrap and wire_ci");
    // The same request again continues that run and finds the wire_ci commit by its key.
    let out = idp(ws.path())
        .args(["--json", "-q"])
        .args(RUN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["run_id"], failed[0]["run_id"]);
    assert_eq!(
        main_commits(ws.path(), "payments-api"),
        commits,
        "a second commit"
    );
    let db = rusqlite::Connection::open(ws.path().join("state.db")).unwrap();
    let pending: i64 = db
        .query_row(
            "SELECT count(*) FROM change_requests WHERE state != 'merged'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pending, 0, "a change request was left pending");
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the fail points: --features idp-cli/failpoints"
)]
fn resuming_a_run_that_a_newer_run_overtook_is_refused() {
    let ws = tempfile::tempdir().unwrap();
    let run_with_port = |port: &str| {
        let mut c = idp(ws.path());
        c.args(["--json", "-q"]).args(RUN).args(["--param", port]);
        c
    };
    let out = run_with_port("port=9090")
        .env("IDP_FAILPOINT", "step:provision_gitops:planned")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let old = running_run(ws.path()).expect("an interrupted run");
    let out = run_with_port("port=9091").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_ne!(json_of(&out)["run_id"], old.as_str());
    let gitops = main_tree(ws.path(), "gitops");
    let out = idp(ws.path()).args(["resume", &old]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("superseded"),
        "{out:?}"
    );
    assert_eq!(
        main_tree(ws.path(), "gitops"),
        gitops,
        "the old run wrote over the newer one"
    );
    let runs = runs_json(ws.path());
    let status = runs.iter().find(|r| r["run_id"] == old.as_str()).unwrap()["status"].clone();
    assert_eq!(status, "superseded");
    // The old request sent again is planned afresh against the current state: now it changes
    // prod, which the platform admin may do.
    let out = idp_as(ws.path(), "user:default/pat")
        .args(["--json", "-q"])
        .args(RUN)
        .args(["--param", "port=9090"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_ne!(json_of(&out)["run_id"], old.as_str());
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the fail points: --features idp-cli/failpoints"
)]
fn a_run_killed_after_its_commit_is_in_the_audit_log() {
    let ws = tempfile::tempdir().unwrap();
    crash_at(ws.path(), "step:bootstrap_service:submitted");
    assert_eq!(main_commits(ws.path(), "payments-api").len(), 1);
    let run = running_run(ws.path()).expect("the killed run");
    let out = idp(ws.path())
        .args(["--json", "audit", "list"])
        .output()
        .unwrap();
    let records = json_of(&out);
    let started = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["event"]["correlation_id"] == run.as_str())
        .unwrap_or_else(|| panic!("no record of {run}: {records}"));
    assert_eq!(started["event"]["outcome"], "started");
    assert_eq!(started["event"]["decision"], "allow");
    // Its resumption is recorded as such.
    let out = idp(ws.path())
        .args(["-q", "resume", &run])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = idp(ws.path())
        .args(["--json", "audit", "list"])
        .output()
        .unwrap();
    let outcomes: Vec<String> = json_of(&out)
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["event"]["correlation_id"] == run.as_str())
        .map(|r| r["event"]["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["started", "resumed", "completed"]);
}

#[test]
fn a_parameter_change_merges_into_a_team_edit_and_explain_and_fleet_show_the_drift() {
    let ws = tempfile::tempdir().unwrap();
    let pat = || idp_as(ws.path(), "user:default/pat");
    assert!(pat().args(["-q"]).args(RUN).status().unwrap().success());
    // The team raises dev's replicas in its deployment, pushed with git.
    let git = |args: &[&str]| git_in(ws.path(), args);
    git(&["clone", "-q", "repos/gitops.git", "clone"]);
    let file = ws
        .path()
        .join("clone/apps/payments-api/dev/deployment.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("replicas: 1\n", "replicas: 2\n", 1);
    assert_ne!(edited, text, "the dev deployment sets replicas: 1");
    std::fs::write(&file, edited).unwrap();
    git(&["-C", "clone", "commit", "-qam", "two replicas in dev"]);
    git(&["-C", "clone", "push", "-q", "origin", "main"]);
    let gitops = |port: &str| {
        pat()
            .args(["-q", "provision-gitops", "--service", "payments-api"])
            .args(["--param", &format!("port={port}")])
            .output()
            .unwrap()
    };
    let out = gitops("3001");
    assert!(out.status.success(), "{out:?}");
    git(&["-C", "clone", "pull", "-q", "--ff-only"]);
    let merged = std::fs::read_to_string(&file).unwrap();
    assert!(
        merged.contains("replicas: 2") && merged.contains("containerPort: 3001"),
        "{merged}"
    );
    let explain = pat().args(["explain", "payments-api"]).output().unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(
        text.contains("differs from what idp renders at: /spec/replicas"),
        "{text}"
    );
    let fleet = pat().args(["fleet"]).output().unwrap();
    let text = String::from_utf8_lossy(&fleet.stdout);
    assert!(
        text.contains("1 merged file(s) differ from their parameters"),
        "{text}"
    );
    // The team pins the port; another port change conflicts: the conflict exit code, and the
    // message names the file and the key.
    let pinned = merged.replacen("containerPort: 3001", "containerPort: 4000", 1);
    std::fs::write(&file, pinned).unwrap();
    git(&["-C", "clone", "commit", "-qam", "pin the port"]);
    git(&["-C", "clone", "push", "-q", "origin", "main"]);
    let before = main_commits(ws.path(), "gitops");
    let out = gitops("3002");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("apps/payments-api/dev/deployment.yaml")
            && err.contains("ports[name=http]/containerPort"),
        "{err}"
    );
    assert_eq!(main_commits(ws.path(), "gitops"), before);
}

#[test]
fn env_param_gives_one_environment_its_own_values_for_golden_paths_and_intents() {
    let ws = tempfile::tempdir().unwrap();
    let pat = || idp_as(ws.path(), "user:default/pat");
    let out = pat()
        .args(["-q"])
        .args(RUN)
        .args(["--env-param", "prod:memory_limit=1024Mi"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let show = |path: &str| {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(ws.path().join("repos/gitops.git"))
            .args(["show", &format!("main:{path}")])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(show("apps/payments-api/prod/deployment.yaml").contains("memory: \"1024Mi\""));
    assert!(show("apps/payments-api/dev/deployment.yaml").contains("memory: \"256Mi\""));
    let explain = pat().args(["explain", "payments-api"]).output().unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(
        text.contains("prod has its own parameters: memory_limit=1024Mi"),
        "{text}"
    );
    let json = json_of(
        &pat()
            .args(["--json", "explain", "payments-api"])
            .output()
            .unwrap(),
    );
    assert_eq!(json["environments"]["prod"]["memory_limit"], "1024Mi");
    // An intent with a value for prod only.
    let out = pat()
        .args([
            "-q",
            "--json",
            "request-infra-resource",
            "--service",
            "payments-api",
        ])
        .args(["--intent", "bucket:logs", "--param", "retention_days=30"])
        .args(["--env-param", "prod:retention_days=400"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let infra = json_of(
        &pat()
            .args(["--json", "explain", "payments-api"])
            .output()
            .unwrap(),
    )["infrastructure"]
        .clone();
    let retention = |env: &str| {
        infra
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["environment"] == env)
            .unwrap()["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["param"] == "retention_days")
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(
        (retention("prod"), retention("dev")),
        (400.into(), 30.into())
    );
    // ENV:KEY=null removes a value an environment kept.
    let out = pat()
        .args(["-q", "provision-gitops", "--service", "payments-api"])
        .args(["--env-param", "prod:memory_limit=null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(show("apps/payments-api/prod/deployment.yaml").contains("memory: \"256Mi\""));
    let json = json_of(
        &pat()
            .args(["--json", "explain", "payments-api"])
            .output()
            .unwrap(),
    );
    assert!(json.get("environments").is_none(), "{json}");
    // Malformed and unknown: InvalidInput (exit 2) naming the flag or field, nothing written.
    let before = main_commits(ws.path(), "gitops");
    for (arg, needle) in [
        ("prod-memory_limit=1Gi", "--env-param"),
        ("qa:memory_limit=512Mi", "environments.qa"),
        (
            "prod:memory_limit=lots",
            "environments.prod.parameters.memory_limit",
        ),
    ] {
        let out = pat()
            .args(["-q", "provision-gitops", "--service", "payments-api"])
            .args(["--env-param", arg])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{arg}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{arg}: {err}");
    }
    assert_eq!(main_commits(ws.path(), "gitops"), before);
}

#[test]
fn golden_path_check_exits_1_with_every_problem_and_0_when_clean() {
    let ws = tempfile::tempdir().unwrap();
    let out = idp(ws.path())
        .args(["golden-path", "check"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 error(s), 0 warning(s)"),
        "{out:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    init_folder(dir.path());
    let v2 = dir.path().join("golden-paths/python-fastapi-service/2.0.0");
    // Developing the version again: off with its release lock.
    std::fs::remove_file(v2.join("release.lock")).unwrap();
    let path_yaml = v2.join("path.yaml");
    let text = std::fs::read_to_string(&path_yaml).unwrap();
    std::fs::write(&path_yaml, text.replacen("default: 8080", "default: 80", 1)).unwrap();
    let out = idp(ws.path())
        .arg("--platform")
        .arg(dir.path())
        .args(["--json", "golden-path", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_of(&out);
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["problems"][0]["field"],
        "parameters.properties.port.default"
    );
    // The listing still shows both versions: the broken default does not stop the load.
    let list = idp(ws.path())
        .arg("--platform")
        .arg(dir.path())
        .args(["golden-path", "list"])
        .output()
        .unwrap();
    assert!(list.status.success(), "{list:?}");
}

#[test]
fn a_released_golden_path_is_frozen_until_a_new_version_is_released() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    init_folder(dir.path());
    let with_platform = || {
        let mut c = idp_as(ws.path(), "user:default/pat");
        c.arg("--platform").arg(dir.path());
        c
    };
    // The built-in versions are released: an edit to what one renders from (here a shared
    // template of 2.1.0, the latest) sets it aside.
    let v2 = dir.path().join("golden-paths/python-fastapi-service/2.1.0");
    let readme = dir
        .path()
        .join("shared/templates/python-fastapi/README.md.tera");
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(&readme, format!("{text}\nEdited after the release.\n")).unwrap();
    let out = with_platform().args(["-q"]).args(RUN).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("released and frozen") && err.contains("README.md.tera"),
        "{err}"
    );
    // Releasing needs the platform folder, and writes the lock there.
    let no_folder = idp(ws.path())
        .args(["golden-path", "release", "python-fastapi-service", "2.1.0"])
        .output()
        .unwrap();
    assert_eq!(no_folder.status.code(), Some(2), "{no_folder:?}");
    // (A real team cuts 2.2.0; re-releasing 2.1.0 here shows the lock's role.)
    std::fs::remove_file(v2.join("release.lock")).unwrap();
    let out = with_platform()
        .args(["golden-path", "release", "python-fastapi-service", "2.1.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(v2.join("release.lock").is_file());
    let out = with_platform().args(["-q"]).args(RUN).output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// One version, set in the workspace's Cargo.toml: `idp --version`, both npm packages and their
/// locks agree with it (the Python package reads it from Cargo.toml through maturin, and the
/// addon and the extension report the crate's), and `scripts/set-version.mjs` moves them all.
#[test]
fn one_version_everywhere() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let want = env!("CARGO_PKG_VERSION");
    let out = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("idp {want}\n")
    );
    let versions = |root: &Path| -> Vec<(String, String)> {
        let mut found = Vec::new();
        let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let package = cargo.split("[workspace.package]").nth(1).unwrap();
        let line = package
            .lines()
            .find(|l| l.starts_with("version = "))
            .unwrap();
        found.push(("Cargo.toml".into(), line[11..line.len() - 1].to_string()));
        for dir in ["idp-node", "idp-node/backstage"] {
            for file in ["package.json", "package-lock.json"] {
                let path = format!("{dir}/{file}");
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(root.join(&path)).unwrap())
                        .unwrap();
                found.push((path.clone(), v["version"].as_str().unwrap().to_string()));
                if file == "package-lock.json" {
                    for entry in ["", ".."] {
                        if let Some(e) = v["packages"][entry]["version"].as_str() {
                            found.push((format!("{path} packages[{entry:?}]"), e.to_string()));
                        }
                    }
                }
            }
        }
        // The prebuilt platform packages (idp-node/npm/<platform>), one per napi target.
        let mut platforms: Vec<_> = std::fs::read_dir(root.join("idp-node/npm"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        platforms.sort();
        assert!(
            platforms.contains(&"linux-x64-gnu".to_string()),
            "{platforms:?}"
        );
        for p in platforms {
            let path = format!("idp-node/npm/{p}/package.json");
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(root.join(&path)).unwrap()).unwrap();
            found.push((path, v["version"].as_str().unwrap().to_string()));
        }
        found
    };
    for (file, v) in versions(root) {
        assert_eq!(
            v, want,
            "{file} says {v}; run node scripts/set-version.mjs {want}"
        );
    }
    // The script moves every one of them, in a copy of those files.
    let copy = tempfile::tempdir().unwrap();
    for file in [
        "Cargo.toml",
        "idp-node/package.json",
        "idp-node/package-lock.json",
        "idp-node/backstage/package.json",
        "idp-node/backstage/package-lock.json",
    ]
    .into_iter()
    .map(String::from)
    .chain(
        std::fs::read_dir(root.join("idp-node/npm"))
            .unwrap()
            .map(|e| {
                format!(
                    "idp-node/npm/{}/package.json",
                    e.unwrap().file_name().to_string_lossy()
                )
            }),
    ) {
        let to = copy.path().join(&file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(&file), to).unwrap();
    }
    let set = Command::new("node")
        .arg(root.join("scripts/set-version.mjs"))
        .args(["9.8.7", "--root"])
        .arg(copy.path())
        .output()
        .unwrap();
    assert!(set.status.success(), "{set:?}");
    let moved = versions(copy.path());
    assert_eq!(moved.len(), versions(root).len());
    assert!(moved.iter().all(|(_, v)| v == "9.8.7"), "{moved:?}");
    // A bad version, or a file it cannot read, changes nothing.
    let cargo_before = std::fs::read(copy.path().join("Cargo.toml")).unwrap();
    std::fs::write(
        copy.path().join("idp-node/backstage/package-lock.json"),
        "{",
    )
    .unwrap();
    for v in ["1.2.3", "not-a-version"] {
        let set = Command::new("node")
            .arg(root.join("scripts/set-version.mjs"))
            .args([v, "--root"])
            .arg(copy.path())
            .output()
            .unwrap();
        assert!(!set.status.success(), "{set:?}");
        assert_eq!(
            std::fs::read(copy.path().join("Cargo.toml")).unwrap(),
            cargo_before
        );
    }
}
