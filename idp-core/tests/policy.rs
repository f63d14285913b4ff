//! The policy point end to end: authorization, protected environments and waivers, Rego
//! guardrails from files, secrets, and the audit trail of all of it.

use std::path::Path;

mod common;

use idp_core::audit::AuditFilter;
use idp_core::blocking::Platform;
use idp_core::policy::{AuthzContext, AuthzRequest, AuthzResource, Waiver, WaiverRequest};
use idp_core::{ErrorKind, Operation, Principal, ServiceRequest};
use proptest::prelude::*;

fn req() -> ServiceRequest {
    ServiceRequest::new("payments-api", "team-payments")
}

fn repos_untouched(ws: &Path) -> bool {
    let r = ws.join("repos");
    !r.exists() || std::fs::read_dir(&r).unwrap().next().is_none()
}

#[test]
fn an_outsider_is_denied_every_write_and_every_denial_is_audited() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let mallory = p.principal("mallory");
    for op in Operation::ALL {
        if op == Operation::RequestInfraResource {
            continue;
        }
        let e = p.execute(&mallory, op, &req()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Denied, "{op}: {e}");
        assert!(e.to_string().contains("deny by default"), "{e}");
    }
    assert_eq!(
        p.plan(&mallory, Operation::RunGoldenPath, &req())
            .unwrap_err()
            .kind(),
        ErrorKind::Denied
    );
    // Reading what the service is made of is the team's business too.
    p.run_golden_path(&p.principal("alice"), &req()).unwrap();
    assert_eq!(
        p.explain(&mallory, "payments-api").unwrap_err().kind(),
        ErrorKind::Denied
    );
    let denials: Vec<_> = p
        .block_on(p.audit().list(&AuditFilter {
            service: Some("payments-api".into()),
            ..Default::default()
        }))
        .unwrap()
        .unwrap()
        .into_iter()
        .filter(|r| r.event.principal == "user:default/mallory" && r.event.decision == "deny")
        .collect();
    assert_eq!(denials.len(), 7, "one denial record per attempt");
    assert!(denials.iter().all(|r| r.event.outcome == "denied"));
    assert!(
        p.block_on(p.audit().verify(&idp_core::audit::VerifyOptions::default()))
            .unwrap()
            .unwrap()
            .ok
    );
}

/// A waiver of `rule` for payments-api in prod, for `operations`, for two days.
fn for_prod(rule: &str, operations: &[&str]) -> WaiverRequest {
    WaiverRequest {
        rule: rule.into(),
        service: "payments-api".into(),
        environment: Some("prod".into()),
        justification: "what the team needs this week".into(),
        expires: "2d".into(),
        owner: None,
        operations: operations.iter().map(|o| o.to_string()).collect(),
    }
}

fn approve(p: &Platform, id: &str) -> Waiver {
    p.approve_waiver(&p.principal("pat"), id).unwrap()
}

#[test]
fn a_waiver_names_a_rule_that_is_checked() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    let ask = |rule: &str| {
        p.request_waiver(
            &alice,
            &WaiverRequest {
                owner: Some("team-payments".into()),
                ..for_prod(rule, &["provision_gitops"])
            },
        )
    };
    for unknown in [
        "managed-edit",
        "warn_missing_probes",
        "module-override:nope",
    ] {
        let e = ask(unknown).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("protected-environment"), "{e}");
    }
    // Conventions, denying Rego rules and module parameters that need approval are valid.
    for valid in [
        "protected-environment",
        "naming",
        "deny_run_as_root",
        "module-override:instance_class",
    ] {
        ask(valid).unwrap_or_else(|e| panic!("{valid}: {e}"));
    }
}

#[test]
fn prod_changes_need_an_approved_unexpired_waiver_that_someone_else_approved() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    // The first deploy lays down prod's manifests without an approval (prod syncs by hand).
    p.run_golden_path(&alice, &req()).unwrap();
    let change = req().param("memory_limit", "512Mi");
    let before = p
        .block_on(p.source_control().read_files(
            "gitops",
            None,
            &["apps/payments-api/prod/deployment.yaml".into()],
        ))
        .unwrap()
        .unwrap();

    // Without approval: denied, nothing written.
    let e = p.provision_gitops(&alice, &change).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(
        e.to_string().contains("prod") && e.to_string().contains("waiver"),
        "{e}"
    );

    // A pending waiver does not apply; the requester cannot approve it.
    let w = p
        .request_waiver(
            &alice,
            &for_prod("protected-environment", &["provision_gitops"]),
        )
        .unwrap();
    assert_eq!(
        p.provision_gitops(&alice, &change).unwrap_err().kind(),
        ErrorKind::Denied
    );
    assert_eq!(
        p.approve_waiver(&alice, &w.id).unwrap_err().kind(),
        ErrorKind::Denied
    );
    // Not even an admin approves their own.
    let own = p.request_waiver(
        &p.principal("pat"),
        &WaiverRequest {
            rule: "naming".into(),
            service: "payments-api".into(),
            environment: None,
            justification: "admin's own exception".into(),
            expires: "1d".into(),
            owner: None,
            operations: vec![],
        },
    );
    // pat is not in team-payments but is an admin: may request; may not approve it.
    let own = own.unwrap();
    assert_eq!(
        p.approve_waiver(&p.principal("pat"), &own.id)
            .unwrap_err()
            .kind(),
        ErrorKind::Denied
    );

    // Approved by someone else: allowed, and the receipt's change lands.
    approve(&p, &w.id);
    p.provision_gitops(&alice, &change).unwrap();
    let after = p
        .block_on(p.source_control().read_files(
            "gitops",
            None,
            &["apps/payments-api/prod/deployment.yaml".into()],
        ))
        .unwrap()
        .unwrap();
    assert_ne!(before, after);
    let used = p
        .block_on(p.audit().list(&AuditFilter::default()))
        .unwrap()
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.event.operation == "provision_gitops")
        .unwrap();
    assert_eq!(used.event.waivers, vec![w.id.clone()]);
    assert!(
        used.event
            .policies
            .contains(&"owner-protected-with-approval".to_string())
    );

    // Expired: the same approved waiver no longer applies.
    let mut expired = p
        .block_on(p.state().get_waiver(&w.id))
        .unwrap()
        .unwrap()
        .unwrap();
    expired.expires_at = "2020-01-01T00:00:00.000Z".into();
    p.block_on(p.state().put_waiver(&expired)).unwrap().unwrap();
    let e = p
        .provision_gitops(&alice, &req().param("memory_limit", "640Mi"))
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Denied,
        "an expired waiver applied: {e}"
    );
    let states: Vec<_> = p
        .list_waivers(&p.principal("pat"), Some("payments-api"))
        .unwrap()
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert!(states.contains(&idp_core::policy::WaiverState::Expired));
}

#[test]
fn a_conftest_policy_from_a_file_blocks_a_change_set_until_waived() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("policies/replicas.rego"),
        r#"package main

# Written for conftest: `conftest test deployment.yaml` gives the same result.
deny_single_replica[msg] {
  input.kind == "Deployment"
  input.spec.replicas < 2
  msg := sprintf("%s must run at least 2 replicas", [input.metadata.name])
}
"#,
    )
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let alice = p.principal("alice");
    let e = p.run_golden_path(&alice, &req()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PolicyViolation, "{e}");
    assert!(
        e.to_string()
            .contains("apps/payments-api/dev/deployment.yaml"),
        "{e}"
    );
    assert!(e.to_string().contains("deny_single_replica"), "{e}");
    let details = e.details().unwrap().as_array().unwrap();
    assert!(
        details
            .iter()
            .all(|v| v["rule"] == "deny_single_replica" && v["environment"] == "dev")
    );
    assert!(
        repos_untouched(ws.path()),
        "a blocked change set wrote something"
    );
    // The plan shows the same findings without an error.
    let plan = p.plan(&alice, Operation::RunGoldenPath, &req()).unwrap();
    assert!(!plan.allowed);
    assert!(
        plan.violations
            .iter()
            .any(|v| v.rule == "deny_single_replica")
    );
    // The service must exist for a waiver: bootstrap it (that step is not blocked).
    p.bootstrap_service(&alice, &req()).unwrap();
    let w = p
        .request_waiver(
            &alice,
            &WaiverRequest {
                rule: "deny_single_replica".into(),
                service: "payments-api".into(),
                environment: Some("dev".into()),
                justification: "dev runs one replica to save cost".into(),
                expires: "30d".into(),
                owner: None,
                operations: vec![],
            },
        )
        .unwrap();
    approve(&p, &w.id);
    let r = p.run_golden_path(&alice, &req()).unwrap();
    let exceptions: Vec<_> = r
        .steps
        .iter()
        .filter_map(|s| s.outputs.get("exceptions"))
        .collect();
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0][0]["waived_by"], w.id.as_str());
}

/// Every byte idp wrote: files, SQLite databases and WAL, and every git object decompressed.
fn everything_in(ws: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in walk(ws) {
        all.extend(std::fs::read(&entry).unwrap_or_default());
    }
    let repos = ws.join("repos");
    if repos.exists() {
        for r in std::fs::read_dir(repos).unwrap() {
            let repo = git2::Repository::open_bare(r.unwrap().path()).unwrap();
            let odb = repo.odb().unwrap();
            odb.foreach(|oid| {
                all.extend(odb.read(*oid).unwrap().data());
                true
            })
            .unwrap();
        }
    }
    all
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn a_secret_parameter_never_reaches_the_workspace_receipts_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    common::unfreeze(dir.path(), "2.1.0");
    let path_yaml = dir
        .path()
        .join("golden-paths/python-fastapi-service/2.1.0/path.yaml");
    let text = std::fs::read_to_string(&path_yaml).unwrap();
    let text = text.replace(
        "    cpu_request:",
        "    pagerduty_key:\n      type: string\n      writeOnly: true\n      minLength: 8\n    cpu_request:",
    );
    std::fs::write(&path_yaml, text).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let alice = p.principal("alice");
    const SECRET: &str = "pd-SECRET-4f9a7c21";
    let with_secret = req().param("pagerduty_key", SECRET);
    let receipt = p.run_golden_path(&alice, &with_secret).unwrap();
    let plan = p
        .plan(&alice, Operation::RunGoldenPath, &with_secret)
        .unwrap();
    let e1 = p
        .run_golden_path(&alice, &with_secret.clone().param("port", 1))
        .unwrap_err();
    let e2 = p
        .run_golden_path(&alice, &req().param("pagerduty_key", "{{ x }}"))
        .unwrap_err();
    let e3 = p
        .run_golden_path(&alice, &req().param("pagerduty_key", "pdk1"))
        .unwrap_err();
    assert!(!e3.to_string().contains("pdk1"), "{e3}");
    for text in [
        receipt.to_json().to_string(),
        plan.to_json().to_string(),
        format!("{e1} {:?}", e1.details()),
        format!("{e2} {:?}", e2.details()),
        serde_json::to_string(
            &p.explain(&p.principal("alice"), "payments-api")
                .unwrap()
                .to_json(),
        )
        .unwrap(),
    ] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
    }
    let disk = everything_in(ws.path());
    assert!(
        !disk.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "secret found in the workspace"
    );
    // The run that had a secret cannot be resumed from storage (the secret was never stored).
    let runs = p.runs(&p.principal("pat"), None, 10).unwrap();
    assert!(!runs.is_empty());
}

#[test]
fn the_rust_face_can_ask_the_policy_point_directly() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let d = p
        .authorize(&AuthzRequest {
            principal: p.principal("alice"),
            action: "provision_gitops".into(),
            resource: AuthzResource::Service {
                name: "x".into(),
                owner: "team-payments".into(),
                golden_path: String::new(),
            },
            context: AuthzContext {
                environment: Some("prod".into()),
                ..Default::default()
            },
        })
        .unwrap();
    assert!(!d.allowed);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever strings a face passes as user, groups, service and owner (quotes, slashes,
    /// unicode, empty), building the Cedar request never panics and never allows an unknown
    /// principal anything.
    #[test]
    fn policy_input_builders_are_total_and_deny_strangers(
        user in "\\PC{0,40}", group in "\\PC{0,40}", service in "\\PC{0,40}", owner in "\\PC{0,40}",
        action in prop::sample::select(vec!["bootstrap_service", "plan", "request_waiver", "approve_waiver", "nope"]),
        env in prop::option::of(prop::sample::select(vec!["dev", "prod", "moon"])),
    ) {
        let ws = tempfile::tempdir().unwrap();
        let p = Platform::builtin(ws.path()).unwrap();
        let principal = Principal::new(format!("user:default/{user}"), vec![format!("group:default/{group}")]);
        let resource = if action.ends_with("waiver") {
            AuthzResource::Waiver { id: "wv-x".into(), rule: "r".into(), service: service.clone(), service_owner: owner.clone(), requested_by: user.clone() }
        } else {
            AuthzResource::Service { name: service.clone(), owner: owner.clone(), golden_path: String::new() }
        };
        let r = p.authorize(&AuthzRequest { principal, action: action.to_string(), resource, context: AuthzContext { environment: env.map(str::to_string), ..Default::default() } });
        if let Ok(d) = r {
            // Only the owning team (same group as owner) can be allowed.
            if d.allowed {
                prop_assert_eq!(idp_core::org::entity_ref("group", &group), idp_core::org::entity_ref("group", &owner));
            }
        }
    }
}

#[test]
fn only_the_first_manifests_of_prod_skip_approval() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    // provision_gitops alone lays down prod (first deploy).
    p.bootstrap_service(&alice, &req()).unwrap();
    p.provision_gitops(&alice, &req()).unwrap();
    // attach_observability later writes only new files to prod, but prod is running already:
    // that is a change to a protected environment, not a first deploy.
    let e = p.attach_observability(&alice, &req()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(e.to_string().contains("prod"), "{e}");
}

#[test]
fn a_waiver_can_be_asked_for_before_the_service_exists() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let ask = |owner: Option<&str>| {
        p.request_waiver(
            &p.principal("alice"),
            &WaiverRequest {
                rule: "image-tag-pinned".into(),
                service: "brand-new".into(),
                environment: None,
                justification: "vendor image has no version tags yet".into(),
                expires: "1d".into(),
                owner: owner.map(str::to_string),
                operations: vec![],
            },
        )
    };
    assert_eq!(ask(None).unwrap_err().kind(), ErrorKind::NotFound);
    let w = ask(Some("team-payments")).unwrap();
    assert_eq!(w.owner.as_deref(), Some("team-payments"));
    p.approve_waiver(&p.principal("pat"), &w.id).unwrap();
    // Mallory cannot ask for someone else's new service either way.
    let m = p.request_waiver(
        &p.principal("mallory"),
        &WaiverRequest {
            rule: "naming".into(),
            service: "brand-new".into(),
            environment: None,
            justification: "because I want to".into(),
            expires: "1d".into(),
            owner: Some("team-payments".into()),
            operations: vec![],
        },
    );
    assert_eq!(m.unwrap_err().kind(), ErrorKind::Denied);
    // A refused request is audited too.
    let rejected = p
        .block_on(p.audit().list(&AuditFilter {
            since: Some("2000-01-01T00:00:00Z".into()),
            ..Default::default()
        }))
        .unwrap()
        .unwrap();
    assert!(
        rejected
            .iter()
            .any(|r| r.event.operation == "request_waiver" && r.event.outcome == "rejected")
    );
    assert_eq!(
        p.block_on(p.audit().list(&AuditFilter {
            since: Some("yesterday".into()),
            ..Default::default()
        }))
        .unwrap()
        .unwrap_err()
        .kind(),
        ErrorKind::InvalidInput
    );
}

/// A platform folder with the org in Berlin and two policies only Cedar's new context can
/// express; the platform's clock is `now`.
fn friday_platform(dir: &Path, ws: &Path, now: &str) -> Platform {
    let f = dir.join("idp.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replacen("  time_zone: UTC\n", "  time_zone: Europe/Berlin\n", 1),
    )
    .unwrap();
    std::fs::write(
        dir.join("policies/calendar.cedar"),
        r#"
@id("no-prod-changes-friday-afternoon")
forbid (principal, action in Idp::Action::"write", resource is Idp::Service)
when {
  !principal.platform_admin && context has environment && context.environment.kind == "prod" &&
  context.time.weekday == "friday" && context.time.hour >= 12
};

@id("only-admins-ask-for-postgres-in-prod")
forbid (principal, action == Idp::Action::"request_infra_resource", resource is Idp::Service)
when {
  !principal.platform_admin && context.operation == "request_infra_resource" &&
  context has intent && context.intent.type == "postgres" &&
  context has environment && context.environment.kind == "prod"
};
"#,
    )
    .unwrap();
    Platform::build(
        idp_core::Platform::builder()
            .platform_dir(dir)
            .workspace(ws)
            .clock(std::sync::Arc::new(
                idp_core::time::FixedClock::at(now).unwrap(),
            )),
    )
    .unwrap()
}

#[test]
fn policies_see_the_time_in_the_orgs_zone_the_operation_and_the_intent() {
    // Friday 13:30 in Berlin: the team's first prod deployment is stopped by the calendar.
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = friday_platform(dir.path(), ws.path(), "2026-11-27T12:30:00Z");
    let alice = p.principal("alice");
    let e = p.run_golden_path(&alice, &req()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(
        e.to_string().contains("no-prod-changes-friday-afternoon"),
        "{e}"
    );
    assert!(repos_untouched(ws.path()));
    // 23:30 UTC on Friday is already Saturday in Berlin: the same request passes.
    let ws = tempfile::tempdir().unwrap();
    let p = friday_platform(dir.path(), ws.path(), "2026-11-27T23:30:00Z");
    let alice = p.principal("alice");
    p.run_golden_path(&alice, &req()).unwrap();

    // With prod approved, the team may add a bucket there, but not a database.
    let w = p
        .request_waiver(
            &alice,
            &for_prod("protected-environment", &["request_infra_resource"]),
        )
        .unwrap();
    approve(&p, &w.id);
    let mut bucket = req();
    bucket
        .intents
        .push(serde_json::json!({"type": "bucket", "class": "logs"}));
    p.request_infra_resource(&alice, &bucket).unwrap();
    let mut postgres = req();
    postgres
        .intents
        .push(serde_json::json!({"type": "postgres"}));
    let e = p.request_infra_resource(&alice, &postgres).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(
        e.to_string()
            .contains("only-admins-ask-for-postgres-in-prod"),
        "{e}"
    );
    // The plan shows one decision per intent and environment, naming the intent.
    let plan = p
        .plan(&alice, Operation::RequestInfraResource, &postgres)
        .unwrap();
    let prod: Vec<_> = plan
        .decisions
        .iter()
        .filter(|d| d.environment.as_deref() == Some("prod"))
        .map(|d| (d.intent.clone(), d.allowed))
        .collect();
    assert!(
        prod.contains(&(Some("postgres:postgres".into()), false)),
        "{prod:?}"
    );
}

#[test]
fn a_policy_test_sets_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = friday_platform(dir.path(), ws.path(), "2026-11-25T09:00:00Z");
    let tests = tempfile::tempdir().unwrap();
    std::fs::write(
        tests.path().join("calendar_test.yaml"),
        r#"
tests:
  - name: no prod change on a Friday afternoon in Berlin
    principal: user:default/alice
    action: provision_gitops
    service: { name: payments-api, owner: team-payments }
    environment: prod
    context: { approved: true }
    now: "2026-11-27T12:30:00Z"
    expect: deny
    policies: [no-prod-changes-friday-afternoon]
  - name: Saturday in Berlin while still Friday in UTC
    principal: user:default/alice
    action: provision_gitops
    service: { name: payments-api, owner: team-payments }
    environment: prod
    context: { approved: true }
    now: "2026-11-27T23:30:00Z"
    expect: allow
  - name: a wrong expectation fails with what happened
    principal: user:default/alice
    action: provision_gitops
    service: { name: payments-api, owner: team-payments }
    environment: prod
    context: { approved: true }
    now: "2026-11-27T12:30:00Z"
    expect: allow
"#,
    )
    .unwrap();
    let report = p.test_policies(tests.path()).unwrap();
    assert_eq!((report.passed, report.failed), (2, 1), "{report:?}");
    let failed = report.results.iter().find(|r| !r.passed).unwrap();
    assert!(
        failed
            .detail
            .contains("expected Allow, got Deny (policies [no-prod-changes-friday-afternoon])"),
        "{}",
        failed.detail
    );
}

#[test]
fn a_waiver_approves_only_the_operations_it_names() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    let v1 = ServiceRequest {
        version: Some("1.0.0".into()),
        ..req()
    };
    p.run_golden_path(&alice, &v1).unwrap();
    let ask = |operations: &[&str]| {
        p.request_waiver(&alice, &for_prod("protected-environment", operations))
    };
    // A protected-environment waiver names what it approves, from the known operations.
    for (ops, needle) in [(&[][..], "--operation"), (&["deploy"][..], "deploy")] {
        let e = ask(ops).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert_eq!(e.context_value("field"), Some("operations"));
        assert!(e.to_string().contains(needle), "{e}");
    }
    // Approved for infrastructure, it does not let a parameter change or an upgrade into prod.
    let infra = ask(&["request_infra_resource"]).unwrap();
    approve(&p, &infra.id);
    let e = p
        .provision_gitops(&alice, &req().param("memory_limit", "512Mi"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    let upgrade = idp_core::platform::UpgradeRequest {
        service: "payments-api".into(),
        to: None,
        keep: false,
    };
    let e = p.upgrade(&alice, &upgrade, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    // One for the upgrade does.
    let up = ask(&["upgrade"]).unwrap();
    approve(&p, &up.id);
    let r = p.upgrade(&alice, &upgrade, false).unwrap();
    assert_eq!(r.status, idp_core::platform::UpgradeStatus::Upgraded);
    // The waiver used is the one that names the operation.
    let listed = p.list_waivers(&alice, Some("payments-api")).unwrap();
    assert!(listed.iter().any(|(w, _)| w.operations == ["upgrade"]));
}

#[test]
fn guardrails_check_what_a_change_writes_not_files_it_leaves_alone() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let pat = p.principal("pat");
    p.run_golden_path(&pat, &req()).unwrap();
    // A policy arrives after the service exists: its deployments do not pass it.
    std::fs::write(
        dir.path().join("policies/replicas.rego"),
        "package main\nimport rego.v1\ndeny_single_replica contains msg if {\n  input.kind == \"Deployment\"\n  input.spec.replicas < 2\n  msg := sprintf(\"%s must run at least 2 replicas\", [input.metadata.name])\n}\n",
    )
    .unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    // A new description touches the service repo only: not stopped by the deployments.
    let r = p
        .run_golden_path(
            &pat,
            &req().param("description", "Payments, now with refunds"),
        )
        .unwrap();
    assert!(r.steps.iter().any(|s| s.change_request.is_some()), "{r:?}");
    // A change to the deployments is checked, and stopped.
    let e = p
        .provision_gitops(&pat, &req().param("memory_limit", "512Mi"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PolicyViolation, "{e}");
    assert!(e.to_string().contains("deny_single_replica"), "{e}");
}

#[test]
fn a_guardrail_policy_test_gives_rego_the_principal_and_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("policies/privileged.rego"),
        "package main\nimport rego.v1\ndeny_privileged_outside_platform contains msg if {\n  input.privileged\n  not \"group:default/platform-team\" in data.idp.principal.groups\n  data.idp.operation == \"provision_gitops\"\n  msg := sprintf(\"%s may not run %s privileged\", [data.idp.principal.user, input.name])\n}\n",
    )
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let tests = tempfile::tempdir().unwrap();
    // A document no built-in rule or convention reads: only the policy above decides.
    let content = "name: agent\\nprivileged: true\\n";
    std::fs::write(
        tests.path().join("privileged_test.yaml"),
        format!(
            "tests:\n  - name: the team may not\n    principal: user:default/alice\n    action: provision_gitops\n    guardrails: {{ path: d.yaml, content: \"{content}\" }}\n    expect: deny\n    rules: [deny_privileged_outside_platform]\n  - name: the platform team may\n    principal: user:default/pat\n    action: provision_gitops\n    guardrails: {{ path: d.yaml, content: \"{content}\" }}\n    expect: allow\n  - name: nor in another operation\n    principal: user:default/alice\n    action: upgrade\n    guardrails: {{ path: d.yaml, content: \"{content}\" }}\n    expect: allow\n"
        ),
    )
    .unwrap();
    let report = p.test_policies(tests.path()).unwrap();
    assert_eq!((report.passed, report.failed), (3, 0), "{report:?}");
}
