#!/usr/bin/python3
"""Candidates for the anomaly model beside the classifier, measured on the same rows (docs/beyond-training.md).

  anomaly_candidates.py SHARED_DATA_DIR [--fpr 0.005] [--seed 1]

Reads every shared flow file (families sample + cicids2017), keeps the columns all files have, removes exact duplicates,
and splits the BENIGN rows 70/30 (seeded). Each candidate is fitted on the 70 % benign part only; its threshold is the
score that at most --fpr of the out-of-fold (5 folds) benign training scores reach, as `stakeout train` sets it. Printed:
per family, the share of its distinct flows at or above the threshold; the FPR on the 30 % benign rows never fitted on;
fit and score time. Candidates: HBOS (32 equal-width bins on sign(x)*log1p|x|, Stakeout's choice), Isolation Forest
(scikit-learn, 100 trees, on the same transform), and k-nearest-neighbour distance (k = 5, standardised transform).
"""
import argparse
import glob
import json
import os
import time

import numpy as np

import flows


def transform(x):
    return np.sign(x) * np.log1p(np.abs(x))


class Hbos:
    def __init__(self, bins=32, alpha=0.5):
        self.bins, self.alpha = bins, alpha

    def fit(self, t):
        n = len(t)
        lo, hi = t.min(0), t.max(0)
        const = (hi - lo) <= 1e-6
        self.width = np.where(const, 1.0 / self.bins, (hi - lo) * (1 + 1e-5) / self.bins)
        self.lower = np.where(const, lo - 0.5, lo)
        idx = np.clip(((t - self.lower) / self.width).astype(int), 0, self.bins - 1)
        den = n + self.alpha * self.bins
        self.table = np.empty((t.shape[1], self.bins))
        self.outside = np.empty(t.shape[1])
        for j in range(t.shape[1]):
            c = np.bincount(idx[:, j], minlength=self.bins)
            best = np.log((c.max() + self.alpha) / den)
            self.table[j] = best - np.log((c + self.alpha) / den)
            self.outside[j] = best - np.log(self.alpha / den)
        return self

    def score(self, t):
        d = (t - self.lower) / self.width
        inside = (d >= 0) & (d < self.bins)
        idx = np.clip(d.astype(int), 0, self.bins - 1)
        cols = np.arange(t.shape[1])
        s = np.where(inside, self.table[cols, idx], self.outside + np.log1p(np.where(d < 0, -d, d - self.bins)))
        return s.sum(1)


class IForest:
    def __init__(self, seed):
        from sklearn.ensemble import IsolationForest
        self.m = IsolationForest(n_estimators=100, random_state=seed, n_jobs=1)

    def fit(self, t):
        self.m.fit(t)
        return self

    def score(self, t):
        return -self.m.score_samples(t)


class Knn:
    def __init__(self, k=5):
        self.k = k

    def fit(self, t):
        from sklearn.neighbors import NearestNeighbors
        self.mu, self.sd = t.mean(0), t.std(0) + 1e-9
        self.nn = NearestNeighbors(n_neighbors=self.k).fit((t - self.mu) / self.sd)
        return self

    def score(self, t):
        d, _ = self.nn.kneighbors((t - self.mu) / self.sd)
        return d.mean(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shared")
    ap.add_argument("--fpr", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.shared, "cicids2017-families", "*.csv")) + glob.glob(os.path.join(a.shared, "cicids2017", "*.csv")))
    df = flows.read_flows(paths, common_only=True)
    feats = [c for c in flows.feature_columns(df) if c not in ("Destination Port", "Flow ID", "Source IP", "Source Port", "Destination IP", "Protocol", "Timestamp")]
    x = transform(flows.matrix(df, feats).astype(np.float64))
    y = flows.to_level(df["Label"], "family")
    key = np.concatenate([x, y.reshape(-1, 1)], axis=1)
    _, first = np.unique(key.astype(str), axis=0, return_index=True)
    first = np.sort(first)
    x, y = x[first], y[first]
    rng = np.random.default_rng(a.seed)
    benign = np.where(y == flows.BENIGN)[0]
    rng.shuffle(benign)
    cut = int(0.7 * len(benign))
    btrain, btest = benign[:cut], benign[cut:]
    out = {"rows": int(len(y)), "features": len(feats), "benign_train": int(len(btrain)), "benign_test": int(len(btest)), "fpr_target": a.fpr, "candidates": {}}
    makers = {"hbos": lambda: Hbos(), "iforest": lambda: IForest(a.seed), "knn5": lambda: Knn()}
    for name, make in makers.items():
        folds = np.arange(len(btrain)) % 5
        oof = np.empty(len(btrain))
        for f in range(5):
            m = make().fit(x[btrain[folds != f]])
            oof[folds == f] = m.score(x[btrain[folds == f]])
        srt = np.sort(oof)[::-1]
        allowed = int(np.floor(a.fpr * len(srt)))
        thr = np.nextafter(srt[allowed], np.inf) if allowed < len(srt) else srt[-1]
        t0 = time.perf_counter()
        m = make().fit(x[btrain])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = m.score(x)
        score_s = time.perf_counter() - t0
        fam = {}
        for f in sorted(set(y) - {flows.BENIGN}):
            sel = y == f
            fam[f] = {"flows": int(sel.sum()), "detected": round(float((s[sel] >= thr).mean()), 4)}
        out["candidates"][name] = {"threshold": float(thr), "benign_test_fpr": round(float((s[btest] >= thr).mean()), 4),
                                   "fit_seconds": round(fit_s, 3), "score_us_per_flow": round(score_s / len(s) * 1e6, 2), "families": fam}
    json.dump(out, __import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
