#!/usr/bin/env bash
# The anomaly threshold's default, measured (issue #18, docs/beyond-training.md): for each share of held-out benign
# training flows allowed over the anomaly threshold at train time (--anomaly-fpr), the benign FPR on days never trained
# on and the attack recall, for the three splits of bench/compare/beyond.sh (b1, b2, all). An alert of either kind
# counts. Usage: bench/compare/anomaly-sweep.sh [FPR...]   (default 0.005 0.002 0.001)
# Output: bench/data/anomaly-sweep/table.md
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=unseen-days.sh
source "$root/bench/compare/unseen-days.sh"
out="$root/bench/data/anomaly-sweep"
mkdir -p "$out"
fprs=("$@"); [ ${#fprs[@]} -eq 0 ] && fprs=(0.005 0.002 0.001)
./stakeout --help >/dev/null
table="$out/table.md"
echo "sweep at $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/machine.txt"
echo "| --anomaly-fpr | run | benign FPR (any alert) | benign FPR (classifier alone) | attack recall (any alert) |" > "$table"
echo "|---|---|---|---|---|" >> "$table"
for fpr in "${fprs[@]}"; do
  for exp in b1 b2 all; do
    d="$out/$fpr-$exp"; rm -rf "$d"; mkdir -p "$d"
    read -r -a tr <<< "${train_of[$exp]}"
    ./stakeout train "${tr[@]}" --labels family --seed 1 --anomaly-fpr "$fpr" --output-dir "$d/train" --model-out "$d/model.stakeout" --save-split "$d/split" >/dev/null 2>&1
    if [ "$exp" = all ]; then
      split_test_rows "$d/split/test.csv" "$d"
      benign=("$d/benign.csv"); attack=("$d/attack.csv")
    else
      read -r -a benign <<< "${benign_of[$exp]}"
      read -r -a attack <<< "${attack_of[$exp]}"
    fi
    ./stakeout detect -m "$d/model.stakeout" "${benign[@]}" -o "$d/benign" --aggregate-window 0 --no-drift --explain-top 0 >/dev/null 2>&1
    ./stakeout detect -m "$d/model.stakeout" "${benign[@]}" -o "$d/benign-classifier" --aggregate-window 0 --no-drift --explain-top 0 --no-anomaly-alerts >/dev/null 2>&1
    if [ ${#attack[@]} -gt 0 ]; then
      ./stakeout detect -m "$d/model.stakeout" "${attack[@]}" -o "$d/attack" --aggregate-window 0 --no-drift --explain-top 0 >/dev/null 2>&1
    fi
    /usr/bin/python3 - "$d" "$fpr" "$exp" >> "$table" <<'PY'
import json, os, sys
d, fpr, exp = sys.argv[1:]
def rate(kind):
    p = f"{d}/{kind}/summary.json"
    if not os.path.exists(p):
        return "-"
    s = json.load(open(p))
    return f"{100 * s['alert_flows'] / s['flows_scored']:.2f}% ({s['alert_flows']} of {s['flows_scored']})"
print(f"| {fpr} | {exp} | {rate('benign')} | {rate('benign-classifier')} | {rate('attack')} |")
PY
    tail -1 "$table"
  done
done
