"""Shared helpers of the bench/compare scripts: read CIC flow CSVs the way Stakeout does, and score predictions the
way `stakeout evaluate` does, so a peer model and Stakeout are compared on the same rows with the same definitions.

Needs Debian's python3-pandas and python3-sklearn (run.sh installs them with apt when missing); run with /usr/bin/python3.
"""
import json
import re
import sys
import time

import numpy as np
import pandas as pd

BENIGN = "BENIGN"

# Label spellings -> family, compared after the same normalisation as Stakeout.Core.LabelTaxonomy.NormalizeKey
# (case folded; white space, '-', '_', the cp1252 en dash 0x96, its mis-encodings and the real en dash removed).
_FAMILY = {
    "benign": "BENIGN", "normal": "BENIGN",
    "doshulk": "DoS", "dosgoldeneye": "DoS", "dosslowloris": "DoS", "dosslowhttptest": "DoS", "dos": "DoS",
    "ddos": "DDoS", "portscan": "PortScan",
    "ftppatator": "BruteForce", "sshpatator": "BruteForce", "bruteforce": "BruteForce",
    "webattackbruteforce": "WebAttack", "webattackxss": "WebAttack", "webattacksqlinjection": "WebAttack", "webattack": "WebAttack",
    "bot": "Bot", "infiltration": "Infiltration", "heartbleed": "Heartbleed",
}
_STRIP = re.compile("[\\s\\-_\u0096\u2013\u2014\u00c2\u00e2\u0080\u0093\ufffd]")


def normalize_label(raw):
    return _STRIP.sub("", str(raw)).lower()


def to_level(labels, level):
    """Maps raw labels to 'family' or 'binary' (class level keeps the raw label, trimmed)."""
    if level == "class":
        return np.array([str(v).strip() for v in labels], dtype=object)
    fam = []
    for v in labels:
        key = normalize_label(v)
        if key not in _FAMILY:
            raise SystemExit(f"unknown label {v!r}: add it to flows._FAMILY")
        fam.append(_FAMILY[key])
    fam = np.array(fam, dtype=object)
    if level == "binary":
        return np.where(fam == BENIGN, BENIGN, "ATTACK").astype(object)
    return fam


def read_flows(paths, features=None, common_only=False):
    """Reads CSVs (any CIC layout) into one DataFrame with canonical column names and a 'Label' column.

    Header names are stripped (the original CIC files have leading spaces); pandas names the duplicate
    'Fwd Header Length' 'Fwd Header Length.1', which is Stakeout's canonical name for it. Non-finite values follow the
    contract's 'nan-zero-inf-max' mapping, as Stakeout's trainer applies it. With common_only, only the columns every
    file has are kept (the families sample has no Destination Port).
    """
    frames = []
    for p in paths:
        df = pd.read_csv(p, encoding="latin-1", low_memory=False)
        df.columns = [c.strip() for c in df.columns]
        frames.append(df)
    if common_only:
        common = [c for c in frames[0].columns if all(c in f.columns for f in frames)]
        frames = [f[common] for f in frames]
    df = pd.concat(frames, ignore_index=True, sort=False)
    if features is not None:
        missing = [f for f in features if f not in df.columns]
        if missing:
            raise SystemExit(f"{', '.join(paths)}: missing features {missing}")
    return df


def matrix(df, features):
    x = df[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    x = np.nan_to_num(x, nan=0.0, posinf=np.finfo(np.float32).max, neginf=-np.finfo(np.float32).max)
    return x.astype(np.float32)


def feature_columns(df):
    return [c for c in df.columns if c != "Label"]


def predict_like_stakeout(classes, proba, threshold=0.5):
    """The detector's rule: attack score = 1 - P(BENIGN); at or above the threshold, the most probable attack label."""
    classes = np.asarray(classes, dtype=object)
    if BENIGN not in classes:
        return classes[proba.argmax(1)], None
    b = int(np.where(classes == BENIGN)[0][0])
    attack = 1.0 - proba[:, b]
    masked = proba.copy()
    masked[:, b] = -1.0
    top_attack = classes[masked.argmax(1)] if len(classes) > 1 else np.full(len(proba), BENIGN, dtype=object)
    pred = np.where(attack >= threshold, top_attack, BENIGN)
    return pred.astype(object), attack


def metrics(y_true, y_pred, attack_score, threshold=0.5):
    """The figures `stakeout evaluate` reports, from scikit-learn's own functions."""
    from sklearn.metrics import accuracy_score, f1_score
    y_true = np.asarray(y_true, dtype=object)
    labels = sorted(set(y_true) | set(y_pred))
    out = {
        "rows": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
    }
    benign = y_true == BENIGN
    flagged = attack_score >= threshold if attack_score is not None else (np.asarray(y_pred) != BENIGN)
    out["benign_fpr"] = float(flagged[benign].mean()) if benign.any() else None
    out["attack_recall"] = float(flagged[~benign].mean()) if (~benign).any() else None
    return out


def make_model(name, seed):
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier
        return RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=seed)
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        return HistGradientBoostingClassifier(random_state=seed)
    raise SystemExit(f"unknown model {name!r} (rf or hgb)")


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def emit(result):
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
