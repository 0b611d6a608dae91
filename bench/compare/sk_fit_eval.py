#!/usr/bin/python3
"""Fits a scikit-learn model on one set of flow CSVs and scores it on another, printing one JSON line.

  sk_fit_eval.py --model rf|hgb --train SPLIT/train.csv --test SPLIT/test.csv [--level family] [--seed 1]
  sk_fit_eval.py --model hgb --train SPLIT/train.csv --test heldout1.csv heldout2.csv --level family

The features are the training file's columns (a Stakeout --save-split file holds exactly the features Stakeout used);
test files may have more columns. Labels are compared at --level, with the detector's decision rule.
"""
import argparse
import json

import numpy as np

import flows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=["rf", "hgb"])
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="+", required=True)
    ap.add_argument("--level", default="family", choices=["class", "family", "binary"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--binary-out", help="also write the binary view (BENIGN vs ATTACK) of the same predictions here, as JSON")
    a = ap.parse_args()

    with flows.Timer() as read_train:
        train = flows.read_flows(a.train)
        features = flows.feature_columns(train)
        x_train, y_train = flows.matrix(train, features), flows.to_level(train["Label"], a.level)
    model = flows.make_model(a.model, a.seed)
    with flows.Timer() as fit:
        model.fit(x_train, y_train)
    with flows.Timer() as read_test:
        test = flows.read_flows(a.test, features)
        x_test, y_test = flows.matrix(test, features), flows.to_level(test["Label"], a.level)
    with flows.Timer() as predict:
        proba = model.predict_proba(x_test)
    y_pred, attack = flows.predict_like_stakeout(model.classes_, proba, a.threshold)
    result = {"model": a.model, "level": a.level, "train_rows": int(len(y_train)), "features": len(features),
              "fit_seconds": round(fit.seconds, 3), "read_seconds": round(read_train.seconds + read_test.seconds, 3),
              "predict_seconds": round(predict.seconds, 3)}
    result.update(flows.metrics(y_test, y_pred, attack, a.threshold))
    flows.emit(result)
    if a.binary_out:
        # The detector's rule makes a row an attack exactly when its attack score reaches the threshold.
        as_binary = lambda v: np.where(np.asarray(v, dtype=object) == flows.BENIGN, flows.BENIGN, "ATTACK").astype(object)
        binary = dict(result, level="binary")
        binary.update(flows.metrics(as_binary(y_test), as_binary(y_pred), attack, a.threshold))
        with open(a.binary_out, "w", encoding="utf-8") as f:
            json.dump(binary, f)


if __name__ == "__main__":
    main()
