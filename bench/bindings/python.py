"""The Python side of bench/bindings.sh: the same workload as native.rs, through `import idp`.

Usage: python python.py WORKSPACE SERVICES EXPLAIN_CALLS  (prints one JSON line)
"""

import json
import sys
import time

import idp

ws, n, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = idp.Platform.default(workspace=ws, as_="user:default/alice")
t = time.perf_counter()
for i in range(n):
    r = p.run_golden_path(service=f"svc-{i}", owner="team-payments")
    assert len(r.steps) == 4
golden_path_s = time.perf_counter() - t
t = time.perf_counter()
for _ in range(calls):
    p.explain(service="svc-0")
explain_s = time.perf_counter() - t
print(json.dumps({"face": "python", "services": n, "golden_path_s": golden_path_s,
                  "explain_calls": calls, "explain_s": explain_s}))
