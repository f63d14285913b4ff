#!/usr/bin/env python3
"""Insights through the CLI, end to end: webhook payloads (GitHub pushes, Argo CD syncs,
Alertmanager v4 alerts) for services the golden path created are ingested with
`idp events ingest`, `idp insights --json --html` reports them, the figures are checked against
the history written here, and the HTML report is rendered in headless Chromium, whose charts must
draw one mark per data point (scripts/insights_html_check.py).

Usage: insights_e2e.py IDP WORKSPACE SERVICE
"""
import json
import os
import subprocess
import sys
import tempfile

IDP, WS, SERVICE = sys.argv[1:4]
HERE = os.path.dirname(os.path.abspath(__file__))


def idp(*args, as_="user:default/alice"):
    out = subprocess.run([IDP, "--workspace", WS, "--as", as_, "-q", "--json", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def ingest(tmp, source, payload):
    path = os.path.join(tmp, f"{source}.json")
    with open(path, "w") as f:
        json.dump(payload, f)
    return idp("events", "ingest", "--source", source, path)


def sync(n, sha, at, phase="Succeeded"):
    return {"app": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": f"{SERVICE}-prod", "namespace": "argocd",
                                 "labels": {"app.kubernetes.io/name": SERVICE, "env": "prod"}},
                    "status": {"summary": {"images": [f"ghcr.io/acme/team-payments/{SERVICE}:sha-{sha}"]},
                               "operationState": {"phase": phase, "finishedAt": at,
                                                  "syncResult": {"revision": f"g{n}"}}}}}


def alert(status, start, end):
    return {"version": "4", "status": status, "receiver": "idp", "groupKey": "{}:{}", "alerts": [{
        "status": status, "startsAt": start, "endsAt": end, "fingerprint": "fp1",
        "labels": {"alertname": "ErrorBudgetFastBurn", "service": SERVICE, "env": "prod",
                   "slo": "availability", "severity": "page"}}]}


with tempfile.TemporaryDirectory() as tmp:
    # Three commits over two weeks; three prod deployments, the second followed by an incident
    # of 90 minutes; one failed sync.
    push = {"ref": "refs/heads/main", "repository": {"name": SERVICE, "default_branch": "main"},
            "commits": [{"id": "a1", "timestamp": "2026-11-02T09:00:00Z"},
                        {"id": "a2", "timestamp": "2026-11-09T09:00:00Z"},
                        {"id": "a3", "timestamp": "2026-11-16T09:00:00Z"}]}
    r = ingest(tmp, "github", push)
    assert r["recorded"] == 3, r
    r = ingest(tmp, "argocd", [sync(1, "a1", "2026-11-02T11:00:00Z"),   # a1: 2 h
                               sync(2, "a2", "2026-11-09T13:00:00Z"),   # a2: 4 h
                               sync(3, "a3", "2026-11-16T10:00:00Z", "Failed"),
                               sync(4, "a3", "2026-11-16T15:00:00Z")])  # a3: 6 h
    assert r["recorded"] == 4, r
    ingest(tmp, "alertmanager", alert("firing", "2026-11-10T08:00:00Z", "0001-01-01T00:00:00Z"))
    r = ingest(tmp, "alertmanager", alert("resolved", "2026-11-10T08:00:00Z", "2026-11-10T09:30:00Z"))
    assert r["recorded"] == 1, r
    # Ingesting the same payload again records nothing.
    assert ingest(tmp, "alertmanager", alert("resolved", "2026-11-10T08:00:00Z",
                                             "2026-11-10T09:30:00Z"))["duplicates"] == 1

    html = os.path.join(tmp, "report.html")
    rep = idp("insights", "--service", SERVICE, "--since", "2026-11-01", "--until", "2026-11-29",
              "--html", html, as_="user:default/pat")
    k = rep["four_keys"]
    want = {"deployments": 4, "successful_deployments": 3, "failed_deployments": 2,
            "changes": 3, "lead_time_median_hours": 4.0, "incidents": 1, "restored": 1,
            "time_to_restore_median_hours": 1.5}
    got = {key: k[key] for key in want}
    assert got == want, f"four keys: {got} != {want}"
    assert abs(k["deploys_per_day"] - 3 / 28) < 1e-9, k
    assert (k["lead_time_band"], k["change_failure_rate_band"], k["time_to_restore_band"]) == \
        ("elite", "low", "high"), k
    # The golden path ran through the CLI just now (the default period ends now).
    runs = idp("insights", "--service", SERVICE, as_="user:default/pat")["adoption"]["runs_by_face"]
    assert runs.get("cli", 0) >= 1, runs

    # The HTML report draws one mark per data point (the rule the page documents).
    weekly = rep["weekly"]
    expect = {
        "chart-weekly-deployments": len(weekly) + sum(1 for w in weekly if w["failed_deployments"] > 0),
        "chart-weekly-lead-time": sum(1 for w in weekly if w["lead_time_median_hours"] is not None),
        "chart-lead-time-distribution": len(rep["lead_time_distribution"]),
        "chart-drift-by-team": 2 * len(rep["drift"]["by_team"]),
        "chart-runs-by-face": len(rep["adoption"]["runs_by_face"]),
    }
    assert all(v > 0 for k, v in expect.items() if k != "chart-runs-by-face"), expect
    with open(os.path.join(tmp, "expect.json"), "w") as f:
        json.dump(expect, f)
    subprocess.run([sys.executable, os.path.join(HERE, "insights_html_check.py"), html,
                    os.path.join(tmp, "expect.json")], check=True)
print(f"insights: {SERVICE}'s four keys match the ingested history; the HTML report draws in Chromium")
