#!/usr/bin/env python3
"""Writes the seeded benchmark tables of bench/drift.sh and bench/data.sh.

reference.csv and current.csv: ROWS rows x 20 columns, 16 numeric (normal,
lognormal, uniform and counts with many ties, 5 decimals) and 4
categorical; in current.csv most numeric columns move or widen, one
categorical mix reverses and one gains a new category (zeta). A few cells
are empty (missing). Needs numpy (Debian's python3-numpy).

Usage: gen_data.py ROWS OUT_DIR
"""
import os
import sys

import numpy as np

NUMERIC, CATEGORICAL = 16, 4
CATS = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])


def write(path, rows, seed, shifted):
    rng = np.random.default_rng(seed)
    header = [f"n{j:02d}" for j in range(NUMERIC)] + [f"c{j}" for j in range(CATEGORICAL)]
    tmp = path + ".tmp"
    chunk = 100_000
    with open(tmp, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            cols = []
            for j in range(NUMERIC):
                shift = 0.25 * (j % 4) if shifted else 0.0
                spread = 1.2 if shifted and j % 5 == 0 else 1.0
                kind = j % 4
                if kind == 0:
                    v = rng.normal(shift, spread, n)
                elif kind == 1:
                    v = rng.lognormal(shift, 0.5 * spread, n)
                elif kind == 2:
                    v = rng.uniform(shift, 10 + shift, n)
                else:
                    v = np.floor(rng.exponential(20 + 10 * shift, n))
                s = np.char.mod("%.5f", v)
                s[rng.random(n) < 0.001] = ""  # missing cells
                cols.append(s)
            for j in range(CATEGORICAL):
                w = np.array([5, 4, 3, 2, 1], dtype=float)
                cats = CATS.copy()
                if shifted and j == 1:
                    w = w[::-1].copy()
                if shifted and j == 2:
                    cats = np.array(list(CATS[:4]) + ["zeta"])
                cols.append(cats[rng.choice(5, n, p=w / w.sum())])
            lines = cols[0].astype(object)
            for c in cols[1:]:
                lines = lines + "," + c.astype(object)
            f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


rows, out = int(sys.argv[1]), sys.argv[2]
write(os.path.join(out, "reference.csv"), rows, 1, False)
write(os.path.join(out, "current.csv"), rows, 2, True)
