#!/usr/bin/env bash
# Unseen benign days (issue #18, docs/beyond-training.md), in one run: train on some shared files, test on benign files
# of a day never trained on, for the default model before this change (`--no-anomaly`: the classifier alone, as format
# 1 did), after it (the classifier and the anomaly score, an alert of either kind counts), and scikit-learn
# RandomForest and HistGradientBoosting fitted on exactly Stakeout's training rows (--save-split train.csv).
# The splits b1, b2 and all are defined in bench/compare/unseen-days.sh (shared with anomaly-sweep.sh).
# Usage: bench/compare/beyond.sh   Output: bench/data/beyond/, table in bench/data/beyond/table.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here="$root/bench/compare"
py=/usr/bin/python3
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# shellcheck source=unseen-days.sh
source "$here/unseen-days.sh"
out="${STAKEOUT_BEYOND_OUT:-$root/bench/data/beyond}"
need=()
for pkg in python3-sklearn python3-pandas; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "$(basename "$0"): installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
mkdir -p "$out"
./stakeout --help >/dev/null
echo "beyond.sh at $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine.txt"
table="$out/table.md"
echo "| run | model | benign rows | benign FPR | attack rows | attack recall |" > "$table"
echo "|---|---|---|---|---|---|" >> "$table"
for exp in b1 b2 all; do
  d="$out/$exp"; rm -rf "$d"; mkdir -p "$d"
  echo "== $exp" >&2
  read -r -a tr <<< "${train_of[$exp]}"
  ./stakeout train "${tr[@]}" --labels family --seed 1 --output-dir "$d/after" --model-out "$d/after.stakeout" --save-split "$d/split" >/dev/null 2>&1
  ./stakeout train "${tr[@]}" --labels family --seed 1 --output-dir "$d/before" --model-out "$d/before.stakeout" --no-anomaly >/dev/null 2>&1
  if [ "$exp" = all ]; then
    # The held-out test split: its benign and attack rows, written by --save-split.
    split_test_rows "$d/split/test.csv" "$d"
    benign=("$d/benign.csv"); attack=("$d/attack.csv")
  else
    read -r -a benign <<< "${benign_of[$exp]}"
    read -r -a attack <<< "${attack_of[$exp]}"
  fi
  for m in before after; do
    for kind in benign attack; do
      declare -n files="$kind"
      [ ${#files[@]} -eq 0 ] && continue
      ./stakeout detect -m "$d/$m.stakeout" "${files[@]}" -o "$d/det-$m-$kind" --aggregate-window 0 --no-drift --explain-top 0 >/dev/null 2>&1
    done
    "$py" - "$d" "$m" "$exp" >> "$table" <<'PY'
import json, os, sys
d, m, exp = sys.argv[1:]
def get(kind):
    p = f"{d}/det-{m}-{kind}/summary.json"
    if not os.path.exists(p):
        return None, None
    s = json.load(open(p))
    return s["flows_scored"], s["alert_flows"]
bn, bf = get("benign"); an, ad = get("attack")
label = {"before": "Stakeout default before (classifier alone)", "after": "Stakeout default after (classifier + anomaly)"}[m]
fmt = lambda k, n: f"{k / n:.2%} ({k})" if n else "-"
print(f"| {exp} | {label} | {bn or '-'} | {fmt(bf, bn) if bn else '-'} | {an or '-'} | {fmt(ad, an) if an else '-'} |")
PY
  done
  for m in rf hgb; do
    tests=("${benign[@]}" "${attack[@]}")
    "$py" "$here/sk_fit_eval.py" --model "$m" --train "$d/split/train.csv" --test "${tests[@]}" --level family --seed 1 --binary-out "$d/$m-binary.json" > "$d/$m.json"
    "$py" - "$d/$m-binary.json" "$m" "$exp" >> "$table" <<'PY'
import json, sys
r, m, exp = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
name = {"rf": "scikit-learn RandomForest", "hgb": "scikit-learn HistGradientBoosting"}[m]
f = lambda v: "-" if v is None else f"{v:.2%}"
print(f"| {exp} | {name} (same training rows) | | {f(r['benign_fpr'])} | | {f(r['attack_recall'])} |")
PY
  done
done
cat "$table"
