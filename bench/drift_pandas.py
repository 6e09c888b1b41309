#!/usr/bin/env python3
"""The peer of bench/drift.sh and bench/data.sh: podium drift's statistics
written as a data scientist would, with pandas, numpy and scipy (Debian's
python3-pandas, python3-scipy).

  numeric     scipy.stats.ks_2samp (statistic and p-value); PSI over 10
              bins cut at the reference deciles (edge j is the value of
              rank ceil(j*n/10), as podium), empty bins 0.0001.
  categorical PSI over the reference categories plus one bin for unseen
              ones; L-infinity and Jensen-Shannon distance of the shares.

A column is numeric when pandas reads it as a number. Empty cells and NaN
are left out. Prints one JSON document like `podium drift --json`'s columns.

Usage: drift_pandas.py REFERENCE.csv CURRENT.csv
"""
import json
import math
import sys

import numpy as np
import pandas as pd
from scipy import stats

EMPTY = 0.0001


def psi_terms(p, q):
    p = np.where(p == 0, EMPTY, p)
    q = np.where(q == 0, EMPTY, q)
    return float(np.sum((q - p) * np.log(q / p)))


def numeric(r, c):
    r, c = r.dropna().to_numpy(), c.dropna().to_numpy()
    ks = stats.ks_2samp(r, c)
    n = len(r)
    ranks = [math.ceil(j * n / 10) - 1 for j in range(1, 10)]
    edges = np.partition(r, ranks)[ranks]
    rc = np.bincount(np.searchsorted(edges, r, side="left"), minlength=10) / n
    cc = np.bincount(np.searchsorted(edges, c, side="left"), minlength=10) / len(c)
    return {"kind": "numeric", "ks": float(ks.statistic), "ks_p_value": float(ks.pvalue), "psi": psi_terms(rc, cc)}


def categorical(r, c):
    rv, cv = r.dropna().value_counts(), c.dropna().value_counts()
    n, m = rv.sum(), cv.sum()
    cats = sorted(rv.index)
    p = np.array([rv[k] / n for k in cats] + [0.0])
    unseen = cv[~cv.index.isin(rv.index)].sum()
    q = np.array([cv.get(k, 0) / m for k in cats] + [unseen / m])
    mid = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        js = 0.5 * np.nansum(np.where(p > 0, p * np.log2(p / mid), 0)) + 0.5 * np.nansum(np.where(q > 0, q * np.log2(q / mid), 0))
    return {"kind": "categorical", "psi": psi_terms(p, q), "linf": float(np.max(np.abs(p - q))),
            "js": float(math.sqrt(max(js, 0))), "new_share": float(unseen / m)}


def main():
    ref, cur = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
    out = []
    for col in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[col]):
            res = numeric(ref[col], cur[col])
        else:
            res = categorical(ref[col].astype(str).where(ref[col].notna()), cur[col].astype(str).where(cur[col].notna()))
        res["column"] = col
        out.append(res)
    json.dump({"rows": {"reference": len(ref), "current": len(cur)}, "columns": out}, sys.stdout)


main()
