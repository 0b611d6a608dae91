#!/usr/bin/env bash
# Reader benchmark: Stakeout's FlowCsvReader against pandas read_csv on the same large CIC-layout file, in one run.
#
#   bench/reader/run.sh            # 3 rounds (Stakeout streaming, Stakeout keeping every batch, pandas), medians
#   RUNS=5 bench/reader/run.sh     # more rounds
#   LAYOUT=trafficlabelling bench/reader/run.sh   # the variant with Flow ID, IPs, ports and timestamps (LF endings)
#
# Builds bench/data/cic-large.csv (>= 500 MB, git-ignored) from the real rows in ../shared/data when it is missing,
# warms the page cache so both tools read from memory, and prints a table with MB/s, rows/s, peak RSS, the ratio to
# pandas and a projection to the full CIC-IDS2017 (1.1 GB, 2.8 M rows). Raw results go to bench/data/reader-*.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 LC_ALL=C.UTF-8

runs="${RUNS:-3}"
shared="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
case "${LAYOUT:-mlcve}" in
  mlcve)
    data="${STAKEOUT_BENCH_FILE:-$root/bench/data/cic-large.csv}"
    sources=("$shared/cicids2017/mlcve_friday-ddos_head9998.csv" "$shared/cicids2017/mlcve_head200.csv") ;;
  trafficlabelling)
    data="${STAKEOUT_BENCH_FILE:-$root/bench/data/cic-large-trafficlabelling.csv}"
    sources=("$shared/cicids2017/trafficlabelling_friday-ddos_head299.csv") ;;
  *) echo "reader bench: LAYOUT must be mlcve or trafficlabelling" >&2; exit 2 ;;
esac
# Debian's Python and pandas, whatever python3 comes first on PATH.
python=/usr/bin/python3

if ! "$python" -c 'import pandas' 2>/dev/null; then
  echo "reader bench: installing python3-pandas (Debian)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pandas >/dev/null
fi
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

dotnet build bench/Stakeout.Benchmarks -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
bench="$root/artifacts/bin/Stakeout.Benchmarks/release/Stakeout.Benchmarks"

if [ ! -f "$data" ]; then
  "$bench" generate-cic --out "$data" "${sources[@]}"
fi

results="$root/bench/data/reader-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cat "$data" >/dev/null

# One measured process: its own JSON line, plus wall, CPU and max RSS as /usr/bin/time sees them, plus the load.
measure() {
  local round="$1" label="$2"
  shift 2
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  /usr/bin/time -f '%e %U %S %M' -o "$scratch/time" "$@" >"$scratch/out"
  "$python" - "$scratch/out" "$scratch/time" "$round" "$label" "$load" >>"$results" <<'PY'
import json, sys
out, timing, round_, label, load = sys.argv[1:]
record = json.loads(open(out).read().strip().splitlines()[-1])
wall, user, system, max_kb = open(timing).read().split()[-4:]
record.update(round=int(round_), label=label, load1=float(load), process_wall=float(wall),
              cpu_seconds=float(user) + float(system), time_max_rss_bytes=int(max_kb) * 1024)
print(json.dumps(record))
PY
  echo "  round $round: $label done (load $load)" >&2
}

echo "reader bench: $runs rounds on $data" >&2
for round in $(seq 1 "$runs"); do
  measure "$round" "Stakeout (stream)" "$bench" read --quiet --mode stream "$data"
  measure "$round" "Stakeout (keep all)" "$bench" read --quiet --mode keep "$data"
  if [ "${LAYOUT:-mlcve}" = trafficlabelling ]; then
    measure "$round" "Stakeout (keep, no id)" "$bench" read --quiet --mode keep --no-identity "$data"
  fi
  measure "$round" "pandas read_csv" "$python" bench/reader/pandas_read.py "$data"
done

"$python" bench/reader/summarize.py "$results"
