#!/usr/bin/env python3
"""Prints the figures of a bench run and checks that podium and its peer
agree. Usage: compare.py drift|data DIR ROWS SPEEDUP_TARGET RSS_SHARE_TARGET [LABEL]"""
import json
import os
import statistics
import sys

what, d, rows, speed_target, rss_target = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
label = sys.argv[6] if len(sys.argv) > 6 else ""


def stats(name):
    """Medians over the runs (one line each) of wall, CPU (user+sys), RSS."""
    rows = [line.split()[-4:] for line in open(os.path.join(d, name + ".stats")) if len(line.split()) >= 4]
    wall = statistics.median(float(r[0]) for r in rows)
    cpu = statistics.median(float(r[1]) + float(r[2]) for r in rows)
    rss = statistics.median(int(r[3]) for r in rows) / 1024
    return wall, cpu, rss, len(rows)


problems = []


def agree_drift(pod_path, peer_path):
    pod = {c["column"]: c for c in json.load(open(pod_path))["columns"]}
    peer = json.load(open(peer_path))["columns"]
    worst = {}
    for c in peer:
        p = pod.get(c["column"])
        if p is None or p["kind"] != c["kind"]:
            problems.append(f"{c['column']}: kind {p and p['kind']} vs {c['kind']}")
            continue
        for stat, tol in (("ks", 1e-9), ("psi", 1e-6), ("linf", 1e-6), ("js", 1e-6), ("ks_p_value", 5e-3), ("new_share", 1e-9)):
            a, b = p.get(stat), c.get(stat)
            if b is None:
                continue
            if a is None:
                problems.append(f"{c['column']}: {stat} missing in podium's output")
                continue
            err = abs(a - b)
            worst[stat] = max(worst.get(stat, 0), err)
            if err > tol:
                problems.append(f"{c['column']}: {stat} {a} vs {b} (|diff| {err:.3g} > {tol:g})")
    return ", ".join(f"{k} {v:.2g}" for k, v in sorted(worst.items())) + f" over {len(peer)} columns"


def agree_data(pod_path, peer_path):
    pod = json.load(open(pod_path))
    peer = json.load(open(peer_path))
    got = sorted((v["column"], v["check"], v["count"]) for v in pod["violations"])
    want = sorted((v["column"], v["check"], v["count"]) for v in peer["violations"])
    if got != want:
        problems.append(f"violations differ: podium {got} vs peer {want}")
    return f"{len(got)} violations, the same (column, check, rows)"


pw, pc, pr, n = stats("podium" + label)
yw, yc, yr, _ = stats("peer" + label)
agreement = (agree_drift if what == "drift" else agree_data)(
    os.path.join(d, f"podium{label}.json"), os.path.join(d, f"peer{label}.json"))
name = f"podium {what}{' (' + label.strip('-') + ')' if label else ''}"
try:
    loads = [float(x) for x in open(os.path.join(d, "load")).read().split()]
    load = f"load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores"
except (OSError, ValueError):
    load = "load average unknown"
print(f"rows per file:   {rows:,} x 20 columns; medians of {n} runs, alternated; {load}")
if os.path.exists(os.path.join(d, f"podium-base{label}.stats")):
    bw, bc, br, _ = stats("podium-base" + label)
    print(f"{'podium (BASE):':<16} {bw:8.2f} s wall  {bc:8.2f} s CPU  peak RSS {br:7.1f} MB  ({yw / bw:.1f}x wall, {yc / bc:.1f}x CPU)")
print(f"{name + ':':<16} {pw:8.2f} s wall  {pc:8.2f} s CPU  peak RSS {pr:7.1f} MB")
print(f"{'pandas + scipy:':<16} {yw:8.2f} s wall  {yc:8.2f} s CPU  peak RSS {yr:7.1f} MB")
print(f"ratio:           {yw / pw:8.1f}x wall  {yc / pc:7.1f}x CPU  {pr / yr:6.2f} of the peer's memory")
print(f"agreement:       {agreement}")
for p in problems:
    print("DISAGREE " + p)
speed_ok, rss_ok = yw / pw >= speed_target, pr <= rss_target * yr
print(f"targets:         >= {speed_target:g}x faster: {'met' if speed_ok else 'MISSED'}; <= {rss_target:g} of the peer's peak RSS: {'met' if rss_ok else 'MISSED'}")
strict = os.environ.get("STRICT") == "1"
sys.exit(0 if not problems and (not strict or (speed_ok and rss_ok)) else 1)
