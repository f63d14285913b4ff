//! Authoring golden paths: `check` finds a platform team's mistakes before a team does, each
//! with its golden path, version, file and field; and one broken golden path version does not
//! stop the others.

mod common;

use idp_core::ServiceRequest;
use idp_core::blocking::Platform;
use idp_core::platform::check::Severity;

fn edit(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_built_in_golden_paths_pass_the_check() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let r = p.check_golden_paths().unwrap();
    assert!(r.ok, "{:#?}", r.problems);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(
        r.checked,
        [
            "node-express-service@1.0.0",
            "python-fastapi-service@1.0.0",
            "python-fastapi-service@2.0.0",
            "python-fastapi-service@2.1.0"
        ]
    );
}

#[test]
fn check_reports_every_mistake_with_its_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    common::unfreeze(dir.path(), "2.0.0");
    let v2 = dir.path().join("golden-paths/python-fastapi-service/2.0.0");
    // A default its own schema refuses, a typo among the keywords, a template reading a
    // parameter that does not exist, and a rendered file the guardrails stop.
    edit(
        &v2.join("path.yaml"),
        "      default: 8080",
        "      default: 80",
    );
    edit(
        &v2.join("path.yaml"),
        "    python_version:\n      type: string",
        "    python_version:\n      tpye: string",
    );
    let readme = v2.join("templates/service/README.md.tera");
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(
        &readme,
        format!("{text}\nListens on {{{{ params.prot }}}}.\n"),
    )
    .unwrap();
    edit(
        &v2.join("templates/gitops/deployment.yaml.tera"),
        "            privileged: false",
        "            privileged: true",
    );
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let r = p.check_golden_paths().unwrap();
    assert!(!r.ok);
    let at = |field: &str| {
        r.problems
            .iter()
            .find(|x| x.field.as_deref() == Some(field))
            .unwrap_or_else(|| panic!("no problem at {field}: {:#?}", r.problems))
    };
    let path_yaml = "golden-paths/python-fastapi-service/2.0.0/path.yaml";
    let d = at("parameters.properties.port.default");
    assert_eq!(
        (d.version.as_str(), d.file.as_deref(), d.severity),
        ("2.0.0", Some(path_yaml), Severity::Error)
    );
    assert!(d.message.contains("minimum of 1024"), "{}", d.message);
    assert!(
        at("parameters.properties.python_version.tpye")
            .message
            .contains("tpye")
    );
    let render = r
        .problems
        .iter()
        .find(|x| x.message.contains("`prot` is not defined"))
        .expect("the undefined parameter");
    assert_eq!(
        render.file.as_deref(),
        Some("golden-paths/python-fastapi-service/2.0.0/templates/service/README.md.tera")
    );
    assert!(
        render.message.contains("Available fields") && render.message.contains("port"),
        "{}",
        render.message
    );
    let privileged = r
        .problems
        .iter()
        .filter(|x| x.field.as_deref() == Some("deny_privileged"))
        .count();
    assert_eq!(privileged, 3, "one per environment: {:#?}", r.problems);
    // 1.0.0 is fine, and still usable.
    assert!(r.problems.iter().all(|x| x.version == "2.0.0"));
}

#[test]
fn a_broken_golden_path_does_not_break_the_others() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    // A second golden path (a copy of the built-in one) that does not load.
    let src = dir.path().join("golden-paths/python-fastapi-service/1.0.0");
    let dst = dir.path().join("golden-paths/broken-service/1.0.0");
    copy_dir(&src, &dst);
    // A new golden path is not released yet.
    std::fs::remove_file(dst.join("release.lock")).unwrap();
    edit(
        &dst.join("path.yaml"),
        "id: python-fastapi-service\nversion: 1.0.0",
        "id: broken-service\nversion: 1.0.0",
    );
    std::fs::write(
        dst.join("templates/service/SECURITY.md.tera"),
        "{% if x %}\n",
    )
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    // The default golden path runs.
    p.run_golden_path(
        &p.principal("alice"),
        &ServiceRequest::new("payments-api", "team-payments"),
    )
    .unwrap();
    // The broken one is refused with its problem.
    let e = p
        .run_golden_path(
            &p.principal("alice"),
            &ServiceRequest {
                golden_path: Some("broken-service".into()),
                ..ServiceRequest::new("orders", "team-payments")
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), idp_core::ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("broken-service@1.0.0 does not load")
            && e.to_string()
                .contains("`{% if %}` opened at line 1 is never closed"),
        "{e}"
    );
    assert!(!ws.path().join("repos/orders.git").exists());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_orgs_label_set_reaches_everything_idp_renders_claims_included() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    // One more required label, from a golden-path parameter.
    edit(
        &dir.path().join("idp.yaml"),
        "  required: [app.kubernetes.io/name, app.kubernetes.io/part-of, app.kubernetes.io/managed-by, team, cost-center, env]",
        "  required: [app.kubernetes.io/name, app.kubernetes.io/part-of, app.kubernetes.io/managed-by, team, cost-center, env, globex.com/tier]\n  values: { globex.com/tier: '{param.lifecycle}' }",
    );
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let pat = p.principal("pat");
    let req = ServiceRequest::new("payments-api", "team-payments").param("lifecycle", "production");
    p.run_golden_path(&pat, &req).unwrap();
    let mut bucket = req.clone();
    bucket
        .intents
        .push(serde_json::json!({"type": "bucket", "class": "logs"}));
    p.request_infra_resource(&pat, &bucket).unwrap();
    let read = |repo: &str, path: &str| -> serde_json::Value {
        let bytes = p
            .block_on(
                p.source_control()
                    .read_files(repo, None, &[path.to_string()]),
            )
            .unwrap()
            .unwrap()
            .remove(0)
            .unwrap_or_else(|| panic!("{repo}:{path} missing"));
        serde_norway::from_slice(&bytes).unwrap()
    };
    for path in [
        "apps/payments-api/dev/deployment.yaml",
        "apps/payments-api/prod/service.yaml",
        "apps/payments-api/staging/servicemonitor.yaml",
    ] {
        let doc = read("gitops", path);
        assert_eq!(
            doc["metadata"]["labels"]["globex.com/tier"], "production",
            "{path}"
        );
        assert_eq!(doc["metadata"]["labels"]["team"], "team-payments", "{path}");
    }
    let pod = read("gitops", "apps/payments-api/dev/deployment.yaml");
    assert_eq!(
        pod["spec"]["template"]["metadata"]["labels"]["globex.com/tier"],
        "production"
    );
    let claim = read("infra", "crossplane/dev/payments-api/bucket-logs.yaml");
    assert_eq!(claim["metadata"]["labels"]["globex.com/tier"], "production");
    // A label from a parameter the golden path does not have stops the request, naming it.
    edit(
        &dir.path().join("idp.yaml"),
        "{param.lifecycle}",
        "{param.tier}",
    );
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let e = p
        .run_golden_path(&pat, &ServiceRequest::new("orders", "team-payments"))
        .unwrap_err();
    assert_eq!(e.kind(), idp_core::ErrorKind::InvalidInput, "{e}");
    assert!(
        e.to_string().contains("labels.values.globex.com/tier"),
        "{e}"
    );
    // A name Kubernetes refuses, or an unknown placeholder, fails the load.
    for (from, to) in [
        (
            "globex.com/tier: '{param.tier}'",
            "'globex.com/Tier!': '{service}'",
        ),
        (
            "globex.com/tier: '{param.tier}'",
            "globex.com/tier: '{region}'",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), d.path());
        edit(&d.path().join("idp.yaml"), from, to);
        let e = Platform::from_dir(d.path(), ws.path()).unwrap_err();
        assert!(e.to_string().contains("labels.values"), "{e}");
    }
}

/// A small golden path `worker` at `version` whose GitOps values come from a shared template
/// (with a shared partial).
fn worker(dir: &std::path::Path, version: &str) {
    let v = dir.join(format!("golden-paths/worker/{version}"));
    std::fs::create_dir_all(v.join("templates")).unwrap();
    std::fs::write(
        v.join("path.yaml"),
        format!(
            "apiVersion: idp.dev/v1\nkind: GoldenPath\nid: worker\nversion: {version}\nparameters:\n  type: object\n  additionalProperties: false\n  properties:\n    replicas: {{ type: integer, minimum: 1, maximum: 5, default: 1 }}\nrepos:\n  service: {{ stamp: .idp/scaffold.json }}\n  gitops: {{ stamp: 'apps/{{{{ service }}}}/.idp/scaffold.json' }}\nsteps:\n  bootstrap_service:\n    repo: service\n    files:\n      - {{ path: README.md, template: README.md.tera, ownership: seeded }}\n  provision_gitops:\n    repo: gitops\n    files:\n      - {{ path: 'apps/{{{{ service }}}}/{{{{ env.name }}}}/values.yaml', template: shared/gitops/values.yaml.tera, for_each: environment, ownership: merged }}\n"
        ),
    )
    .unwrap();
    std::fs::write(v.join("templates/README.md.tera"), "# {{ service }}\n").unwrap();
}

#[test]
fn shared_templates_serve_several_golden_paths_and_a_release_freezes_them() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    let shared = dir.path().join("shared/templates");
    std::fs::create_dir_all(shared.join("gitops")).unwrap();
    std::fs::create_dir_all(shared.join("partials")).unwrap();
    std::fs::write(
        shared.join("gitops/values.yaml.tera"),
        "service: {{ service | q }}\nreplicas: {{ params.replicas }}\n{% include \"shared/partials/labels.tera\" %}",
    )
    .unwrap();
    std::fs::write(
        shared.join("partials/labels.tera"),
        "labels:\n{{ env.label_list | yaml_labels(indent=2) }}\n",
    )
    .unwrap();
    worker(dir.path(), "1.0.0");
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let pat = p.principal("pat");
    let req = |service: &str, version: &str| ServiceRequest {
        golden_path: Some("worker".into()),
        version: Some(version.into()),
        ..ServiceRequest::new(service, "team-payments")
    };
    p.run_golden_path(&pat, &req("jobs", "1.0.0")).unwrap();
    let values = common::read(&p, "gitops", "apps/jobs/dev/values.yaml").unwrap();
    assert!(
        values.contains("replicas: 1") && values.contains("  team: \"team-payments\""),
        "{values}"
    );
    // Released: the lock records the shared template and the partial it includes.
    let lock = idp_core::platform::PlatformDef::release(dir.path(), "worker", "1.0.0").unwrap();
    let lock = std::fs::read_to_string(lock).unwrap();
    assert!(
        lock.contains("shared/templates/gitops/values.yaml.tera")
            && lock.contains("shared/templates/partials/labels.tera"),
        "{lock}"
    );
    assert!(
        Platform::from_dir(dir.path(), ws.path())
            .unwrap()
            .check_golden_paths()
            .unwrap()
            .ok
    );
    // Changing the shared partial sets the released version aside, naming the file ...
    std::fs::write(
        shared.join("partials/labels.tera"),
        "labels:\n{{ env.label_list | yaml_labels(indent=2) }}\nextra: true\n",
    )
    .unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let e = p.run_golden_path(&pat, &req("jobs", "1.0.0")).unwrap_err();
    assert!(
        e.to_string().contains("released and frozen")
            && e.to_string()
                .contains("shared/templates/partials/labels.tera"),
        "{e}"
    );
    let problem = p.check_golden_paths().unwrap().problems.remove(0);
    assert_eq!(
        problem.file.as_deref(),
        Some("shared/templates/partials/labels.tera"),
        "{problem:?}"
    );
    // ... while the golden paths that do not use it are untouched, and a new version takes the
    // change.
    p.run_golden_path(&pat, &ServiceRequest::new("payments-api", "team-payments"))
        .unwrap();
    worker(dir.path(), "1.1.0");
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    p.run_golden_path(&pat, &req("reports", "1.1.0")).unwrap();
    let values = common::read(&p, "gitops", "apps/reports/dev/values.yaml").unwrap();
    assert!(values.contains("extra: true"), "{values}");
    // A version's own template may not take the shared names.
    let own = dir
        .path()
        .join("golden-paths/worker/1.1.0/templates/shared");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("x.tera"), "x").unwrap();
    let e = Platform::from_dir(dir.path(), ws.path())
        .unwrap()
        .run_golden_path(&pat, &req("more", "1.1.0"))
        .unwrap_err();
    assert!(e.to_string().contains("shared templates"), "{e}");
}

/// The rendered files of `service` under `apps/<service>/` and `argocd/` of the GitOps repo,
/// with the service's name and golden path replaced, so that two services compare.
fn gitops_of(p: &Platform, service: &str, receipt: &idp_core::receipt::Receipt) -> Vec<String> {
    let mut out = Vec::new();
    for step in &receipt.steps {
        for a in &step.artifacts {
            if !(a.path.starts_with("apps/") || a.path.starts_with("argocd/")) {
                continue;
            }
            let text = common::read(p, "gitops", &a.path).unwrap();
            let neutral: String = text
                .lines()
                .filter(|l| {
                    !l.contains("golden-path")
                        && !l.contains("scaffold-version")
                        && !l.contains("Managed by idp")
                })
                .collect::<Vec<_>>()
                .join("\n")
                .replace(service, "SVC")
                .replace(&receipt.golden_path, "GOLDEN_PATH");
            out.push(format!("{}\n{neutral}", a.path.replace(service, "SVC")));
        }
    }
    out.sort();
    out
}

#[test]
fn the_node_and_python_golden_paths_render_gitops_and_observability_from_the_same_templates() {
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let alice = p.principal("alice");
    let py = p
        .run_golden_path(&alice, &ServiceRequest::new("orders-py", "team-payments"))
        .unwrap();
    let mut req = ServiceRequest::new("orders-js", "team-payments");
    req.golden_path = Some("node-express-service".into());
    let js = p.run_golden_path(&alice, &req).unwrap();
    assert_eq!(py.scaffold_version, "2.1.0");
    assert_eq!(js.scaffold_version, "1.0.0");
    // Every GitOps and observability file of both comes from a shared template, and the same
    // one; only the service repo's files are each golden path's own.
    for (r, id) in [
        (&py, "python-fastapi-service@2.1.0"),
        (&js, "node-express-service@1.0.0"),
    ] {
        for s in &r.steps {
            for a in &s.artifacts {
                let from = a.provenance.strip_prefix(&format!("{id}:")).unwrap();
                if matches!(s.step.as_str(), "provision_gitops" | "attach_observability") {
                    assert!(from.starts_with("shared/"), "{}: {from}", a.path);
                }
            }
        }
    }
    // With the same parameters (the Node port aside, which defaults to 3000), the manifests,
    // dashboards and alerts differ only by the service's name.
    let mut req = ServiceRequest::new("orders-js2", "team-payments");
    req.golden_path = Some("node-express-service".into());
    req.parameters
        .insert("port".into(), serde_json::json!(8080));
    let js2 = p.run_golden_path(&alice, &req).unwrap();
    let (a, b) = (
        gitops_of(&p, "orders-py", &py),
        gitops_of(&p, "orders-js2", &js2),
    );
    assert_eq!(
        (a.len(), b.len()),
        (30, 30),
        "10 GitOps files each, in 3 environments"
    );
    for (a, b) in a.iter().zip(&b) {
        let diff = similar::TextDiff::from_lines(a, b);
        assert_eq!(a, b, "{}", diff.unified_diff());
    }
    // The Node service repo is its own: TypeScript, the metrics the shared dashboard queries.
    let obs = common::read(&p, "orders-js", "src/observability.ts").unwrap();
    for metric in [
        "http_server_requests_total",
        "http_server_request_duration_seconds",
        "http_server_requests_in_progress",
    ] {
        assert!(obs.contains(&format!("name: '{metric}'")), "{metric}");
        let dashboard = common::read(&p, "gitops", "apps/orders-js/prod/dashboard.yaml").unwrap();
        assert!(dashboard.contains(metric), "{metric}");
    }
    let package: serde_json::Value =
        serde_json::from_str(&common::read(&p, "orders-js", "package.json").unwrap()).unwrap();
    assert_eq!(package["name"], "orders-js");
    let docker = common::read(&p, "orders-js", "Dockerfile").unwrap();
    assert!(
        docker.contains("ENV NODE_ENV=production \\\n    PORT=3000"),
        "{docker}"
    );
}

#[test]
fn a_change_to_a_shared_template_is_refused_for_every_released_version_that_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    edit(
        &dir.path()
            .join("shared/templates/observability/prometheusrule.yaml.tera"),
        "severity: page",
        "severity: ticket",
    );
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let r = p.check_golden_paths().unwrap();
    assert!(!r.ok);
    let frozen: Vec<String> = r
        .problems
        .iter()
        .filter(|x| {
            x.message.contains("released and frozen")
                && x.message
                    .contains("shared/templates/observability/prometheusrule.yaml.tera")
        })
        .map(|x| format!("{}@{}", x.golden_path, x.version))
        .collect();
    assert_eq!(
        frozen,
        ["node-express-service@1.0.0", "python-fastapi-service@2.1.0"]
    );
    // The versions that keep their own copies are untouched.
    let alice = p.principal("alice");
    let mut req = ServiceRequest::new("orders-py", "team-payments");
    req.version = Some("2.0.0".into());
    p.run_golden_path(&alice, &req).unwrap();
}

#[test]
fn a_version_compiles_only_the_shared_templates_it_uses() {
    let dir = tempfile::tempdir().unwrap();
    Platform::init_dir(dir.path()).unwrap();
    // A shared piece nobody uses yet, mid-edit: it breaks no golden path.
    let wip = dir.path().join("shared/templates/wip/next.yaml.tera");
    std::fs::create_dir_all(wip.parent().unwrap()).unwrap();
    std::fs::write(&wip, "{% if params.port %}\nport: {{ params.port }}\n").unwrap();
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let r = p.check_golden_paths().unwrap();
    assert!(r.ok && r.problems.is_empty(), "{:#?}", r.problems);
    // Once a version uses it, that version (and only it) reports where the block opens.
    let v = dir.path().join("golden-paths/node-express-service/1.0.0");
    std::fs::remove_file(v.join("release.lock")).unwrap();
    edit(
        &v.join("path.yaml"),
        "      - { path: tsconfig.json,",
        "      - { path: next.yaml, template: shared/wip/next.yaml.tera, ownership: managed }\n      - { path: tsconfig.json,",
    );
    let p = Platform::from_dir(dir.path(), ws.path()).unwrap();
    let r = p.check_golden_paths().unwrap();
    let versions: Vec<String> = r
        .problems
        .iter()
        .map(|x| format!("{}@{}", x.golden_path, x.version))
        .collect();
    assert_eq!(
        versions,
        ["node-express-service@1.0.0"],
        "{:#?}",
        r.problems
    );
    assert!(
        r.problems[0].message.contains("shared/wip/next.yaml.tera"),
        "{:#?}",
        r.problems
    );
}
