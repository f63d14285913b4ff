"""Every method of the core's api through idp.Platform: same arguments, same results as the
core and the CLI."""

import json
import subprocess

import pytest

import idp
from conftest import ALICE, PAT, REPO, cli_binary, request, stable


def test_every_core_method_is_a_method_of_platform_and_of_aio():
    methods = set(idp._native.METHODS)
    assert methods == set(idp.METHODS)
    assert methods <= {m for m in dir(idp.Platform) if not m.startswith("_")}
    assert methods <= {m for m in dir(idp.aio.Platform) if not m.startswith("_")}


def test_golden_path_returns_a_receipt_with_every_step(platform):
    r = platform.run_golden_path(request())
    assert isinstance(r, idp.Receipt)
    assert r.status == "completed"
    assert [s.step for s in r.steps] == [
        "bootstrap_service", "wire_ci", "provision_gitops", "attach_observability"
    ]
    assert r.steps[0].change_request.id == "payments-api#1"
    assert r["service"] == "payments-api"
    d = r.to_dict()
    assert list(d)[:3] == ["run_id", "operation", "service"]  # the core's key order
    d["service"] = "changed"
    assert r.service == "payments-api"  # to_dict is a copy


def test_dict_kwargs_and_dataclass_requests_are_the_same_request(platform):
    a = platform.run_golden_path(request(port=8080))
    b = platform.run_golden_path(
        {"service": "payments-api", "owner": "team-payments", "parameters": {"port": 8080}}
    )
    c = platform.run_golden_path(service="payments-api", owner="team-payments", parameters={"port": 8080})
    assert stable(a.to_dict()) == stable(b.to_dict()) == stable(c.to_dict())


def test_rerun_with_the_same_request_changes_nothing(platform):
    first = platform.run_golden_path(request())
    again = platform.run_golden_path(request())
    assert stable(first.to_dict()) == stable(again.to_dict())
    assert len(platform.runs(service="payments-api")) == 2


def test_each_step_alone_and_then_the_whole_path(platform):
    # Once GitOps exists, prod is no longer a first deploy and needs an approval: the steps
    # after provision_gitops run as the platform admin.
    for step in ("bootstrap_service", "wire_ci", "provision_gitops", "attach_observability"):
        r = getattr(platform, step)(request("orders-api"), as_=PAT)
        assert r.operation == step and r.status == "completed"
    whole = platform.run_golden_path(request("orders-api"), as_=PAT)
    assert all(s.change_request is None or s.change_request.state == "merged" for s in whole.steps)


def test_request_infra_resource_maps_intents_to_modules(platform):
    platform.run_golden_path(request())
    intents = [{"type": "bucket", "class": "logs", "environments": ["dev"]}]
    r = platform.request_infra_resource(request(), intents=intents)
    assert r.operation == "request_infra_resource" and r.status == "completed"
    assert any(s.step == "request_infra_resource" for s in r.steps)
    assert platform.infra_impact().unchanged == ["payments-api"]


def test_plan_writes_nothing_and_explain_runs_and_resume_read_state(platform):
    plan = platform.plan(operation="run_golden_path", request=request())
    assert isinstance(plan, idp.Plan) and plan.allowed
    assert plan.change_sets and platform.runs() == []
    r = platform.run_golden_path(request())
    ex = platform.explain(service="payments-api")
    assert isinstance(ex, idp.Explanation) and ex.service == "payments-api"
    assert any(f.path == "Dockerfile" for f in ex.files)
    resumed = platform.resume(run_id=r.run_id)
    assert resumed.run_id == r.run_id and stable(resumed.to_dict()) == stable(r.to_dict())
    [run] = platform.runs()
    assert run.run_id == r.run_id
    paths = platform.golden_paths()
    assert {gp.id for gp in paths} == {"node-express-service", "python-fastapi-service"}
    assert "1.0.0" in {gp.version for gp in paths}


def test_waivers_authorize_and_policy_tests(platform):
    platform.run_golden_path(request())
    w = platform.request_waiver(
        idp.WaiverRequest(
            rule="protected-environment", service="payments-api", environment="prod",
            operations=["provision_gitops"], justification="hotfix for the prod outage",
            expires="1d",
        )
    )
    assert w.id
    # A rule nothing checks is refused, with the valid rules named.
    with pytest.raises(idp.InvalidInputError) as e:
        platform.request_waiver(
            idp.WaiverRequest(
                rule="managed-edit", service="payments-api",
                justification="keep our edited deployment", expires="1d",
            )
        )
    assert "protected-environment" in str(e.value)
    approved = platform.approve_waiver(id=w.id, as_=PAT)
    assert approved.id == w.id
    [listed] = platform.list_waivers(service="payments-api")
    assert listed.state == "approved"
    decision = platform.authorize(
        principal={"user": ALICE, "groups": ["group:default/team-payments"]},
        action="wire_ci",
        resource={"type": "service", "name": "payments-api", "owner": "team-payments"},
    )
    assert decision.to_dict()["allowed"] is True
    report = platform.test_policies(dir=str(REPO / "idp-core/platform/policies/tests"))
    assert report.failed == 0 and report.passed > 0


def test_audit_verify_list_and_checkpoint(platform):
    # Signing a checkpoint is for platform admins; the refusal is recorded.
    with pytest.raises(idp.DeniedError):
        platform.audit_checkpoint()
    assert platform.audit_checkpoint(as_=PAT) is not None
    platform.run_golden_path(request())
    records = platform.audit_list(service="payments-api")
    assert records and records[-1].event.operation == "run_golden_path"
    # Every append signs the new head: an exported checkpoint verifies later.
    report = platform.audit_verify()
    assert report.ok and report.checkpoints_verified >= 1
    cp = platform.audit_checkpoint(as_=PAT)
    report = platform.audit_verify(anchors=[cp.to_dict()])
    assert report.ok and cp.seq == report.records


def test_module_catalog_and_infra_impact(platform):
    modules = platform.modules()
    assert modules and all(isinstance(m, idp.Record) for m in modules)
    assert isinstance(platform.infra_impact(), idp.Record)


def test_upgrade_plan_upgrade_fleet_and_fleet(platform):
    platform.run_golden_path(request(), version="1.0.0")
    [row] = platform.fleet()
    assert row.service == "payments-api"
    plan = platform.upgrade_plan(service="payments-api")
    assert plan["from"] == "1.0.0"  # `from` is a Python keyword: item access
    assert platform.fleet()[0].to_dict() == row.to_dict()  # the plan wrote nothing
    # prod is protected: alice would need a waiver; the platform admin may upgrade.
    done = platform.upgrade(service="payments-api", as_=PAT)
    assert done["to"] == plan["to"] != "1.0.0"
    fleet_plan = platform.upgrade_fleet(plan=True, as_=PAT)
    assert isinstance(fleet_plan, idp.Record)


def test_principal_with_explicit_groups_acts_for_those_groups(platform):
    backstage_user = {"user": "user:default/someone", "groups": ["group:default/team-payments"]}
    r = platform.bootstrap_service(request(), as_=backstage_user)
    assert r.status == "completed"


def test_init_writes_a_platform_folder_that_loads(tmp_path):
    n = idp.init(tmp_path / "platform")
    assert n > 5
    p = idp.Platform.from_dir(tmp_path / "platform", workspace=tmp_path / "ws", as_=ALICE)
    assert p.run_golden_path(request()).status == "completed"


def cli_json(workspace, *args):
    out = subprocess.run(
        [cli_binary(), "--workspace", str(workspace), "--as", ALICE, "--json", "-q", *args],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def test_to_dict_equals_the_cli_json_less_run_id_and_timestamps(platform, workspace):
    py = platform.run_golden_path(request(port=8080)).to_dict()
    # The same request through the CLI in the same workspace: an idempotent rerun.
    cli = cli_json(workspace, "golden-path", "run", "--service", "payments-api",
                   "--owner", "team-payments", "--param", "port=8080")
    assert json.dumps(stable(py)) == json.dumps(stable(cli))  # same keys, same order
    assert platform.explain(service="payments-api").to_dict() == cli_json(
        workspace, "explain", "payments-api"
    )


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@x", *args],
                   cwd=cwd, check=True, capture_output=True)


def test_a_parameter_change_merges_into_a_team_edit_and_explain_shows_the_drift(
    platform, workspace, tmp_path
):
    platform.run_golden_path(request(), as_=PAT)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workspace / "repos" / "gitops.git"), str(clone))
    f = clone / "apps/payments-api/dev/deployment.yaml"
    f.write_text(f.read_text().replace("replicas: 1\n", "replicas: 2\n", 1))
    git(clone, "commit", "-qam", "two replicas in dev")
    git(clone, "push", "-q", "origin", "main")
    platform.provision_gitops(request(port=3001), as_=PAT)
    [dev] = [x for x in platform.explain(service="payments-api").files
             if x.path == "apps/payments-api/dev/deployment.yaml"]
    assert dev.drift == ["/spec/replicas"]
    [row] = platform.fleet(as_=PAT)
    assert row.drift == ["gitops:apps/payments-api/dev/deployment.yaml: /spec/replicas"]
    git(clone, "pull", "-q", "--ff-only")
    text = f.read_text()
    assert "replicas: 2" in text and "containerPort: 3001" in text
    # The team pins the port: a further port change conflicts, typed, naming the key.
    f.write_text(text.replace("containerPort: 3001", "containerPort: 4000", 1))
    git(clone, "commit", "-qam", "pin the port")
    git(clone, "push", "-q", "origin", "main")
    with pytest.raises(idp.ConflictError, match=r"ports\[name=http\]/containerPort"):
        platform.provision_gitops(request(port=3002), as_=PAT)


def test_an_environment_gets_its_own_values(platform, workspace):
    r = request()
    r.environments = {"prod": idp.EnvironmentValues(parameters={"memory_limit": "1024Mi"})}
    platform.run_golden_path(r, as_=PAT)
    assert platform.explain(service="payments-api").environments == {
        "prod": {"memory_limit": "1024Mi"}
    }
    prod = subprocess.run(
        ["git", "--git-dir", str(workspace / "repos" / "gitops.git"), "show",
         "main:apps/payments-api/prod/deployment.yaml"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert 'memory: "1024Mi"' in prod
    with pytest.raises(idp.InvalidInputError) as e:
        platform.provision_gitops(
            {"service": "payments-api", "environments": {"qa": {"parameters": {"port": 1}}}},
            as_=PAT,
        )
    assert e.value.context["field"] == "environments.qa"


def test_check_golden_paths(platform):
    report = platform.check_golden_paths()
    assert report.ok and report.problems == []
    assert "python-fastapi-service@2.0.0" in report.checked


ARGO_PROD_SYNC = {"app": {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": "payments-api-prod", "namespace": "argocd",
                 "labels": {"app.kubernetes.io/name": "payments-api", "env": "prod"}},
    "status": {"summary": {"images": ["ghcr.io/acme/team-payments/payments-api:sha-c0ffee"]},
               "operationState": {"phase": "Succeeded", "finishedAt": "2026-11-20T10:00:00Z",
                                  "syncResult": {"revision": "0a1b2c"}}}}}


def test_insights_count_python_runs_and_ingested_deployments_as_the_cli_does(
    platform, workspace, tmp_path
):
    platform.run_golden_path(request())
    r = platform.ingest_events(source="argocd", payload=ARGO_PROD_SYNC)
    assert (r.received, r.recorded, r.duplicates) == (1, 1, 0)
    report = platform.insights(since="2026-11-01")
    assert isinstance(report, idp.InsightsReport)
    assert report.adoption.runs_by_face == {"python": 1}
    assert report.four_keys.deployments == 1
    # The same payload through the CLI records nothing new; the CLI reads the same figures.
    payload = tmp_path / "sync.json"
    payload.write_text(json.dumps(ARGO_PROD_SYNC))
    again = cli_json(workspace, "events", "ingest", "--source", "argocd", str(payload))
    assert again["recorded"] == 0 and again["duplicates"] == 1
    fixed = platform.insights(since="2026-11-01", until="2026-12-01")
    cli = cli_json(workspace, "insights", "--since", "2026-11-01", "--until", "2026-12-01")
    assert cli["four_keys"] == fixed.four_keys.to_dict()
    assert cli["weekly"] == fixed.to_dict()["weekly"]
    with pytest.raises(idp.InvalidInputError):
        platform.ingest_events(source="argocd", payload={"kind": "Deployment"})
    html = platform.insights_html(since="2026-11-01", until="2026-12-01")
    assert html.startswith("<!DOCTYPE html>")
    start = html.index('<script id="idp-data" type="application/json">') + len(
        '<script id="idp-data" type="application/json">')
    embedded = json.loads(html[start:html.index("</script>", start)])
    assert embedded["four_keys"] == fixed.four_keys.to_dict()
