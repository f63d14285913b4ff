//! Values for single environments: golden-path parameters and infra intent parameters that
//! differ per environment, validated with the bounds of the environment's type, kept for later
//! requests, stamped, explained and carried through upgrades.

mod common;
use common::{field_of, read, unfreeze};
use idp_core::blocking::Platform;
use idp_core::{ErrorKind, ServiceRequest};

fn req() -> ServiceRequest {
    ServiceRequest::new("payments-api", "team-payments")
}

fn memory_limit(p: &Platform, env: &str) -> String {
    let doc: serde_json::Value = serde_norway::from_str(
        &read(
            p,
            "gitops",
            &format!("apps/payments-api/{env}/deployment.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_environment_gets_its_own_values_kept_for_later_runs_until_removed() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    p.run_golden_path(&pat, &req().env_param("prod", "memory_limit", "1024Mi"))
        .unwrap();
    assert_eq!(memory_limit(&p, "prod"), "1024Mi");
    assert_eq!(memory_limit(&p, "dev"), "256Mi");
    assert_eq!(memory_limit(&p, "staging"), "256Mi");
    // Stamped (the truth an upgrade reads) and explained.
    let stamp = read(&p, "gitops", "apps/payments-api/.idp/scaffold.json").unwrap();
    let stamp: serde_json::Value = serde_json::from_str(&stamp).unwrap();
    assert_eq!(stamp["environments"]["prod"]["memory_limit"], "1024Mi");
    let x = p.explain(&pat, "payments-api").unwrap();
    assert_eq!(x.environments["prod"]["memory_limit"], "1024Mi");

    // A later request that does not mention it keeps it; a service-wide change reaches the
    // other environments only.
    p.provision_gitops(&pat, &req().param("memory_limit", "512Mi"))
        .unwrap();
    assert_eq!(memory_limit(&p, "prod"), "1024Mi");
    assert_eq!(memory_limit(&p, "dev"), "512Mi");
    // null removes it: prod follows the service's value again.
    p.provision_gitops(
        &pat,
        &req().env_param("prod", "memory_limit", serde_json::Value::Null),
    )
    .unwrap();
    assert_eq!(memory_limit(&p, "prod"), "512Mi");
    assert!(
        p.explain(&pat, "payments-api")
            .unwrap()
            .environments
            .is_empty()
    );
}

#[test]
fn a_prod_value_is_a_change_to_prod_and_needs_its_approval() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    // The first deployment of prod is the team's to make (docs/policy.md) ...
    p.run_golden_path(&alice, &req()).unwrap();
    // ... a prod-only change afterwards is a change to a protected environment.
    let e = p
        .provision_gitops(&alice, &req().env_param("prod", "memory_limit", "1024Mi"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(e.to_string().contains("prod"), "{e}");
    // A dev-only change is the team's.
    p.provision_gitops(&alice, &req().env_param("dev", "memory_limit", "1024Mi"))
        .unwrap();
    assert_eq!(memory_limit(&p, "dev"), "1024Mi");
    assert_eq!(memory_limit(&p, "prod"), "256Mi");
}

#[test]
fn bad_values_for_an_environment_are_typed_errors_naming_the_field_and_nothing_is_written() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    for (r, field) in [
        (
            req().env_param("qa", "memory_limit", "1024Mi"),
            "environments.qa",
        ),
        (
            req().env_param("prod", "no_such", 1),
            "environments.prod.parameters.no_such",
        ),
        (
            req().env_param("prod", "memory_limit", "1Gi"),
            "environments.prod.parameters.memory_limit",
        ),
        (
            req().env_param("prod", "description", "{{ secrets }}"),
            "environments.prod.parameters.description",
        ),
        (
            req().env_param(
                "prod",
                "lifecycle",
                serde_json::json!({"password": "hunter2"}),
            ),
            "environments.prod.parameters.lifecycle",
        ),
    ] {
        let e = p.run_golden_path(&pat, &r).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert_eq!(field_of(&e), field, "{e}");
        assert!(
            !e.to_string().contains("hunter2"),
            "a secret in an error: {e}"
        );
    }
    assert!(!ws.path().join("repos/payments-api.git").exists());
    // Unknown keys inside an environment's values are refused by the request's shape.
    let e = ServiceRequest::from_json(serde_json::json!(
        {"service": "payments-api", "environments": {"prod": {"params": {}}}}
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[test]
fn bounds_may_differ_per_environment_type() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    unfreeze(dir.path(), "2.1.0");
    // Non-prod environments may not ask for more than 999Mi; prod may go to 99999Mi.
    let path_yaml = dir
        .path()
        .join("golden-paths/python-fastapi-service/2.1.0/path.yaml");
    let text = std::fs::read_to_string(&path_yaml).unwrap();
    let from = "    memory_limit: { type: string, pattern: '^[1-9][0-9]{0,5}Mi$', default: 256Mi }";
    assert!(text.contains(from));
    std::fs::write(
        &path_yaml,
        text.replace(
            from,
            "    memory_limit:\n      type: string\n      pattern: '^[1-9][0-9]{0,5}Mi$'\n      default: 256Mi\n      x-idp-environment-types:\n        non-prod: { pattern: '^[1-9][0-9]{0,2}Mi$' }",
        ),
    )
    .unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let pat = p.principal("pat");
    // 2048Mi everywhere breaks the non-prod bound, named for the first such environment.
    let e = p
        .run_golden_path(&pat, &req().param("memory_limit", "2048Mi"))
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        "environments.dev.parameters.memory_limit",
        "{e}"
    );
    assert!(e.to_string().contains("type non-prod"), "{e}");
    // In prod only, it fits.
    p.run_golden_path(&pat, &req().env_param("prod", "memory_limit", "2048Mi"))
        .unwrap();
    assert_eq!(memory_limit(&p, "prod"), "2048Mi");
    assert_eq!(memory_limit(&p, "staging"), "256Mi");
    // A malformed bounds keyword fails the load, naming the golden path.
    std::fs::write(
        &path_yaml,
        text.replace(
            from,
            "    memory_limit: { type: string, default: 256Mi, x-idp-environment-types: [prod] }",
        ),
    )
    .unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let report = p.check_golden_paths().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|x| x.version == "2.1.0" && x.message.contains("x-idp-environment-types")),
        "{report:?}"
    );
}

#[test]
fn an_upgrade_keeps_an_environments_values() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    let v1 = ServiceRequest {
        version: Some("1.0.0".into()),
        ..req().env_param("prod", "memory_limit", "1024Mi")
    };
    p.run_golden_path(&pat, &v1).unwrap();
    assert_eq!(memory_limit(&p, "prod"), "1024Mi");
    let r = p
        .upgrade(
            &pat,
            &idp_core::platform::UpgradeRequest {
                service: "payments-api".into(),
                to: None,
                keep: false,
            },
            false,
        )
        .unwrap();
    assert_eq!(
        r.status,
        idp_core::platform::UpgradeStatus::Upgraded,
        "{r:?}"
    );
    assert_eq!(
        memory_limit(&p, "prod"),
        "1024Mi",
        "the upgrade dropped prod's value"
    );
    assert_eq!(memory_limit(&p, "dev"), "256Mi");
    // And the next run of anything keeps it too.
    p.provision_gitops(&pat, &req()).unwrap();
    assert_eq!(memory_limit(&p, "prod"), "1024Mi");
}

#[test]
fn an_intent_gets_values_for_one_environment() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    p.run_golden_path(&pat, &req()).unwrap();
    let mut r = req();
    r.intents.push(serde_json::json!({
        "type": "bucket", "class": "logs",
        "params": {"retention_days": 30},
        "environment_params": {"prod": {"retention_days": 365}},
    }));
    p.request_infra_resource(&pat, &r).unwrap();
    let x = p.explain(&pat, "payments-api").unwrap();
    let retention = |env: &str| {
        let res = x
            .infrastructure
            .iter()
            .find(|r| r.environment == env)
            .unwrap();
        res.inputs
            .iter()
            .find(|i| i.param.as_deref() == Some("retention_days"))
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(retention("prod"), 365);
    assert_eq!(retention("dev"), 30);
    // A value out of the module's bounds names the environment's field.
    let mut bad = req();
    bad.intents.push(serde_json::json!({
        "type": "bucket", "class": "logs",
        "environment_params": {"dev": {"retention_days": -1}},
    }));
    let e = p.request_infra_resource(&pat, &bad).unwrap_err();
    assert_eq!(
        field_of(&e),
        "intents.environment_params.dev.retention_days",
        "{e}"
    );
}
