#!/usr/bin/python3
"""Prints the side-by-side tables of run.sh from the JSON files it wrote.

  summarize.py OUT_DIR
"""
import json
import os
import sys


def load(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    return json.loads(text) if text else None


def seconds(path):
    """Wall seconds and peak RSS (MB) from a `/usr/bin/time -f '%e %M'` file."""
    if not os.path.exists(path):
        return None, None
    parts = open(path, encoding="utf-8").read().split()
    return float(parts[-2]), int(parts[-1]) / 1024


def fitted_seconds(log_dir):
    """The fit time Stakeout's training log reports ('fitted in N s'), or None."""
    path = os.path.join(log_dir, "application.log")
    if not os.path.exists(path):
        return None
    import re
    found = re.findall(r"fitted in ([0-9.]+) s", open(path, encoding="utf-8").read())
    return float(found[-1]) if found else None


def fmt(v, spec=".4f"):
    return "n/a" if v is None else format(v, spec)


def table(title, rows):
    print(f"\n{title}")
    head = (f"{'model':<34} {'level':<7} {'rows':>8} {'macro-F1':>9} {'weighted-F1':>11} {'BENIGN FPR':>10} {'attack rec.':>11} "
            f"{'fit s':>7} {'cmd s':>7}")
    print(head)
    print("-" * len(head))
    for name, m, fit_s, wall_s in rows:
        if m is None:
            print(f"{name:<34} (no result)")
            continue
        print(f"{name:<34} {str(m.get('level')):<7} {m.get('rows', 0):>8} {fmt(m.get('macro_f1')):>9} {fmt(m.get('weighted_f1')):>11} "
              f"{fmt(m.get('benign_fpr')):>10} {fmt(m.get('attack_recall')):>11} {fmt(fit_s, '.2f'):>7} {fmt(wall_s, '.2f'):>7}")


def main():
    out = sys.argv[1]
    a = os.path.join(out, "a")
    if os.path.isdir(a):
        st_wall, _ = seconds(os.path.join(a, "stakeout.time"))
        lr_wall, _ = seconds(os.path.join(a, "logreg.time"))
        rf, hgb = load(os.path.join(a, "rf.json")), load(os.path.join(a, "hgb.json"))
        st_fit = fitted_seconds(os.path.join(a, "stakeout"))
        table("(a) families sample, dedup + stratified 70/30 split, same test rows for every model "
              "(fit s: model fitting only; cmd s: the whole `stakeout train` command, read to report)", [
                  ("Stakeout lightgbm (default)", load(os.path.join(a, "stakeout-eval.json")), st_fit, st_wall),
                  ("scikit-learn RandomForest", rf, rf and rf["fit_seconds"], None),
                  ("scikit-learn HistGradientBoosting", hgb, hgb and hgb["fit_seconds"], None),
                  ("Stakeout seed-logreg (binary)", load(os.path.join(a, "logreg-eval.json")), fitted_seconds(os.path.join(a, "logreg")), lr_wall),
              ])
        if st_fit and rf:
            print(f"RandomForest fit / Stakeout fit: {rf['fit_seconds'] / st_fit:.2f}x (target >= 3x)")
        if st_wall and rf:
            print(f"RandomForest fit / whole Stakeout train command: {rf['fit_seconds'] / st_wall:.2f}x")
    b = os.path.join(out, "b")
    for exp in sorted(os.listdir(b)) if os.path.isdir(b) else []:
        d = os.path.join(b, exp)
        about = open(os.path.join(d, "about.txt"), encoding="utf-8").read().strip() if os.path.exists(os.path.join(d, "about.txt")) else exp
        rf, hgb = load(os.path.join(d, "rf.json")), load(os.path.join(d, "hgb.json"))
        table(f"(b) held-apart files, {exp}: {about}", [
            ("Stakeout lightgbm (default)", load(os.path.join(d, "stakeout-eval.json")), fitted_seconds(os.path.join(d, "stakeout")),
             seconds(os.path.join(d, "stakeout.time"))[0]),
            ("scikit-learn RandomForest", rf, rf and rf["fit_seconds"], None),
            ("scikit-learn HistGradientBoosting", hgb, hgb and hgb["fit_seconds"], None),
            ("Stakeout lightgbm, binary view", load(os.path.join(d, "stakeout-eval-binary.json")), None, None),
            ("scikit-learn RandomForest, binary view", load(os.path.join(d, "rf-binary.json")), None, None),
            ("scikit-learn HGB, binary view", load(os.path.join(d, "hgb-binary.json")), None, None),
        ])
    c = os.path.join(out, "c")
    if os.path.isdir(c):
        print("\n(c) end to end, as a user runs it (wall time of the whole command, peak RSS)")
        pairs = [("train 200k rows", "stakeout-train", "sklearn-train", 3), ("evaluate 1M rows", "stakeout-eval", "sklearn-eval", 5)]
        for name, st, sk, target in pairs:
            s_wall, s_rss = seconds(os.path.join(c, st + ".time"))
            k_wall, k_rss = seconds(os.path.join(c, sk + ".time"))
            if s_wall is None or k_wall is None:
                print(f"  {name}: (no result)")
                continue
            print(f"  {name:<18} Stakeout {s_wall:8.2f} s {s_rss:7.0f} MB | pandas+sklearn RF {k_wall:8.2f} s {k_rss:7.0f} MB | "
                  f"speed-up {k_wall / s_wall:5.2f}x (target >= {target}x)")
        se, ke = load(os.path.join(c, "stakeout-eval.json")), load(os.path.join(c, "sklearn-eval.json"))
        if se and ke:
            print(f"  evaluate figures: Stakeout macro-F1 {fmt(se['macro_f1'])} FPR {fmt(se['benign_fpr'])} | RF macro-F1 {fmt(ke['macro_f1'])} FPR {fmt(ke['benign_fpr'])} "
                  f"(rows {se['rows']} / {ke['rows']})")


if __name__ == "__main__":
    main()
