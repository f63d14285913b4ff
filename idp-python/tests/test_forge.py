"""The Python face against forges (`kind: github`, `gitea`, `gitlab`) on the test forge: real HTTP
underneath."""

import json
import urllib.request

import pytest

import idp

from conftest import ALICE, FORGE_TOKEN, WEBHOOK_SECRET, forge_platform_dir, request


def forge_api(base: str, method: str, path: str, body=None):
    req = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {FORGE_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    monkeypatch.setenv("IDP_GITHUB_TOKEN", FORGE_TOKEN)
    monkeypatch.setenv("IDP_GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)


def test_the_golden_path_opens_and_merges_one_pull_request_per_step(tmp_path, forge):
    p = idp.Platform.from_dir(forge_platform_dir(tmp_path, forge, True), tmp_path / "ws", as_=ALICE)
    r = p.run_golden_path(request())
    assert r.status == "completed"
    urls = [s.change_request.url for s in r.steps]
    assert all(u.startswith(f"{forge}/acme/") and "/pull/" in u for u in urls), urls
    pulls = forge_api(forge, "GET", "/api/v3/repos/acme/payments-api/pulls?state=all")
    assert [pr["merged"] for pr in pulls] == [True, True]


def test_a_run_waits_for_review_and_a_signed_webhook_resumes_it(tmp_path, forge):
    p = idp.Platform.from_dir(forge_platform_dir(tmp_path, forge, False), tmp_path / "ws", as_=ALICE)
    r = p.run_golden_path(request())
    assert r.status == "waiting"
    open_pr = r.steps[-1].change_request
    assert open_pr.state == "open"
    number = open_pr.url.rsplit("/", 1)[1]
    forge_api(forge, "PUT", f"/api/v3/repos/acme/payments-api/pulls/{number}/merge", {})
    delivery = forge_api(forge, "GET", "/_forge/deliveries")[-1]

    with pytest.raises(idp.DeniedError):
        p.forge_webhook(headers=delivery["headers"], body=delivery["body"] + " ")
    report = p.forge_webhook(headers=delivery["headers"], body=delivery["body"])
    assert report.event.merged is True
    (run,) = report.runs
    assert run.run_id == r.run_id and run.status == "waiting"
    assert run.receipt.steps[0].change_request.state == "merged"


@pytest.mark.parametrize("kind", ["gitea", "gitlab"])
def test_gitea_and_gitlab_take_the_hosts_token_and_merge_one_request_per_step(
    tmp_path, forge, kind, monkeypatch
):
    monkeypatch.delenv("IDP_GITHUB_TOKEN")
    folder = forge_platform_dir(tmp_path, forge, True, kind=kind, token=False)
    with pytest.raises(idp.InvalidInputError, match="host gave no token"):
        idp.Platform.from_dir(folder, tmp_path / "ws", as_=ALICE).run_golden_path(request())
    host = forge.split("://", 1)[1]
    p = idp.Platform.from_dir(
        folder, tmp_path / "ws", as_=ALICE, host_tokens={host: FORGE_TOKEN}
    )
    r = p.run_golden_path(request())
    assert r.status == "completed"
    marker = "/pulls/" if kind == "gitea" else "/-/merge_requests/"
    assert all(marker in s.change_request.url for s in r.steps), [s.change_request.url for s in r.steps]
    # The test forge keeps one store behind its API shapes: read it back as GitHub would.
    pulls = forge_api(forge, "GET", "/api/v3/repos/acme/payments-api/pulls?state=all")
    assert [pr["merged"] for pr in pulls] == [True, True]
