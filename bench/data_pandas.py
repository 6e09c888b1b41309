#!/usr/bin/env python3
"""The peer of `podium data check` in bench/data.sh: the same checks of a
podium data schema written with pandas (as pandera's lazy validation runs
them): a column present, values of its type, missing values, numeric range,
category domain (with max_unseen), row-count bounds, extra columns.

Usage: data_pandas.py SCHEMA.yaml DATA.csv
Prints {"violations": [{"column", "check", "count"}]} like podium's --json.
"""
import json
import sys

import numpy as np
import pandas as pd
import yaml

schema = yaml.safe_load(open(sys.argv[1]))
df = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
out = []


def add(column, check, count):
    out.append({"column": column, "check": check, "count": int(count)})


rows = len(df)
b = schema.get("rows") or {}
if "min" in b and rows < b["min"] or "max" in b and rows > b["max"]:
    add("", "rows", rows)
extra = [c for c in df.columns if c not in {c["name"] for c in schema["columns"]}]
if extra:
    add("", "columns", len(extra))
for col in schema["columns"]:
    name, typ = col["name"], col["type"]
    if name not in df.columns:
        add(name, "present", 0)
        continue
    s = df[name].str.strip(" \t")
    missing = s == ""
    if typ in ("number", "integer"):
        v = pd.to_numeric(s.where(~missing), errors="coerce")
        nan_text = s.str.lower().isin(["nan", "+nan", "-nan"])
        missing = missing | nan_text
        bad = v.isna() & ~missing
        if typ == "integer":
            bad = bad | (v.notna() & (v != np.floor(v)))
        if bad.sum():
            add(name, "type", bad.sum())
        ok = v[~bad & ~missing]
        lo, hi = col.get("min", -np.inf), col.get("max", np.inf)
        outside = ((ok < lo) | (ok > hi)).sum()
        if "min" in col or "max" in col:
            if outside:
                add(name, "range", outside)
    n_missing = missing.sum()
    total = len(s)
    if col.get("required", True):
        if n_missing:
            add(name, "missing", n_missing)
    elif "max_missing" in col and total and n_missing / total > col["max_missing"]:
        add(name, "missing", n_missing)
    if typ == "category":
        vals = s[~missing]
        unseen = (~vals.isin(col["values"])).sum()
        if unseen and unseen / max(len(vals), 1) > col.get("max_unseen", 0):
            add(name, "domain", unseen)
json.dump({"violations": out}, sys.stdout)
