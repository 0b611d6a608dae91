#!/usr/bin/python3
"""Generates large flow tables from the shared CIC-IDS2017 extracts for the end-to-end and scale benchmarks.

  gen_data.py --rows 200000 --noise 0.01 --seed 1 --out ../data/train200k.csv SHARED_DATA_DIRS...

Every shared row is repeated (in random order) until --rows rows are written, each value multiplied by
(1 + u), u uniform in [-noise, noise]. Columns: the 77 canonical features all shared files have (the families sample
has no Destination Port) and Label at family level. Non-finite values are mapped first (NaN -> 0, inf -> float max)
and huge values are not jittered, so every value stays finite. Written in chunks: memory stays flat at any size.
"""
import argparse
import glob
import os

import numpy as np

import flows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()

    files = []
    for p in a.paths:
        files += sorted(glob.glob(os.path.join(p, "**", "*.csv"), recursive=True)) if os.path.isdir(p) else [p]
    df = flows.read_flows(files, common_only=True)
    features = [c for c in flows.feature_columns(df) if c != "Destination Port"]
    base = flows.matrix(df, features).astype(np.float64)
    labels = flows.to_level(df["Label"], "family")
    rng = np.random.default_rng(a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(features + ["Label"]) + "\n")
        written = 0
        while written < a.rows:
            n = min(a.chunk, a.rows - written)
            idx = rng.integers(0, len(base), n)
            x = base[idx]
            jitter = 1.0 + rng.uniform(-a.noise, a.noise, x.shape)
            x = np.where(np.abs(x) < 1e30, x * jitter, x)
            lines = np.char.add(
                np.array([",".join(r) for r in np.char.mod("%.7g", x)], dtype=object).astype(str), ","
            )
            lab = labels[idx].astype(str)
            f.write("\n".join(np.char.add(lines, lab)) + "\n")
            written += n
    os.replace(tmp, a.out)
    print(f"{a.out}: {a.rows} rows, {len(features)} features, from {len(base)} shared rows in {len(files)} files")


if __name__ == "__main__":
    main()
