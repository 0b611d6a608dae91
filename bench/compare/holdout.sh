#!/usr/bin/env bash
# Leave-one-family-out (issue #18): for every attack family with >= 30 distinct flows in the shared data, train the
# default model without it, set both thresholds on half of the benign test split (classifier --max-fpr 0.005, anomaly
# --anomaly-max-fpr 0.004), and measure on flows never trained on: the share of the family's distinct flows that raise
# an alert of any kind (an attack class, or the anomaly score), the share the classifier alone raises, and the benign
# FPR on the other half of the benign test split. Usage: bench/compare/holdout.sh [FAMILY...]   (default: all)
# Output: bench/data/holdout/<family>/..., and the table in bench/data/holdout/table.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here="$root/bench/compare"
py=/usr/bin/python3
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
shared="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
out="${STAKEOUT_HOLDOUT_OUT:-$root/bench/data/holdout}"
need=()
for pkg in python3-sklearn python3-pandas; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "$(basename "$0"): installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
mkdir -p "$out"
./stakeout --help >/dev/null
families=("$@")
if [ ${#families[@]} -eq 0 ]; then
  mapfile -t families < <("$py" "$here/holdout_split.py" families "$shared" | cut -d' ' -f1)
fi
echo "holdout.sh at $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), families: ${families[*]}" | tee "$out/machine.txt"
table="$out/table.md"
{
  echo "| held-out family | distinct flows | alerted (any kind) | by the classifier alone | as which classes | benign FPR (held-out half) | benign rows |"
  echo "|---|---|---|---|---|---|---|"
} > "$table"
for fam in "${families[@]}"; do
  d="$out/$fam"; rm -rf "$d"; mkdir -p "$d"
  echo "== without $fam" >&2
  "$py" "$here/holdout_split.py" split "$shared" "$fam" "$d"
  ./stakeout train "$d/train.csv" --labels family --seed 1 --output-dir "$d/logs" --model-out "$d/model.stakeout" --save-split "$d/split" >/dev/null 2>&1
  "$py" "$here/holdout_split.py" halves "$d/split/test.csv" "$d" --seed 1
  ./stakeout calibrate --model "$d/model.stakeout" "$d/benign-calibrate.csv" --max-fpr 0.005 --anomaly-max-fpr 0.004 --model-out "$d/calibrated.stakeout" > "$d/calibrate.txt"
  for what in heldout benign-test; do
    ./stakeout detect -m "$d/calibrated.stakeout" "$d/$what.csv" -o "$d/det-$what" --aggregate-window 0 --no-drift --explain-top 0 >/dev/null 2>&1
    ./stakeout detect -m "$d/calibrated.stakeout" "$d/$what.csv" -o "$d/det-$what-classifier" --aggregate-window 0 --no-drift --explain-top 0 --no-anomaly-alerts >/dev/null 2>&1
  done
  "$py" - "$d" "$fam" >> "$table" <<'PY'
import json, sys
d, fam = sys.argv[1], sys.argv[2]
s = lambda p: json.load(open(f"{d}/{p}/summary.json"))
h, hc, b = s("det-heldout"), s("det-heldout-classifier"), s("det-benign-test")
n = h["flows_scored"]
classes = ", ".join(f"{c['name']} {c['flows']}" for c in h["alerts_by_class"][:4])
print(f"| {fam} | {n} | **{h['alert_flows'] / n:.1%}** ({h['alert_flows']}) | {hc['alert_flows'] / n:.1%} | {classes} | {b['alert_flows'] / b['flows_scored']:.2%} ({b['alert_flows']}) | {b['flows_scored']} |")
PY
done
cat "$table"
