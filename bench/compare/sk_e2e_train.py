#!/usr/bin/python3
"""The job `stakeout train` does, as a pandas + scikit-learn user writes it: read the CSV, drop exact duplicates,
stratified 70/30 split, fit a RandomForest, print the classification report of the test split, save the model.

  sk_e2e_train.py --out rf.pkl bench/data/train200k.csv
"""
import argparse
import pickle

import pandas as pd
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

import flows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    df = pd.concat([pd.read_csv(p) for p in a.paths], ignore_index=True).drop_duplicates()
    features = flows.feature_columns(df)
    x, y = flows.matrix(df, features), df["Label"].astype(str).to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, stratify=y, random_state=a.seed)
    model = flows.make_model("rf", a.seed).fit(x_train, y_train)
    print(classification_report(y_test, model.predict(x_test), digits=4, zero_division=0))
    with open(a.out, "wb") as f:
        pickle.dump({"model": model, "features": features}, f)


if __name__ == "__main__":
    main()
