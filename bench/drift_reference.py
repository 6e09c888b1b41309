#!/usr/bin/env python3
"""Reference implementation of `podium drift`'s statistics, Python stdlib only.

It computes the same definitions as internal/drift, written from the
definitions rather than from the Go code, to check podium's numbers:

  KS   D = max over every value x of either sample of |F_ref(x) - F_cur(x)|,
       F the empirical CDF (bisect_right(sorted, x) / n).
  PSI  numeric: 10 bins cut at the reference deciles; edge j (1..9) is the
       reference value of rank ceil(j*n/10) (1-based, in sorted order); bin 0
       is (-inf, e1], bin j is (e_j, e_j+1], bin 9 is (e9, +inf).
       categorical: one bin per reference category (sorted by name), then one
       bin for categories the reference never had.
       A bin with no values counts as share 0.0001; PSI = sum (q - p) ln(q/p),
       summed in bin order.

Cells: surrounding spaces are ignored in numeric cells; an empty cell or NaN
is missing (left out). A row with the wrong number of fields or a numeric
cell that is not a number is bad and left out whole. A column is numeric when
every non-empty cell in the reference's first MiB (cut after the last line end) parses as
a number.

Usage: drift_reference.py REFERENCE.csv CURRENT.csv [--columns a,b] [--categorical c]
Prints one JSON document.
"""

import argparse
import bisect
import io
import csv
import json
import math
import sys

EMPTY_BIN_SHARE = 0.0001


def header_and_rows(f):
    rows = csv.reader(f)
    header = next(rows, None)
    if header is None:
        sys.exit(f"{f.name}: file is empty")
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    return header, (row for row in rows if row)


def sample_rows(path):
    """The rows podium decides column kinds from: its first block, the
    first MiB of the file cut after the last line end (the whole file when
    smaller)."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        if f.read(1):
            head = head[: head.rfind(b"\n") + 1]
    text = io.StringIO(head.decode("utf-8"), newline="")
    _, rows = header_and_rows(text)
    return list(rows)


def as_number(cell):
    """Returns (value, status): status 'ok', 'missing' or 'bad'."""
    s = cell.strip(" \t")
    if s == "":
        return None, "missing"
    try:
        v = float(s)
    except ValueError:
        return None, "bad"
    if math.isnan(v):
        return None, "missing"
    return v, "ok"


def psi_term(r, c, n, m):
    p = r / n if r else EMPTY_BIN_SHARE
    q = c / m if c else EMPTY_BIN_SHARE
    return (q - p) * math.log(q / p)


def ks_stat(r, c):
    n, m = len(r), len(c)
    d = 0.0
    for x in sorted(set(r).union(c)):
        d = max(d, abs(bisect.bisect_right(r, x) / n - bisect.bisect_right(c, x) / m))
    return d


def numeric_psi(r, c):
    n, m = len(r), len(c)
    edges = [r[(j * n + 9) // 10 - 1] for j in range(1, 10)]
    cum_r = [0] + [bisect.bisect_right(r, e) for e in edges] + [n]
    cum_c = [0] + [bisect.bisect_right(c, e) for e in edges] + [m]
    return sum(psi_term(cum_r[b + 1] - cum_r[b], cum_c[b + 1] - cum_c[b], n, m) for b in range(10))


def categorical(r, c):
    rc, cc = {}, {}
    for v in r:
        rc[v] = rc.get(v, 0) + 1
    for v in c:
        cc[v] = cc.get(v, 0) + 1
    n, m = len(r), len(c)
    psi = sum(psi_term(rc[k], cc.get(k, 0), n, m) for k in sorted(rc, key=lambda s: s.encode()))
    unseen = sum(v for k, v in cc.items() if k not in rc)
    psi += psi_term(0, unseen, n, m)
    return psi, unseen / m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("current")
    ap.add_argument("--columns", default="")
    ap.add_argument("--categorical", default="")
    args = ap.parse_args()

    with open(args.reference, newline="", encoding="utf-8") as f:
        rh, _ = header_and_rows(f)
    cols = [c for c in args.columns.split(",") if c] or rh
    forced = {c for c in args.categorical.split(",") if c}

    sample = sample_rows(args.reference)
    kinds = {}
    for col in cols:
        i = rh.index(col)
        numeric = col not in forced and all(
            as_number(row[i])[1] != "bad" for row in sample if len(row) == len(rh))
        kinds[col] = "numeric" if numeric else "categorical"

    def columns_of(path):
        with open(path, newline="", encoding="utf-8") as f:
            header, data = header_and_rows(f)
            idx = [(col, header.index(col), kinds[col] == "numeric") for col in cols]
            values = {col: [] for col in cols}
            rows = bad = 0
            for row in data:
                if len(row) != len(header):
                    bad += 1
                    continue
                parsed = []
                for col, i, numeric in idx:
                    cell = row[i]
                    if numeric:
                        v, status = as_number(cell)
                        if status == "bad":
                            break
                        parsed.append((col, v))
                    else:
                        parsed.append((col, cell if cell != "" else None))
                else:
                    rows += 1
                    for col, v in parsed:
                        if v is not None:
                            values[col].append(v)
                    continue
                bad += 1
        return values, rows, bad

    rv, rrows, rbad = columns_of(args.reference)
    cv, crows, cbad = columns_of(args.current)
    out = []
    for col in cols:
        r, c = rv[col], cv[col]
        res = {"column": col, "kind": kinds[col], "ks": None, "psi": None}
        if r and c:
            if kinds[col] == "numeric":
                r.sort()
                c.sort()
                res["ks"] = ks_stat(r, c)
                res["psi"] = numeric_psi(r, c)
            else:
                res["psi"], res["new_share"] = categorical(r, c)
        out.append(res)
    json.dump({"rows": {"reference": rrows, "current": crows},
               "bad_rows": {"reference": rbad, "current": cbad},
               "columns": out}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
