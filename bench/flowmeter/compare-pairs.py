#!/usr/bin/env python3
"""Compare `stakeout flows` with CICFlowMeter-V4's own CSVs, the way a user's diff does.

For each pair (CAPTURE and CAPTURE_Flow.csv, or a CSV named in a `capture=csv` argument) it runs
`stakeout flows CAPTURE -o OUT --mode cicflowmeter --timezone ZONE`, then pairs rows **in file order by Flow ID**: the
k-th row with a given Flow ID in the reference pairs with the k-th row with that Flow ID in Stakeout's output. It reports

  - the flow counts of both files,
  - row order: rows whose Flow ID equals the reference's Flow ID at the same line, and rows in the same relative order
    (the longest run of paired rows that keeps the reference's order, so one row moved costs one, not every row after it),
  - values: of the paired rows, the share of cells (Timestamp and the 76 features, identity columns too) that are equal
    (numbers within 1e-6 relative; Infinity/NaN spelled the same).

Usage: bench/flowmeter/compare-pairs.py [--stakeout CMD] [--timezone ZONE] [--show N] PAIR...
  PAIR is a capture whose CSV is CAPTURE_Flow.csv beside it, or CAPTURE=CSV.
Exit status 0 only when every pair has the same count, the same order and 100 % equal values.
Only the standard library is used.
"""
import argparse
import csv
import math
import os
import shlex
import subprocess
import sys
import tempfile
from bisect import bisect_left
from collections import defaultdict

IDENTITY = 7  # Flow ID, Src IP, Src Port, Dst IP, Dst Port, Protocol, Timestamp


def read(path):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise SystemExit(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r and r != rows[0]]  # V4 can repeat its header where the dump starts
    return header, body


def same(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) and math.isnan(y):
        return True
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= 1e-6 * max(abs(x), abs(y))


def compare(capture, reference, stakeout, zone, show):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "flows.csv")
        cmd = shlex.split(stakeout) + ["flows", capture, "-o", out, "--mode", "cicflowmeter", "--timezone", zone]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout, run.stderr, file=sys.stderr)
            raise SystemExit(f"{capture}: stakeout flows failed ({run.returncode})")
        ours_header, ours = read(out)
    ref_header, ref = read(reference)
    if ref_header[:IDENTITY] != ours_header[:IDENTITY]:
        print(f"{os.path.basename(capture)}: reference is not a CICFlowMeter-V4 CSV (header {ref_header[:3]}...), skipped")
        return None

    columns = [c for c, name in enumerate(ref_header) if name != "Label" and name in ours_header]
    ours_col = {name: c for c, name in enumerate(ours_header)}
    order = sum(1 for a, b in zip(ref, ours) if a[0] == b[0])

    by_id = defaultdict(list)
    for row in ours:
        by_id[row[0]].append(row)
    position = {}
    seen = defaultdict(int)
    for i, row in enumerate(ours):
        position[(row[0], seen[row[0]])] = i
        seen[row[0]] += 1
    taken = defaultdict(int)
    paired = equal = cells = 0
    sequence = []
    unpaired = []
    diffs = defaultdict(int)
    examples = []
    for line, row in enumerate(ref, start=2):
        k = taken[row[0]]
        taken[row[0]] += 1
        if k >= len(by_id[row[0]]):
            unpaired.append(f"reference line {line}: {row[0]} (occurrence {k + 1}) has no row in Stakeout's output")
            continue
        mine = by_id[row[0]][k]
        sequence.append(position[(row[0], k)])
        paired += 1
        for c in columns:
            name = ref_header[c]
            cells += 1
            if same(row[c], mine[ours_col[name]]):
                equal += 1
            else:
                diffs[name] += 1
                if len(examples) < show:
                    examples.append(f"  line {line} {row[0]} {name}: V4 {row[c]!r} Stakeout {mine[ours_col[name]]!r}")
    tails = []  # longest increasing subsequence of our positions, in reference order
    for v in sequence:
        j = bisect_left(tails, v)
        tails[j:j + 1] = [v]
    in_order = len(tails)
    extra = sum(max(0, len(v) - taken[k]) for k, v in by_id.items())

    ok = len(ref) == len(ours) and order == len(ref) and cells > 0 and equal == cells and not unpaired
    print(f"{os.path.basename(capture)}: flows V4 {len(ref)} Stakeout {len(ours)}; row order {order}/{len(ref)} "
          f"({100.0 * order / max(1, len(ref)):.2f} %), in relative order {in_order}/{len(ref)}; paired {paired}; values equal {equal}/{cells} "
          f"({100.0 * equal / max(1, cells):.4f} %); extra Stakeout rows {extra} -> {'MATCH' if ok else 'DIFFERENT'}")
    for name, n in sorted(diffs.items(), key=lambda kv: -kv[1])[:show]:
        print(f"  {name}: {n} differ")
    for text in unpaired[:show]:
        print("  " + text)
    for text in examples:
        print(text)
    if show:
        for line, (a, b) in enumerate(zip(ref, ours), start=2):
            if a[0] != b[0]:
                print(f"  first order difference at line {line}: V4 {a[0]} Stakeout {b[0]}")
                break
    return ok


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stakeout", default=os.path.join(here, "..", "..", "stakeout"), help="the command to run (default: ./stakeout)")
    p.add_argument("--timezone", default="+05:30", help="zone the reference CSVs were written in (default +05:30)")
    p.add_argument("--show", type=int, default=5, help="differences to print per pair")
    p.add_argument("pairs", nargs="+")
    a = p.parse_args()
    results = []
    for pair in a.pairs:
        capture, _, reference = pair.partition("=")
        reference = reference or capture + "_Flow.csv"
        results.append(compare(capture, reference, a.stakeout, a.timezone, a.show))
    checked = [r for r in results if r is not None]
    print(f"{sum(checked)}/{len(checked)} pairs match (count, order, values)")
    return 0 if checked and all(checked) else 1


if __name__ == "__main__":
    sys.exit(main())
