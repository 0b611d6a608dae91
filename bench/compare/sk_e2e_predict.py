#!/usr/bin/python3
"""The job `stakeout evaluate` does, as a pandas + scikit-learn user writes it: read_csv, RandomForest predict,
report. Prints the same figures as one JSON line.

  sk_e2e_predict.py --model rf.pkl bench/data/eval1m.csv
"""
import argparse
import pickle

import pandas as pd

import flows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    with open(a.model, "rb") as f:
        saved = pickle.load(f)
    df = pd.concat([pd.read_csv(p) for p in a.paths], ignore_index=True)
    x = flows.matrix(df, saved["features"])
    proba = saved["model"].predict_proba(x)
    y_pred, attack = flows.predict_like_stakeout(saved["model"].classes_, proba)
    flows.emit(flows.metrics(df["Label"].astype(str).to_numpy(), y_pred, attack))


if __name__ == "__main__":
    main()
