#!/usr/bin/env bash
# Stakeout end to end on the bundled CIC-IDS2017 sample, in one command:
#   read -> train and evaluate -> detect in files -> monitor a stream replayed over TCP (loopback only).
# Usage: ./demo.sh [OUTPUT_DIR]   (default demo-out/; everything the demo writes goes there)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
out="${1:-demo-out}"
flows=samples/flows

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

rm -rf "$out"
mkdir -p "$out/holdout"
# Held apart from training: the TrafficLabelling files, which carry real IPs, ports and timestamps, the original
# 15-class labels (DDoS, Web Attack - XSS / Sql Injection, BENIGN) and a capture day the model is not trained on.
cp "$flows/cicids2017-trafficlabelling-attacks.csv" "$flows/cicids2017-trafficlabelling-friday-benign.csv" "$out/holdout/"
model="$out/train/model.stakeout"

step "1/5 Read the sample: layouts, quirks, accounting, classes" \
  ./stakeout data inspect "$flows"

step "2/5 Train (LightGBM, family level, de-duplicated, stratified 70/30) and score the held-apart files" \
  ./stakeout train "$flows/cicids2017-families.csv" "$flows/cicids2017-mlcve-friday-benign.csv" \
    --labels family --seed 1 --output-dir "$out/train" --validation-dir "$out/holdout"

step "3/5 Evaluate the stored model on the held-apart files (every row scored)" \
  ./stakeout evaluate --model "$model" "$out/holdout" --output-dir "$out/evaluate"

step "4/5 Detect threats in the held-apart files: EVE alerts with explanations, real source IPs" \
  ./stakeout detect --model "$model" "$out/holdout" --output-dir "$out/detect"
echo "first alert of $out/detect/alerts.json:"
head -n 1 "$out/detect/alerts.json"

rows=$(( $(wc -l < "$out/holdout/cicids2017-trafficlabelling-attacks.csv") + $(wc -l < "$out/holdout/cicids2017-trafficlabelling-friday-benign.csv") - 2 ))
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '\n\033[1m== 5/5 Monitor a live stream: replay %s flows over tcp://127.0.0.1:%s into a running monitor\033[0m\n' "$rows" "$port"
echo "\$ ./stakeout monitor --model $model --source tcp://127.0.0.1:$port --max-flows $rows --duration 120 --quiet --output-dir $out/monitor &"
./stakeout monitor --model "$model" --source "tcp://127.0.0.1:$port" --max-flows "$rows" --duration 120 --quiet \
  --output-dir "$out/monitor" &
monitor=$!
trap 'kill "$monitor" 2>/dev/null || true' EXIT
echo "\$ ./stakeout replay $out/holdout --to tcp://127.0.0.1:$port --rate 2000"
for attempt in $(seq 1 60); do
  if ./stakeout replay "$out/holdout" --to "tcp://127.0.0.1:$port" --rate 2000 2>"$out/replay.err"; then break; fi
  [ "$attempt" = 60 ] && { cat "$out/replay.err" >&2; echo "demo: the monitor never started listening" >&2; exit 1; }
  sleep 0.5
done
wait "$monitor"
trap - EXIT

printf '\n\033[1mDone.\033[0m Everything is in %s/:\n' "$out"
echo "  train/     application.log, classification_report.log, validation_report.log, malicious_ips.log, model.stakeout"
echo "  evaluate/  the held-apart evaluation (text and JSON)"
echo "  detect/    alerts.json (EVE), malicious_ips.log, summary.json"
echo "  monitor/   the same for the replayed stream"
