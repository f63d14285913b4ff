#!/usr/bin/env python3
"""The golden path from Python: plan, run, rerun (a no-op), explain, and a denied outsider.

    pip install ./idp-python
    python examples/python/golden_path.py [WORKSPACE]
"""

import sys
import tempfile

import idp


def main(workspace: str) -> None:
    platform = idp.Platform.default(workspace=workspace, as_="user:default/alice")
    request = idp.ServiceRequest(
        service="payments-api", owner="team-payments", parameters={"port": 8080}
    )

    plan = platform.plan(operation="run_golden_path", request=request)
    files = sum(len(cs["files"]) for cs in plan.to_dict()["change_sets"])
    print(f"plan: {files} files in {len(plan.change_sets)} change sets, allowed={plan.allowed}")

    receipt = platform.run_golden_path(request)
    for step in receipt.steps:
        cr = step.change_request
        print(f"  {step.step:<22} {cr.id if cr else 'no change'}")
    print(f"service repo: {receipt.links['service_repo']}")

    again = platform.run_golden_path(request)
    assert all(s.change_request is None or s.change_request.commit == r.change_request.commit
               for s, r in zip(again.steps, receipt.steps)), "a rerun must not commit"
    print("rerun: no new commits")

    managed = [f.path for f in platform.explain(service="payments-api").files if f.ownership == "managed"]
    print(f"explain: {len(managed)} files managed by the platform")

    try:
        platform.wire_ci(request, as_="user:default/mallory")
    except idp.DeniedError as e:
        print(f"mallory: denied ({e.kind})")

    assert platform.audit_verify().ok
    print("audit log verified")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as ws:
            main(ws)
