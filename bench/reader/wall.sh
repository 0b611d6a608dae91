#!/usr/bin/env bash
# Wall time as a user waits for it (issue 23, finding 5): the whole `stakeout data inspect FILE --json` process (start-up,
# reading, accounting, duplicate check, per-feature statistics, JSON output) against the whole pandas process
# (`bench/reader/pandas_read.py`: import, read_csv, nothing else), on the same large CIC-IDS2017 CSV, back to back.
#
#   bench/reader/wall.sh              # 5 rounds, alternating the two sides; prints each run with the 1-min load, then medians
#   RUNS=9 bench/reader/wall.sh       # more rounds
#   STAKEOUT_BENCH_FILE=big.csv bench/reader/wall.sh
#
# The file is bench/data/cic-large.csv (built from the real rows in ../shared/data by `Stakeout.Benchmarks generate-cic`,
# as bench/reader/run.sh does, when missing; MIN_MB=404 by default, the size of the issue's file). The page cache is warmed
# first so both sides read from memory. Raw results: bench/data/wall-*.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 LC_ALL=C.UTF-8
runs="${RUNS:-5}"
shared="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
data="${STAKEOUT_BENCH_FILE:-$root/bench/data/cic-large-404mb.csv}"
python=/usr/bin/python3

if ! "$python" -c 'import pandas' 2>/dev/null; then
  echo "wall bench: installing python3-pandas (Debian)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pandas >/dev/null
fi
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

"$root/stakeout" --version >/dev/null   # builds the CLI as ./stakeout runs it (ReadyToRun on linux-x64), once, before any timing
if [ ! -f "$data" ]; then
  dotnet build bench/Stakeout.Benchmarks -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
  mkdir -p "$(dirname "$data")"
  "$root/artifacts/bin/Stakeout.Benchmarks/release/Stakeout.Benchmarks" generate-cic --out "$data" --min-mb "${MIN_MB:-404}" \
    "$shared/cicids2017/mlcve_friday-ddos_head9998.csv" "$shared/cicids2017/mlcve_head200.csv"
fi

mkdir -p bench/data
results="$root/bench/data/wall-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cat "$data" >/dev/null
bytes=$(stat -c %s "$data")

# One whole process: wall, user+sys CPU and max RSS from /usr/bin/time, with the 1-minute load before it.
measure() {
  local round="$1" label="$2"
  shift 2
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  /usr/bin/time -f '%e %U %S %M' -o "$scratch/time" "$@" >"$scratch/out" 2>"$scratch/err" || { cat "$scratch/err" >&2; exit 1; }
  read -r wall user sys rss < <(tail -1 "$scratch/time")
  printf '{"round":%d,"label":"%s","wall":%s,"cpu":%s,"max_rss_kb":%s,"load1":%s,"bytes":%s}\n' \
    "$round" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$load" "$bytes" >>"$results"
  printf '  round %d  %-28s wall %6.2f s  cpu %6.2f s  (load %s)\n' "$round" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$load" >&2
}

echo "wall bench: $runs rounds on $data ($bytes bytes); $(uptime)" >&2
for round in $(seq 1 "$runs"); do
  # Alternate which side goes first, so a load change favours neither.
  if [ $((round % 2)) -eq 1 ]; then
    measure "$round" "stakeout data inspect" "$root/stakeout" data inspect "$data" --json
    measure "$round" "pandas read_csv (process)" "$python" bench/reader/pandas_read.py "$data"
  else
    measure "$round" "pandas read_csv (process)" "$python" bench/reader/pandas_read.py "$data"
    measure "$round" "stakeout data inspect" "$root/stakeout" data inspect "$data" --json
  fi
done

"$python" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["label"], []).append(r)
s, p = by["stakeout data inspect"], by["pandas read_csv (process)"]
ms, mp = statistics.median(r["wall"] for r in s), statistics.median(r["wall"] for r in p)
per_round = sorted(pr["wall"] / sr["wall"] for sr, pr in zip(sorted(s, key=lambda r: r["round"]), sorted(p, key=lambda r: r["round"])))
loads = [r["load1"] for r in rows]
print(f"file {rows[0]['bytes'] / 1e6:.0f} MB, {len(s)} rounds, 1-min load {min(loads):.1f}-{max(loads):.1f}")
print(f"{'':28} {'wall (median)':>14} {'cpu (median)':>13} {'max RSS':>9}")
for label, rs in (("stakeout data inspect", s), ("pandas read_csv (process)", p)):
    print(f"{label:28} {statistics.median(r['wall'] for r in rs):12.2f} s {statistics.median(r['cpu'] for r in rs):11.2f} s {statistics.median(r['max_rss_kb'] for r in rs) / 1024:7.0f} MB")
print(f"wall ratio pandas / stakeout: {mp / ms:.2f}x (medians); per round {min(per_round):.2f}x-{max(per_round):.2f}x")
PY
echo "raw: $results" >&2
