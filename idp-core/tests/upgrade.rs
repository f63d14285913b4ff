//! Upgrades: a service scaffolded at 1.0.0, edited by its team, moved to 2.0.0 — and the fleet.

mod common;
use common::read;
use std::sync::Arc;

use idp_core::blocking::Platform;
use idp_core::platform::{FleetUpgradeRequest, UpgradeRequest, UpgradeStatus};
use idp_core::providers::{ChangeRequestSpec, Signature};
use idp_core::scaffold::upgrade::UpgradeAction;
use idp_core::{Operation, ServiceRequest};

/// The built-in golden path's newest version, where an upgrade without `to` goes: 1.0.0 -> 2.0.0
/// (the changes these tests edit around) -> 2.1.0 (the same files, from the shared templates).
const LATEST: &str = "2.1.0";

fn at_v1(p: &Platform, service: &str) {
    let req = ServiceRequest {
        version: Some("1.0.0".into()),
        ..ServiceRequest::new(service, "team-payments")
    };
    p.run_golden_path(&p.principal("alice"), &req).unwrap();
}

/// The team changes files on the default branch, as a push would.
fn team_edit(p: &Platform, repo: &str, files: &[(&str, Option<&str>)]) {
    let sig = Signature {
        name: "team".into(),
        email: "team@acme.example".into(),
    };
    p.block_on(
        p.source_control().submit(&ChangeRequestSpec {
            key: format!("team-{}", idp_core::digest::random_hex(4)),
            repo: repo.into(),
            branch: "team/edits".into(),
            title: "team edits".into(),
            body: String::new(),
            files: files
                .iter()
                .map(|(p, c)| (p.to_string(), c.map(|c| Arc::new(c.as_bytes().to_vec()))))
                .collect(),
            author: sig.clone(),
            committer: sig,
            trailers: vec![],
            hold: false,
        }),
    )
    .unwrap()
    .unwrap();
}

fn head(p: &Platform, repo: &str) -> git2::Oid {
    git2::Repository::open_bare(p.workspace().join(format!("repos/{repo}.git")))
        .unwrap()
        .refname_to_id("refs/heads/main")
        .unwrap()
}

fn upgrade(p: &Platform, service: &str) -> idp_core::platform::UpgradeResult {
    p.upgrade(
        &p.principal("pat"),
        &UpgradeRequest {
            service: service.into(),
            to: None,
            keep: false,
        },
        false,
    )
    .unwrap()
}

#[test]
fn edits_to_different_keys_and_far_lines_merge_cleanly_and_both_are_kept() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    at_v1(&p, "payments-api");
    // YAML: a new key next to the annotation 2.0.0 adds (neighbouring lines, different keys).
    let catalog = read(&p, "payments-api", "catalog-info.yaml")
        .unwrap()
        .replace(
            "    backstage.io/kubernetes-label-selector:",
            "    pagerduty.com/service-id: PX1234\n    backstage.io/kubernetes-label-selector:",
        );
    // Text: a line far from 2.0.0's Dockerfile changes.
    let docker = read(&p, "payments-api", "Dockerfile")
        .unwrap()
        .replace("WORKDIR /build", "WORKDIR /src");
    team_edit(
        &p,
        "payments-api",
        &[
            ("catalog-info.yaml", Some(&catalog)),
            ("Dockerfile", Some(&docker)),
        ],
    );
    let r = upgrade(&p, "payments-api");
    assert_eq!(r.status, UpgradeStatus::Upgraded, "{:?}", r.conflicts);
    assert!(r.conflicts.is_empty());
    let cat = read(&p, "payments-api", "catalog-info.yaml").unwrap();
    assert!(cat.contains("PX1234"), "team edit lost: {cat}");
    assert!(
        cat.contains("backstage.io/source-location"),
        "platform change lost: {cat}"
    );
    assert!(
        cat.contains(&format!("idp.dev/scaffold-version: \"{LATEST}\"")),
        "{cat}"
    );
    let d = read(&p, "payments-api", "Dockerfile").unwrap();
    assert!(
        d.contains("WORKDIR /src") && d.contains("--interval=15s") && d.contains("Renovate"),
        "{d}"
    );
    let action = |path: &str| r.files.iter().find(|f| f.path == path).unwrap().action;
    assert_eq!(action("Dockerfile"), UpgradeAction::MergeClean);
    assert_eq!(action("catalog-info.yaml"), UpgradeAction::MergeClean);
    // The migration set a key in the team's pyproject.
    assert!(
        read(&p, "payments-api", "pyproject.toml")
            .unwrap()
            .contains("xfail_strict = true")
    );
    // The stamp moved, and the registry with it.
    assert!(
        read(&p, "payments-api", ".idp/scaffold.json")
            .unwrap()
            .contains(&format!("\"scaffoldVersion\": \"{LATEST}\""))
    );
    assert_eq!(p.fleet(&p.principal("pat")).unwrap()[0].behind, 0);
}

#[test]
fn edits_inside_one_container_merge_with_the_platforms_by_container_name() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    at_v1(&p, "payments-api");
    // The team raises the memory limit and adds an env var, in the container whose
    // imagePullPolicy 2.0.0 changes: one list item, different keys.
    let path = "apps/payments-api/dev/deployment.yaml";
    let v1 = read(&p, "gitops", path).unwrap();
    let (requests, limits) = v1.split_once("limits:").unwrap();
    let limits = limits.replacen("memory: \"256Mi\"", "memory: \"1Gi\"", 1);
    let edited = format!("{requests}limits:{limits}")
        .replace(
            "          env:\n",
            "          env:\n            - name: FEATURE_FLAGS\n              value: \"fast-checkout\"\n",
        );
    assert_ne!(edited, v1);
    team_edit(&p, "gitops", &[(path, Some(&edited))]);
    let r = upgrade(&p, "payments-api");
    assert_eq!(r.status, UpgradeStatus::Upgraded, "{:?}", r.conflicts);
    let f = r.files.iter().find(|f| f.path == path).unwrap();
    assert_eq!(f.action, UpgradeAction::MergeClean);
    let doc: serde_json::Value =
        serde_norway::from_str(&read(&p, "gitops", path).unwrap()).unwrap();
    let c = &doc["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["imagePullPolicy"], "Always", "platform change lost");
    assert_eq!(c["resources"]["limits"]["memory"], "1Gi", "team edit lost");
    assert_eq!(c["env"][0]["name"], "FEATURE_FLAGS", "team edit lost");
    // 2.0.0's volumes for secret mounts and spread constraints arrive too.
    assert!(doc["spec"]["template"]["spec"]["topologySpreadConstraints"].is_array());
}

#[test]
fn an_edit_on_the_same_line_conflicts_with_markers_and_nothing_else_is_lost() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    at_v1(&p, "payments-api");
    let docker = read(&p, "payments-api", "Dockerfile")
        .unwrap()
        .replace("--retries=3", "--retries=5");
    let catalog = read(&p, "payments-api", "catalog-info.yaml")
        .unwrap()
        .replace("    - fastapi\n", "    - fastapi\n    - payments\n");
    team_edit(
        &p,
        "payments-api",
        &[
            ("Dockerfile", Some(&docker)),
            ("catalog-info.yaml", Some(&catalog)),
        ],
    );
    let before = head(&p, "payments-api");
    let r = upgrade(&p, "payments-api");
    assert_eq!(r.status, UpgradeStatus::Conflicts);
    assert_eq!(r.conflicts, vec!["payments-api:Dockerfile"]);
    // Main is untouched; the change request is open with the markers.
    assert_eq!(head(&p, "payments-api"), before);
    let cr = r
        .change_requests
        .iter()
        .find(|c| c.repo == "payments-api")
        .unwrap();
    assert_eq!(cr.state, idp_core::receipt::ChangeRequestState::Open);
    let on_branch = |path: &str| {
        String::from_utf8(
            p.block_on(p.source_control().read_files(
                "payments-api",
                Some(&cr.branch),
                &[path.into()],
            ))
            .unwrap()
            .unwrap()[0]
                .clone()
                .unwrap(),
        )
        .unwrap()
    };
    let d = on_branch("Dockerfile");
    assert!(
        d.contains("<<<<<<< ours (your edits)")
            && d.contains(">>>>>>> theirs (python-fastapi-service@2.0.0)"),
        "{d}"
    );
    assert!(
        d.contains("--retries=5") && d.contains("--interval=15s"),
        "both sides are in the conflict: {d}"
    );
    assert!(
        d.contains("Renovate"),
        "the clean change elsewhere in the file is applied: {d}"
    );
    assert!(
        on_branch("catalog-info.yaml").contains("- payments"),
        "the other edit is kept"
    );
    // Rerunning does not commit again.
    let again = upgrade(&p, "payments-api");
    assert_eq!(
        again
            .change_requests
            .iter()
            .find(|c| c.repo == "payments-api")
            .unwrap()
            .commit,
        cr.commit
    );
}

#[test]
fn deleted_stays_deleted_renames_are_followed_and_upgrading_twice_is_a_no_op() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    at_v1(&p, "payments-api");
    team_edit(
        &p,
        "payments-api",
        &[(".dockerignore", None), (".gitignore", None)],
    );
    let r = upgrade(&p, "payments-api");
    assert_eq!(r.status, UpgradeStatus::Upgraded);
    assert_eq!(
        read(&p, "payments-api", ".dockerignore"),
        None,
        "a deleted managed file came back"
    );
    assert_eq!(
        read(&p, "payments-api", ".gitignore"),
        None,
        "a deleted merged file came back"
    );
    assert_eq!(read(&p, "payments-api", "SECURITY.md"), None);
    assert!(
        read(&p, "payments-api", ".github/SECURITY.md")
            .unwrap()
            .contains("Renovate")
    );
    let renamed = r
        .files
        .iter()
        .find(|f| f.path == ".github/SECURITY.md")
        .unwrap();
    assert_eq!(
        (renamed.action, renamed.renamed_from.as_deref()),
        (UpgradeAction::Rename, Some("SECURITY.md"))
    );
    assert_eq!(read(&p, "payments-api", ".github/dependabot.yml"), None);
    assert!(read(&p, "payments-api", "renovate.json").is_some());
    let heads = (head(&p, "payments-api"), head(&p, "gitops"));
    let second = upgrade(&p, "payments-api");
    assert_eq!(second.status, UpgradeStatus::UpToDate);
    assert_eq!(heads, (head(&p, "payments-api"), head(&p, "gitops")));
}

#[test]
fn a_plan_writes_nothing_and_managed_edits_are_reported_or_kept() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    at_v1(&p, "payments-api");
    team_edit(
        &p,
        "payments-api",
        &[(".github/workflows/ci.yml", Some("# ours\n"))],
    );
    assert_eq!(
        p.fleet(&p.principal("pat")).unwrap()[0].managed_edits,
        vec!["payments-api:.github/workflows/ci.yml"]
    );
    let heads = (head(&p, "payments-api"), head(&p, "gitops"));
    let pat = p.principal("pat");
    let plan = p
        .upgrade(
            &pat,
            &UpgradeRequest {
                service: "payments-api".into(),
                to: Some("2.0.0".into()),
                keep: false,
            },
            true,
        )
        .unwrap();
    assert_eq!(plan.status, UpgradeStatus::Planned);
    assert!(plan.files.iter().all(|f| !f.writes() || f.diff.is_some()));
    assert!(
        plan.warnings.iter().any(|w| w.contains("ci.yml")),
        "{:?}",
        plan.warnings
    );
    assert_eq!(heads, (head(&p, "payments-api"), head(&p, "gitops")));
    // --keep keeps the local edit of the managed file.
    let kept = p
        .upgrade(
            &pat,
            &UpgradeRequest {
                service: "payments-api".into(),
                to: None,
                keep: true,
            },
            false,
        )
        .unwrap();
    assert_eq!(
        read(&p, "payments-api", ".github/workflows/ci.yml").as_deref(),
        Some("# ours\n")
    );
    assert_eq!(
        kept.files
            .iter()
            .find(|f| f.path == ".github/workflows/ci.yml")
            .unwrap()
            .action,
        UpgradeAction::Keep
    );
}

#[test]
fn an_outsider_cannot_upgrade_and_prod_needs_approval_for_the_team() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    at_v1(&p, "payments-api");
    let req = UpgradeRequest {
        service: "payments-api".into(),
        to: None,
        keep: false,
    };
    assert_eq!(
        p.upgrade(&p.principal("mallory"), &req, true)
            .unwrap_err()
            .kind(),
        idp_core::ErrorKind::Denied
    );
    let e = p.upgrade(&p.principal("alice"), &req, false).unwrap_err();
    assert_eq!(e.kind(), idp_core::ErrorKind::Denied);
    assert!(e.to_string().contains("prod"), "{e}");
    // The team can still see the plan, with the decision that would stop it.
    let plan = p.upgrade(&p.principal("alice"), &req, true).unwrap();
    assert!(
        plan.decisions
            .iter()
            .any(|d| d.environment.as_deref() == Some("prod") && !d.allowed)
    );
}

#[test]
fn the_fleet_upgrades_in_parallel_with_a_summary() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    for s in ["svc-a", "svc-b", "svc-c"] {
        at_v1(&p, s);
    }
    let docker = read(&p, "svc-b", "Dockerfile")
        .unwrap()
        .replace("--retries=3", "--retries=4");
    team_edit(&p, "svc-b", &[("Dockerfile", Some(&docker))]);
    let rows = p.fleet(&p.principal("pat")).unwrap();
    assert!(rows.iter().all(|r| r.version == "1.0.0" && r.behind == 2));
    let report = p
        .upgrade_fleet(&p.principal("pat"), &FleetUpgradeRequest::default(), false)
        .unwrap();
    let outcome: Vec<(&str, &str)> = report
        .rows
        .iter()
        .map(|r| (r.service.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        outcome,
        [
            ("svc-a", "upgraded"),
            ("svc-b", "conflicts"),
            ("svc-c", "upgraded")
        ]
    );
    assert_eq!(
        (report.upgraded, report.conflicts, report.failed),
        (2, 1, 0)
    );
    let rows = p.fleet(&p.principal("pat")).unwrap();
    let v: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.service.as_str(), r.version.as_str()))
        .collect();
    assert_eq!(
        v,
        [("svc-a", LATEST), ("svc-b", "1.0.0"), ("svc-c", LATEST)]
    );
    // Only one team's services.
    let none = p
        .upgrade_fleet(
            &p.principal("pat"),
            &FleetUpgradeRequest {
                owner: Some("platform-team".into()),
                ..Default::default()
            },
            false,
        )
        .unwrap();
    assert!(none.rows.is_empty());
}

/// Runs git in `dir`, as a team member would.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Team", "-c", "user.email=team@acme.example"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The documented flow: clone, check out the upgrade branch, resolve the markers (keeping the
/// team's side), commit, and merge the branch into main by pushing it.
fn resolve_and_merge(p: &Platform, repo: &str, branch: &str, resolve: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let url = p.source_control().repo_url(repo);
    git(work.path(), &["clone", "-q", &url, "w"]);
    let w = work.path().join("w");
    git(&w, &["checkout", "-q", branch]);
    for path in resolve {
        let text = std::fs::read_to_string(w.join(path)).unwrap();
        let mut out = String::new();
        let mut side = None;
        for line in text.lines() {
            if line.starts_with("<<<<<<< ") {
                side = Some(true);
            } else if line == "=======" && side.is_some() {
                side = Some(false);
            } else if line.starts_with(">>>>>>> ") {
                side = None;
            } else if side != Some(false) {
                out.push_str(line);
                out.push('\n');
            }
        }
        std::fs::write(w.join(path), out).unwrap();
        git(&w, &["add", path]);
    }
    if !resolve.is_empty() {
        git(&w, &["commit", "-q", "-m", "resolve upgrade conflicts"]);
    }
    git(&w, &["push", "-q", "origin", &format!("{branch}:main")]);
}

/// payments-api at 1.0.0 with a team edit that conflicts with 2.0.0, upgraded; `before` runs
/// just before the upgrade.
/// payments-api run again by its team, with its current parameters.
fn rerun(p: &Platform) -> idp_core::Result<idp_core::Receipt> {
    let req = ServiceRequest::new("payments-api", "team-payments");
    p.run_golden_path(&p.principal("alice"), &req)
}

fn conflicted_at_v1(p: &Platform, before: impl FnOnce()) -> idp_core::platform::UpgradeResult {
    at_v1(p, "payments-api");
    let docker = read(p, "payments-api", "Dockerfile")
        .unwrap()
        .replace("--retries=3", "--retries=5");
    team_edit(p, "payments-api", &[("Dockerfile", Some(&docker))]);
    before();
    let r = upgrade(p, "payments-api");
    assert_eq!(r.status, UpgradeStatus::Conflicts);
    r
}

#[test]
fn a_conflicted_upgrade_holds_every_repo_so_the_service_never_runs_at_two_versions() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let mut gitops_before = None;
    let r = conflicted_at_v1(&p, || gitops_before = Some(head(&p, "gitops")));
    // The GitOps repo merges cleanly, but is held with the service repo.
    assert_eq!(Some(head(&p, "gitops")), gitops_before);
    let held: Vec<_> = r
        .change_requests
        .iter()
        .map(|c| (c.repo.as_str(), c.state))
        .collect();
    assert_eq!(
        held,
        [
            ("payments-api", idp_core::receipt::ChangeRequestState::Open),
            ("gitops", idp_core::receipt::ChangeRequestState::Open)
        ]
    );
    // Until then the service is at 1.0.0 everywhere, and runs go on rendering 1.0.0.
    let again = rerun(&p).unwrap();
    assert_eq!(again.scaffold_version, "1.0.0");
}

#[test]
fn resolving_a_conflicted_upgrade_as_documented_moves_the_service_to_the_new_version_for_good() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let r = conflicted_at_v1(&p, || ());
    for cr in &r.change_requests {
        let resolve: &[&str] = if cr.repo == "payments-api" {
            &["Dockerfile"]
        } else {
            &[]
        };
        resolve_and_merge(&p, &cr.repo, &cr.branch, resolve);
    }
    let alice = p.principal("alice");
    assert_eq!(
        p.explain(&alice, "payments-api").unwrap().scaffold_version,
        LATEST,
        "explain follows the merged stamps"
    );
    let pat = p.principal("pat");
    let up = p
        .upgrade(
            &pat,
            &UpgradeRequest {
                service: "payments-api".into(),
                to: None,
                keep: false,
            },
            false,
        )
        .unwrap();
    assert_eq!(up.status, UpgradeStatus::UpToDate);
    // The next run renders 2.0.0: nothing of the upgrade is stripped, the team's resolution kept.
    let heads = (head(&p, "payments-api"), head(&p, "gitops"));
    let rerun = rerun(&p).unwrap();
    assert_eq!(rerun.scaffold_version, LATEST);
    assert_eq!(
        heads,
        (head(&p, "payments-api"), head(&p, "gitops")),
        "a rerun after the merge is a no-op"
    );
    assert!(read(&p, "payments-api", "renovate.json").is_some());
    assert_eq!(read(&p, "payments-api", ".github/dependabot.yml"), None);
    let d = read(&p, "payments-api", "Dockerfile").unwrap();
    assert!(d.contains("--retries=5") && !d.contains("<<<<<<<"), "{d}");
    for stamp in [
        read(&p, "payments-api", ".idp/scaffold.json").unwrap(),
        read(&p, "gitops", "apps/payments-api/.idp/scaffold.json").unwrap(),
    ] {
        assert!(
            stamp.contains(&format!("\"scaffoldVersion\": \"{LATEST}\"")),
            "{stamp}"
        );
    }
    // The move is on record.
    let records = p
        .block_on(p.audit().list(&Default::default()))
        .unwrap()
        .unwrap();
    assert!(records.iter().any(|r| r.event.operation == "reconcile"));
}

#[test]
fn a_half_merged_upgrade_refuses_writes_and_upgrade_finishes_it() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let r = conflicted_at_v1(&p, || ());
    let service_cr = r
        .change_requests
        .iter()
        .find(|c| c.repo == "payments-api")
        .unwrap();
    resolve_and_merge(&p, "payments-api", &service_cr.branch, &["Dockerfile"]);
    let e = rerun(&p).unwrap_err();
    assert_eq!(e.kind(), idp_core::ErrorKind::Conflict);
    assert!(e.to_string().contains("part-way through an upgrade"), "{e}");
    let gitops = head(&p, "gitops");
    let finish = upgrade(&p, "payments-api");
    assert_eq!(
        finish.status,
        UpgradeStatus::Upgraded,
        "{:?}",
        finish.conflicts
    );
    assert_ne!(
        head(&p, "gitops"),
        gitops,
        "the held GitOps change request is merged"
    );
    let rerun = rerun(&p).unwrap();
    assert_eq!(rerun.scaffold_version, LATEST);
}

#[test]
fn held_gitops_change_requests_of_two_services_both_merge_into_the_shared_repo() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let mut results = Vec::new();
    for s in ["svc-a", "svc-b"] {
        at_v1(&p, s);
        let docker = read(&p, s, "Dockerfile")
            .unwrap()
            .replace("--retries=3", "--retries=5");
        team_edit(&p, s, &[("Dockerfile", Some(&docker))]);
    }
    for s in ["svc-a", "svc-b"] {
        results.push(upgrade(&p, s));
    }
    for (s, r) in ["svc-a", "svc-b"].iter().zip(&results) {
        assert_eq!(r.status, UpgradeStatus::Conflicts);
        let cr = r.change_requests.iter().find(|c| c.repo == *s).unwrap();
        resolve_and_merge(&p, s, &cr.branch, &["Dockerfile"]);
        // The GitOps change request was held on a main that has moved since (the other
        // service's upgrade landed there): finishing replays it on the current main.
        assert_eq!(upgrade(&p, s).status, UpgradeStatus::Upgraded);
    }
    for s in ["svc-a", "svc-b"] {
        let stamp = read(&p, "gitops", &format!("apps/{s}/.idp/scaffold.json")).unwrap();
        assert!(
            stamp.contains(&format!("\"scaffoldVersion\": \"{LATEST}\"")),
            "{s}: {stamp}"
        );
    }
}

/// The app container of a deployment, parsed.
fn app_container(p: &Platform, path: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_norway::from_str(&read(p, "gitops", path).unwrap()).unwrap();
    doc["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn a_parameter_change_merges_into_files_the_team_edited_or_conflicts_and_writes_nothing() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    let req = ServiceRequest::new("payments-api", "team-payments");
    p.run_golden_path(&pat, &req).unwrap();
    // The team raises prod's memory limit in its deployment (merged ownership).
    let path = "apps/payments-api/prod/deployment.yaml";
    let v = read(&p, "gitops", path).unwrap();
    let (requests, limits) = v.split_once("limits:").unwrap();
    let limits = limits.replacen("memory: \"256Mi\"", "memory: \"1Gi\"", 1);
    team_edit(
        &p,
        "gitops",
        &[(path, Some(&format!("{requests}limits:{limits}")))],
    );

    // A new port reaches the edited deployment too, next to the team's limit: no drift between
    // the Service, the NetworkPolicy and the Deployment.
    p.provision_gitops(&pat, &req.clone().param("port", 3001))
        .unwrap();
    let c = app_container(&p, path);
    assert_eq!(
        c["ports"][0]["containerPort"], 3001,
        "the port change was not merged"
    );
    assert_eq!(
        c["resources"]["limits"]["memory"], "1Gi",
        "the team's edit was lost"
    );
    let svc: serde_json::Value =
        serde_norway::from_str(&read(&p, "gitops", "apps/payments-api/prod/service.yaml").unwrap())
            .unwrap();
    assert_eq!(svc["spec"]["ports"][0]["port"], 3001);
    // explain and fleet show where the team's file differs from what the parameters render.
    let limit = "/spec/template/spec/containers[name=payments-api]/resources/limits/memory";
    let x = p.explain(&pat, "payments-api").unwrap();
    let f = x.files.iter().find(|f| f.path == path).unwrap();
    assert_eq!(f.drift, [limit]);
    assert!(
        x.files
            .iter()
            .filter(|f| f.path != path)
            .all(|f| f.drift.is_empty())
    );
    let row = p.fleet(&pat).unwrap().remove(0);
    assert_eq!(row.drift, [format!("gitops:{path}: {limit}")]);
    // The same request again changes nothing.
    let before = head(&p, "gitops");
    p.provision_gitops(&pat, &req.clone().param("port", 3001))
        .unwrap();
    assert_eq!(head(&p, "gitops"), before);

    // The team pins the port itself; another port change cannot merge: a conflict, naming the
    // file and the key, and nothing is written.
    let pinned =
        read(&p, "gitops", path)
            .unwrap()
            .replacen("containerPort: 3001", "containerPort: 4000", 1);
    team_edit(&p, "gitops", &[(path, Some(&pinned))]);
    let before = (head(&p, "gitops"), head(&p, "payments-api"));
    let e = p
        .provision_gitops(&pat, &req.clone().param("port", 3002))
        .unwrap_err();
    assert_eq!(e.kind(), idp_core::ErrorKind::Conflict, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(path)
            && msg.contains("containers[name=payments-api]/ports[name=http]/containerPort"),
        "{msg}"
    );
    assert_eq!(before, (head(&p, "gitops"), head(&p, "payments-api")));
    // A plan says the same, and writes nothing either.
    let e = p
        .plan(
            &pat,
            Operation::ProvisionGitops,
            &req.clone().param("port", 3002),
        )
        .unwrap_err();
    assert_eq!(e.kind(), idp_core::ErrorKind::Conflict, "{e}");
    // Making the same change in the file resolves it.
    let agreed = pinned.replacen("containerPort: 4000", "containerPort: 3002", 1);
    team_edit(&p, "gitops", &[(path, Some(&agreed))]);
    p.provision_gitops(&pat, &req.param("port", 3002)).unwrap();
    let c = app_container(&p, path);
    assert_eq!(c["ports"][0]["containerPort"], 3002);
    assert_eq!(c["resources"]["limits"]["memory"], "1Gi");
}
