#!/usr/bin/python3
"""How far can any model get on a small class? For each test row of CLASS in a saved split, the classes of its K nearest
training rows (Euclidean distance on log1p of the absolute feature values, so that byte counts and durations weigh
alike), and the macro-F1 ceiling that follows if the rows whose neighbours are all of other classes are missed while
every other prediction is right.

  neighbours.py SPLIT_DIR [--class Infiltration] [--k 5] [--level family]

SPLIT_DIR holds train.csv and test.csv as written by `stakeout train --save-split`. The ceiling is an argument, not a
proof: a model may still place such a row correctly, but it has no training flow of its class nearby to learn it from.
"""
import argparse

import numpy as np

import flows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split")
    ap.add_argument("--class", dest="cls", default="Infiltration")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--level", default="family", choices=["class", "family", "binary"])
    a = ap.parse_args()

    from sklearn.neighbors import NearestNeighbors

    train = flows.read_flows([f"{a.split}/train.csv"])
    features = flows.feature_columns(train)
    test = flows.read_flows([f"{a.split}/test.csv"], features)
    y_train = flows.to_level(train["Label"], a.level)
    y_test = flows.to_level(test["Label"], a.level)
    scale = lambda df: np.log1p(np.abs(flows.matrix(df, features)))
    index = NearestNeighbors(n_neighbors=a.k).fit(scale(train))
    rows = np.flatnonzero(y_test == a.cls)
    if len(rows) == 0:
        raise SystemExit(f"no test row of class {a.cls!r}")
    distances, neighbours = index.kneighbors(scale(test)[rows])
    isolated = 0
    for row, dist, near in zip(rows, distances, neighbours):
        labels = [y_train[j] for j in near]
        alone = all(label != a.cls for label in labels)
        isolated += alone
        shown = ", ".join(f"{label} {d:.1f}" for label, d in zip(labels, dist))
        print(f"test row {row}: {shown}{'   <- no neighbour of its class' if alone else ''}")

    classes = sorted(set(y_test))
    recall = (len(rows) - isolated) / len(rows)
    f1 = 2 * recall / (1 + recall) if recall > 0 else 0.0
    ceiling = (len(classes) - 1 + f1) / len(classes)
    print(f"{a.cls}: {isolated} of {len(rows)} test rows have no training row of their class among their {a.k} nearest")
    print(f"ceiling with those missed and everything else right: {a.cls} F1 {f1:.4f}, macro-F1 over {len(classes)} classes {ceiling:.4f}")


if __name__ == "__main__":
    main()
