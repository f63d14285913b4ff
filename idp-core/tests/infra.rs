//! Self-service infrastructure: intents resolved to org-approved modules, rendered, explained,
//! wired back to the service, and previewed when the catalog changes.

mod common;
use common::read;
use std::path::Path;

use idp_core::blocking::Platform;
use idp_core::intent::{InputSource, Resolution};
use idp_core::policy::WaiverRequest;
use idp_core::{ErrorKind, ServiceRequest};
use serde_json::{Value, json};

fn req(intents: Vec<Value>) -> ServiceRequest {
    ServiceRequest {
        intents,
        ..ServiceRequest::new("payments-api", "team-payments")
    }
}

fn resolutions(r: &idp_core::Receipt) -> Vec<Resolution> {
    let s = r
        .steps
        .iter()
        .find(|s| s.step.as_str() == "request_infra_resource")
        .expect("infra step");
    serde_json::from_value(s.outputs["resolutions"].clone()).unwrap()
}

/// A platform folder copy to edit.
fn folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    Platform::init_dir(d.path()).unwrap();
    d
}

#[test]
fn a_log_bucket_in_prod_gets_encryption_versioning_public_access_block_tags_and_the_org_name() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    let logs = json!({"type": "bucket", "class": "logs", "environments": ["prod"], "params": {"retention_days": 400}});
    let r = p.run_golden_path(&pat, &req(vec![logs])).unwrap();
    let tf = read(&p, "infra", "terraform/prod/payments-api/bucket-logs.tf").expect("prod module");
    let v = idp_core::intent::hcl_to_json("x.tf", &tf).unwrap();
    let m = &v["module"]["bucket_logs"];
    assert_eq!(m["source"], "acme/s3-log-bucket/aws");
    assert_eq!(m["version"], "2.1.0");
    assert_eq!(m["encryption"]["sse_algorithm"], "aws:kms");
    assert_eq!(m["versioning"], true);
    assert_eq!(m["block_public_access"], true);
    assert_eq!(m["lifecycle_expiration_days"], 400);
    for t in ["team", "cost-center", "env", "service", "managed-by"] {
        assert!(m["tags"][t].is_string(), "tag {t} missing: {tf}");
    }
    assert_eq!(m["tags"]["env"], "prod");
    let name = m["bucket_name"].as_str().unwrap();
    assert!(
        name.starts_with("acme-team-payments-payments-api-prod-bucket-logs") && name.len() <= 63,
        "{name}"
    );
    // Per-field provenance.
    let prod = resolutions(&r)
        .into_iter()
        .find(|x| x.environment == "prod")
        .unwrap();
    let src = |n: &str| prod.inputs.iter().find(|i| i.name == n).unwrap().source;
    assert_eq!(src("encryption"), InputSource::Locked);
    assert_eq!(src("lifecycle_expiration_days"), InputSource::Developer);
    assert_eq!(src("bucket_name"), InputSource::Naming);
    assert_eq!(src("tags"), InputSource::Tags);
    // The service gets the outputs from a Secret reference, never a literal.
    let deploy = read(&p, "gitops", "apps/payments-api/prod/deployment.yaml").unwrap();
    assert!(
        deploy.contains("name: \"LOGS_BUCKET_NAME\"")
            && deploy.contains("name: \"payments-api-bucket-logs\""),
        "{deploy}"
    );
    let docs: Vec<Value> = serde_norway::Deserializer::from_str(&deploy)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let env = &docs[0]["spec"]["template"]["spec"]["containers"][0]["env"];
    let logs: Vec<&Value> = env
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"].as_str().unwrap().starts_with("LOGS_"))
        .collect();
    assert_eq!(logs.len(), 2);
    assert!(logs.iter().all(|e| e.get("value").is_none()
        && e["valueFrom"]["secretKeyRef"]["name"] == "payments-api-bucket-logs"));
}

#[test]
fn the_same_intent_in_dev_picks_the_dev_rule_and_says_why() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    p.run_golden_path(
        &alice,
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    let r = p
        .request_infra_resource(
            &alice,
            &req(vec![
                json!({"type": "bucket", "class": "logs", "environments": ["dev"]}),
            ]),
        )
        .unwrap();
    let dev = resolutions(&r)
        .into_iter()
        .find(|x| x.environment == "dev")
        .unwrap();
    assert_eq!(dev.module, "crossplane-bucket");
    let chosen = dev.candidates.iter().find(|c| c.chosen).unwrap();
    assert!(
        chosen.reasons.iter().any(|r| r.contains("non-prod")),
        "{:?}",
        chosen.reasons
    );
    let log_rule = dev
        .candidates
        .iter()
        .find(|c| c.module.starts_with("aws-s3-log-bucket"))
        .unwrap();
    assert!(
        !log_rule.matched && log_rule.reasons.iter().any(|r| r.contains("is not prod")),
        "{:?}",
        log_rule.reasons
    );
    assert_eq!(dev.candidates.len(), 3);
    // The claim satisfies its XRD and is in the service's namespace.
    let claim = read(&p, "infra", "crossplane/dev/payments-api/bucket-logs.yaml").unwrap();
    assert!(
        claim.contains("kind: BucketClaim") && claim.contains("namespace: team-payments-dev"),
        "{claim}"
    );
    // explain shows the infrastructure part.
    let e = p.explain(&p.principal("alice"), "payments-api").unwrap();
    assert_eq!(e.infrastructure.len(), 1);
    assert_eq!(e.infrastructure[0].module, "crossplane-bucket");
}

#[test]
fn a_tie_between_two_rules_fails_the_catalog_load() {
    let d = folder();
    let src = std::fs::read_to_string(d.path().join("modules/bucket/aws-s3-bucket.yaml")).unwrap();
    std::fs::write(
        d.path().join("modules/bucket/aws-s3-bucket-copy.yaml"),
        src.replace("name: aws-s3-bucket", "name: aws-s3-bucket-copy"),
    )
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let e = Platform::from_dir(d.path(), ws.path()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("ambiguous") && e.to_string().contains("aws-s3-bucket-copy"),
        "{e}"
    );
}

#[test]
fn a_module_that_lacks_a_bound_output_fails_the_load() {
    let d = folder();
    let f = d.path().join("modules/queue/aws-sqs-queue.yaml");
    let src = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, src.replace("  queue_url: { secret: false }\n", "")).unwrap();
    let e = Platform::from_dir(d.path(), tempfile::tempdir().unwrap().path()).unwrap_err();
    assert!(
        e.to_string().contains("queue_url") && e.to_string().contains("aws-sqs-queue.yaml"),
        "{e}"
    );
}

#[test]
fn locked_inputs_unknown_params_and_out_of_bound_values_are_typed_errors() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    for (params, needle) in [
        (json!({"versioning": false}), "locked"),
        (json!({"encryption": {"sse_algorithm": "none"}}), "locked"),
        (json!({"tags": {}}), "locked"),
        (json!({"colour": "blue"}), "no parameter"),
        (json!({"retention_days": 99999}), "maximum"),
        (json!({"retention_days": "ninety"}), "expected a integer"),
        (json!({"db_password": "x"}), "secret"),
    ] {
        let e = p
            .run_golden_path(
                &pat,
                &req(vec![
                    json!({"type": "bucket", "class": "logs", "params": params}),
                ]),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{params}: {e}");
        assert!(e.to_string().contains(needle), "{params}: {e}");
    }
    let e = p
        .run_golden_path(&pat, &req(vec![json!({"type": "spaceship"})]))
        .unwrap_err();
    assert!(
        e.to_string().contains("spaceship") && e.to_string().contains("bucket"),
        "{e}"
    );
    assert!(
        !ws.path().join("repos").exists(),
        "an invalid intent wrote something"
    );
}

#[test]
fn an_override_that_needs_approval_goes_through_a_waiver() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    p.run_golden_path(&pat, &ServiceRequest::new("payments-api", "team-payments"))
        .unwrap();
    let big = req(vec![
        json!({"type": "postgres", "environments": ["prod"], "params": {"instance_class": "db.r6g.2xlarge"}}),
    ]);
    let e = p.request_infra_resource(&pat, &big).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");
    assert!(
        e.to_string().contains("module-override:instance_class"),
        "{e}"
    );
    let w = p
        .request_waiver(
            &p.principal("alice"),
            &WaiverRequest {
                rule: "module-override:instance_class".into(),
                service: "payments-api".into(),
                environment: Some("prod".into()),
                justification: "load test results need the bigger instance".into(),
                expires: "7d".into(),
                owner: None,
                operations: vec![],
            },
        )
        .unwrap();
    p.approve_waiver(&pat, &w.id).unwrap();
    let r = p.request_infra_resource(&pat, &big).unwrap();
    let tf = read(
        &p,
        "infra",
        "terraform/prod/payments-api/postgres-postgres.tf",
    )
    .unwrap();
    assert!(
        tf.contains("instance_class") && tf.contains("db.r6g.2xlarge"),
        "{tf}"
    );
    let res = resolutions(&r);
    assert!(
        res[0]
            .outputs
            .iter()
            .any(|o| o.name == "password" && o.secret)
    );
    assert!(
        tf.contains("sensitive = true"),
        "secret outputs are sensitive: {tf}"
    );
}

#[test]
fn rerun_is_a_no_op_and_a_changed_param_moves_only_its_lines() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    let intent = |days: u32| {
        req(vec![
            json!({"type": "bucket", "id": "data", "params": {"retention_days": days}}),
        ])
    };
    let a = p.run_golden_path(&pat, &intent(100)).unwrap();
    let infra_head = |p: &Platform| {
        git2::Repository::open_bare(p.workspace().join("repos/infra.git"))
            .unwrap()
            .refname_to_id("refs/heads/main")
            .unwrap()
    };
    let h1 = infra_head(&p);
    let b = p.run_golden_path(&pat, &intent(100)).unwrap();
    assert_eq!(a.stable_json(), b.stable_json());
    assert_eq!(h1, infra_head(&p));
    let before = read(&p, "infra", "terraform/prod/payments-api/bucket-data.tf").unwrap();
    p.request_infra_resource(&pat, &intent(120)).unwrap();
    let after = read(&p, "infra", "terraform/prod/payments-api/bucket-data.tf").unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(x, y)| x != y)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].1.contains("lifecycle_expiration_days") && changed[0].1.contains("120"));
    assert_eq!(before.lines().count(), after.lines().count());
}

#[test]
fn generated_terraform_parses_and_is_format_stable() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    let all = ["bucket", "postgres", "queue", "cache"].map(|t| json!({"type": t}));
    let r = p.run_golden_path(&pat, &req(all.to_vec())).unwrap();
    let res = resolutions(&r);
    assert_eq!(res.len(), 12, "4 types x 3 environments");
    for x in res.iter().filter(|x| x.file.ends_with(".tf")) {
        let text = read(&p, "infra", &x.file).unwrap();
        let v = idp_core::intent::hcl_to_json(&x.file, &text).unwrap();
        assert!(v["module"].is_object(), "{}", x.file);
        assert_fmt_stable(&text, &x.file);
    }
    // Names respect each cloud's limit (ElastiCache: 40).
    let cache = res
        .iter()
        .find(|x| x.ty == "cache" && x.environment == "prod")
        .unwrap();
    assert!(cache.resource_name.len() <= 40, "{}", cache.resource_name);
}

/// The layout `terraform fmt` produces: two-space indents, no tabs or trailing spaces, one space
/// after `=`, and `=` aligned across each run of consecutive single-line attributes (a run is
/// broken by blank lines, block or object openers and closers).
fn assert_fmt_stable(text: &str, file: &str) {
    assert!(text.ends_with("}\n") && !text.contains('\t'), "{file}");
    let mut run: Vec<usize> = Vec::new();
    for line in text.lines() {
        assert!(!line.ends_with(' '), "{file}: trailing space: {line:?}");
        let indent = line.len() - line.trim_start().len();
        assert_eq!(indent % 2, 0, "{file}: odd indent: {line:?}");
        let single =
            line.contains(" = ") && !line.ends_with('{') && !line.trim_start().starts_with('#');
        if single {
            let eq = line.find(" = ").unwrap() + 1;
            assert!(
                !line[eq + 1..].starts_with("  "),
                "{file}: more than one space after =: {line:?}"
            );
            run.push(eq);
        } else {
            assert!(
                run.windows(2).all(|w| w[0] == w[1]),
                "{file}: `=` not aligned in a run ending before {line:?}"
            );
            run.clear();
        }
    }
}

#[test]
fn the_impact_preview_shows_what_a_catalog_change_would_do_before_anyone_applies_it() {
    let d = folder();
    let ws = tempfile::tempdir().unwrap();
    {
        let p = Platform::from_dir(d.path(), ws.path()).unwrap();
        p.run_golden_path(&p.principal("pat"), &req(vec![json!({"type": "queue"})]))
            .unwrap();
        assert!(
            p.infra_impact(&p.principal("pat"))
                .unwrap()
                .affected
                .is_empty()
        );
    }
    // The platform team bumps the SQS module and changes a default.
    let f = d.path().join("modules/queue/aws-sqs-queue.yaml");
    let src = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        src.replace("version: 3.4.0", "version: 3.5.0")
            .replace("default: 30,", "default: 60,"),
    )
    .unwrap();
    let p = Platform::from_dir(d.path(), ws.path()).unwrap();
    let before = read(&p, "infra", "terraform/prod/payments-api/queue-queue.tf").unwrap();
    let report = p.infra_impact(&p.principal("pat")).unwrap();
    assert_eq!(report.affected.len(), 1);
    let s = &report.affected[0];
    let prod = s.changes.iter().find(|c| c.environment == "prod").unwrap();
    assert_eq!(prod.before.as_deref(), Some("aws-sqs-queue@3.4.0"));
    assert_eq!(prod.after.as_deref(), Some("aws-sqs-queue@3.5.0"));
    assert!(
        prod.inputs
            .iter()
            .any(|i| i["name"] == "visibility_timeout_seconds")
    );
    let f = s
        .files
        .iter()
        .find(|f| f.path == "terraform/prod/payments-api/queue-queue.tf")
        .unwrap();
    assert!(
        f.diff.as_ref().unwrap().contains("+  version = \"3.5.0\""),
        "{:?}",
        f.diff
    );
    // Nothing was applied.
    assert_eq!(
        before,
        read(&p, "infra", "terraform/prod/payments-api/queue-queue.tf").unwrap()
    );
    // Others see only what they may plan.
    let theirs = p.infra_impact(&p.principal("mallory")).unwrap();
    assert_eq!(theirs.not_allowed, 1);
    assert!(
        !serde_json::to_string(&theirs)
            .unwrap()
            .contains("payments-api")
    );
}

#[test]
fn resolution_is_fast_enough_to_run_on_every_request() {
    // Not a timing assertion: just that resolving does not touch disk or state.
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let def = p.definition();
    let team = def.directory.team("team-payments").unwrap();
    let i = idp_core::intent::Intent::parse_short("bucket:logs").unwrap();
    let r = idp_core::intent::resolve(
        &def.catalog,
        &def.config,
        team,
        "svc",
        &i,
        def.config.environment("prod").unwrap(),
    )
    .unwrap();
    assert_eq!(r.module, "aws-s3-log-bucket");
    assert!(!Path::new(&ws.path().join("repos")).exists());
}

#[test]
fn secret_outputs_are_mounted_as_files_and_images_are_always_pulled() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let pat = p.principal("pat");
    let db = json!({"type": "postgres", "environments": ["dev"]});
    p.run_golden_path(&pat, &req(vec![db])).unwrap();
    let deploy = read(&p, "gitops", "apps/payments-api/dev/deployment.yaml").unwrap();
    let doc: Value = serde_norway::from_str(&deploy).unwrap();
    let pod = &doc["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["imagePullPolicy"], "Always");
    let env = c["env"].as_array().unwrap();
    let by_name = |n: &str| env.iter().find(|e| e["name"] == n);
    // The password is a file, never an environment variable; the host stays an env var.
    assert!(by_name("POSTGRES_DB_PASSWORD").is_none(), "{deploy}");
    let file = by_name("POSTGRES_DB_PASSWORD_FILE")
        .unwrap_or_else(|| panic!("no _FILE variable: {deploy}"));
    let path = file["value"].as_str().unwrap();
    assert!(by_name("POSTGRES_DB_HOST").unwrap()["valueFrom"]["secretKeyRef"].is_object());
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| path.starts_with(m["mountPath"].as_str().unwrap()))
        .expect("a mount holding the file");
    assert_eq!(mount["readOnly"], true);
    let vol = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let items = vol["secret"]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| path.ends_with(&format!("/{}", i["path"].as_str().unwrap())))
    );
    assert!(
        items.iter().all(|i| i["key"] != "host"),
        "only secret outputs are mounted"
    );
    // The dashboard's variables are valid for Grafana's Dashboard type (no empty `current`).
    let dash = read(&p, "gitops", "apps/payments-api/dev/dashboard.yaml").unwrap();
    assert!(!dash.contains("\"current\": {}"), "{dash}");
}
