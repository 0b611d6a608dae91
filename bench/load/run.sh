#!/usr/bin/env bash
# Load and soak harness (issue 22; not a unit test): one `stakeout monitor` process on loopback, fed by SENDERS
# concurrent `stakeout replay --loop` processes of real CIC-IDS2017 rows, each at RATE rows/s for SECONDS seconds
# (bounded by --max-flows, so every sender stops by itself). Samples the monitor's resident memory and counters every
# second, then stops it with SIGTERM and checks exact accounting from its summary.json:
#   rows sent by all senders == flows_in == flows_scored + flows_rejected + flows_dropped
# and flat memory (RSS of the second half of the run against the first half). Prints a table row for docs/benchmarks.md.
# Usage: bench/load/run.sh [SENDERS=4] [RATE_PER_SENDER=10000] [SECONDS=60] [MONITOR_ARGS...]
# Output: bench/data/load-SENDERSxRATE-SECONDS/ (rss.csv, monitor.err, summary.json, senders' logs). Loopback only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
senders="${1:-4}"; rate="${2:-10000}"; seconds="${3:-60}"
shift $(( $# < 3 ? $# : 3 )) || true
data="${STAKEOUT_SHARED_DATA:-$root/../shared/data}/cicids2017/mlcve_friday-ddos_head9998.csv"
model="${STAKEOUT_MODEL:-$root/tests/Stakeout.Models.Tests/TestData/format-v1/families-lightgbm.stakeout}"
out="$root/bench/data/load-${senders}x${rate}-${seconds}"
rm -rf "$out"; mkdir -p "$out"
"$root/stakeout" --help >/dev/null   # builds once if a source changed, so the run pays for no build
cli=(dotnet "$root/artifacts/bin/Stakeout.Cli/release/stakeout.dll")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port); metrics=$(free_port)
per_sender=$(( rate * seconds ))
echo "load: $senders senders x $rate rows/s x $seconds s = $(( senders * per_sender )) rows of $(basename "$data") into one monitor"
echo "machine: $(nproc) cores, $(cut -d' ' -f1-3 /proc/loadavg)"
"${cli[@]}" monitor --model "$model" --source "tcp://127.0.0.1:$port" --metrics-port "$metrics" --quiet \
  --output-dir "$out/monitor" --duration $(( seconds * 3 + 120 )) "$@" 2> "$out/monitor.err" &
mon=$!
trap 'kill "$mon" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$metrics/metrics" >/dev/null 2>&1 && break
  kill -0 "$mon" 2>/dev/null || { echo "monitor exited:"; cat "$out/monitor.err"; exit 1; }
  sleep 0.1
done
metric() { curl -sf "http://127.0.0.1:$metrics/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
pids=()
start=$(date +%s.%N)
for s in $(seq "$senders"); do
  "${cli[@]}" replay "$data" --to "tcp://127.0.0.1:$port" --rate "$rate" --loop --max-flows "$per_sender" > "$out/sender-$s.out" 2>&1 &
  pids+=($!)
done
echo "second,rss_mb,flows_in,flows_scored" > "$out/rss.csv"
t=0
while :; do
  running=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  rss=$(awk '/VmRSS/ {print $2 / 1024}' "/proc/$mon/status")
  echo "$t,$rss,$(metric stakeout_flows_in_total),$(metric stakeout_flows_scored_total)" >> "$out/rss.csv"
  [ "$running" -eq 0 ] && break
  [ "$t" -gt $(( seconds * 3 + 60 )) ] && { echo "senders still running after $t s"; exit 1; }
  sleep 1; t=$((t + 1))
done
sent_wall=$(echo "$(date +%s.%N) - $start" | bc -l)
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
expected=$(( senders * per_sender ))
# Let the monitor take in what is still in its sockets, then stop it (it drains and writes summary.json).
for _ in $(seq 300); do
  [ "$(metric stakeout_flows_in_total)" = "$expected" ] && break
  sleep 0.1
done
kill -TERM "$mon"; wait "$mon" || true; trap - EXIT
cp "$out/monitor/summary.json" "$out/summary.json"
python3 - "$out" "$expected" "$senders" "$rate" "$seconds" "$sent_wall" "$failed" <<'PY'
import csv, json, statistics, sys
out, expected, senders, rate, seconds, wall, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
s = json.load(open(out + "/summary.json"))
fin, sc, rj, dr = s["flows_in"], s["flows_scored"], s["flows_rejected"], s["flows_dropped"]
rows = [r for r in csv.DictReader(open(out + "/rss.csv")) if r["rss_mb"]]
rss = [float(r["rss_mb"]) for r in rows]
half = len(rss) // 2
first, second = rss[1:half] or rss, rss[half:] or rss
ok = failed == 0 and fin == expected and fin == sc + rj + dr
growth = statistics.median(second) - statistics.median(first)
print(f"sent {expected:,} rows by {senders} senders in {wall:.1f} s = {expected / wall:,.0f} rows/s (target {senders * rate:,}/s)")
print(f"monitor: flows_in {fin:,} = scored {sc:,} + rejected {rj:,} + dropped {dr:,}; alerts {s.get('alerts_emitted', '?')}; senders failed {failed}")
print(f"rss MB: first sample {rss[0]:.0f}, median first half {statistics.median(first):.0f}, median second half {statistics.median(second):.0f}, max {max(rss):.0f} (growth {growth:+.0f} MB)")
print(f"| {senders} x {rate:,}/s x {seconds} s | {expected:,} | {expected / wall:,.0f}/s | {fin:,} = {sc:,} + {rj:,} + {dr:,} | {'exact' if ok else 'NOT EXACT'} | {statistics.median(first):.0f} -> {statistics.median(second):.0f} MB (max {max(rss):.0f}) |")
sys.exit(0 if ok else 1)
PY
