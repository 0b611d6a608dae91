#!/usr/bin/python3
"""Data for leave-one-family-out runs (bench/compare/holdout.sh).

  holdout_split.py families SHARED_DATA_DIR                       families with >= 30 distinct flows, one per line
  holdout_split.py split SHARED_DATA_DIR FAMILY OUT_DIR            OUT_DIR/train.csv (every shared flow file, FAMILY's
                                                                   rows left out), OUT_DIR/heldout.csv (FAMILY's
                                                                   distinct flows)
  holdout_split.py halves TEST_CSV OUT_DIR [--seed 1]             the BENIGN rows of a saved test split in two seeded
                                                                   halves: OUT_DIR/benign-calibrate.csv, benign-test.csv

Labels are written at family level; the columns are those every shared file has (the families sample has no
Destination Port), so Stakeout reads them as it reads the originals.
"""
import glob
import os
import sys

import numpy as np

import flows


def shared_frame(shared):
    paths = sorted(glob.glob(os.path.join(shared, "cicids2017-families", "*.csv")) + glob.glob(os.path.join(shared, "cicids2017", "*.csv")))
    df = flows.read_flows(paths, common_only=True)
    df["Label"] = flows.to_level(df["Label"], "family")
    return df


def main():
    cmd = sys.argv[1]
    if cmd == "families":
        df = shared_frame(sys.argv[2]).drop_duplicates()
        counts = df["Label"].value_counts()
        for fam, n in counts.items():
            if fam != flows.BENIGN and n >= 30:
                print(fam, n)
    elif cmd == "split":
        shared, fam, out = sys.argv[2], sys.argv[3], sys.argv[4]
        os.makedirs(out, exist_ok=True)
        df = shared_frame(shared)
        df[df["Label"] != fam].to_csv(os.path.join(out, "train.csv"), index=False)
        df[df["Label"] == fam].drop_duplicates().to_csv(os.path.join(out, "heldout.csv"), index=False)
    elif cmd == "halves":
        test, out = sys.argv[2], sys.argv[3]
        seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        import pandas as pd
        df = pd.read_csv(test, low_memory=False)
        benign = df[df["Label"].astype(str).str.strip() == flows.BENIGN]
        idx = np.random.default_rng(seed).permutation(len(benign))
        half = len(idx) // 2
        benign.iloc[idx[:half]].to_csv(os.path.join(out, "benign-calibrate.csv"), index=False)
        benign.iloc[idx[half:]].to_csv(os.path.join(out, "benign-test.csv"), index=False)
    else:
        raise SystemExit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main()
