"""Prints the bindings benchmark from the JSON lines of native.rs, python.py and node.mjs
(several rounds each; the median round per face counts)."""

import json
import statistics
import sys

runs = [json.loads(line) for line in sys.stdin if line.startswith("{")]
faces = {}
for r in runs:
    faces.setdefault(r["face"], []).append(r)


def median(face, key):
    return statistics.median(r[key] for r in faces[face])


native_gp = median("native", "golden_path_s")
native_ex = median("native", "explain_s")
n = faces["native"][0]["services"]
calls = faces["native"][0]["explain_calls"]
rounds = len(faces["native"])
print(f"golden path: {n} services in one process, one call at a time; explain x{calls}; "
      f"median of {rounds} rounds")
print(f"{'face':<8} {'golden path':>12} {'per service':>12} {'vs native':>10} "
      f"{'explain':>10} {'overhead/call':>14}")
ok = True
for face in ("native", "python", "node"):
    if face not in faces:
        continue
    gp, ex = median(face, "golden_path_s"), median(face, "explain_s")
    ratio = gp / native_gp
    overhead_us = (ex - native_ex) / calls * 1e6
    print(f"{face:<8} {gp:>10.3f} s {gp / n * 1000:>9.2f} ms {ratio:>9.3f}x "
          f"{ex / calls * 1e6:>7.1f} us {overhead_us:>11.1f} us")
    if face != "native" and ratio > 1.10:
        ok = False
print("goal (within 10% of native):", "met" if ok else "NOT met")
if "node" in faces and "lag_busy" in faces["node"][0]:
    # The round with the median p99 under load, beside the idle loop of the same round.
    rows = sorted(faces["node"], key=lambda r: r["lag_busy"]["p99"])
    r = rows[len(rows) // 2]
    b, i = r["lag_busy"], r["lag_idle"]
    print(f"node event loop with {r['concurrent']} golden paths in flight "
          f"({r['concurrent_services']} services in {b['s']:.2f} s; median round of {len(rows)}): "
          f"delay p50 {b['p50']:.2f} ms, p99 {b['p99']:.2f} ms, max {b['max']:.2f} ms "
          f"(idle loop: p50 {i['p50']:.2f} ms, p99 {i['p99']:.2f} ms, max {i['max']:.2f} ms)")
