#!/usr/bin/env bash
# `stakeout flows` end to end, as a user runs it (`./stakeout flows`, a whole process: start-up, reading, decoding, flow
# table, features, CSV writing), beside nfpcapd (nfdump's C flow exporter) and `tcpdump -r FILE -w /dev/null` (libpcap's raw read) on the
# same capture, sides run back to back, ROUNDS times. Prints wall and CPU seconds and packets/s per run and the best.
# The capture is bench/data/flowmeter-large.pcap (git-ignored; built by bench/flowmeter/run.sh's generator: the shared
# captures repeated 400 times, 2,041,200 packets).
# Usage: bench/flowmeter/end-to-end.sh [ROUNDS=3] [STAKEOUT_ARGS...]    needs tcpdump and nfdump (Debian packages)
# BASELINE=path/to/an/older/stakeout.dll adds that build as a fourth side (e.g. one built from an earlier commit).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"
shift || true
data="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
file="$root/bench/data/flowmeter-large.pcap"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for tool in tcpdump nfpcapd; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install tcpdump nfdump)" >&2; exit 2; }
done
mkdir -p "$root/bench/data"
if [ ! -f "$file" ]; then
  dotnet build "$root/bench/Stakeout.FlowMeter.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly
  dotnet "$root/artifacts/bin/Stakeout.FlowMeter.Bench/release/Stakeout.FlowMeter.Bench.dll" make "$file" 400 \
    "$data"/cicflowmeter-pairs/*.pcap "$data"/pcap/*.pcap "$data"/pcap/*.pcapng
fi
"$root/stakeout" --help >/dev/null   # builds the CLI once (Release; ReadyToRun on linux-x64) if a source changed, so no run pays for a build
packets=$(tcpdump -Z root --count -r "$file" 2>/dev/null | awk '{print $1}')
packets=${packets:-2041200}
echo "capture: $file, $packets packets, $(stat -c %s "$file") bytes"
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"

declare -A best
run() { # name command...
  local name="$1"; shift
  local t
  t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  local wall cpu
  wall=$(echo "$t" | awk '{print $1}')
  cpu=$(echo "$t" | awk '{print $2 + $3}')
  printf '%-34s wall %6.2f s  cpu %6.2f s  %5.2f M packets/s (wall)  load %s\n' "$name" "$wall" "$cpu" \
    "$(echo "$packets / $wall / 1000000" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
  if [ -z "${best[$name]:-}" ] || [ "$(echo "$wall < ${best[$name]}" | bc -l)" = 1 ]; then best[$name]=$wall; fi
}
for r in $(seq "$rounds"); do
  echo "round $r"
  run "tcpdump -r FILE -w /dev/null" tcpdump -Z root -r "$file" -w /dev/null
  rm -rf "$out/nf"; mkdir -p "$out/nf"
  run "nfpcapd -r FILE -w DIR" nfpcapd -r "$file" -w "$out/nf"
  run "stakeout flows FILE -o CSV" "$root/stakeout" flows "$file" -o "$out/flows.csv" "$@"
  if [ -n "${BASELINE:-}" ]; then
    run "baseline flows FILE -o CSV" dotnet "$BASELINE" flows "$file" -o "$out/baseline.csv" ${BASELINE_ARGS:-}
  fi
done
echo "best of $rounds (wall):"
for name in "tcpdump -r FILE -w /dev/null" "nfpcapd -r FILE -w DIR" "stakeout flows FILE -o CSV" ${BASELINE:+"baseline flows FILE -o CSV"}; do
  printf '  %-34s %6.2f s  %5.2f M packets/s\n' "$name" "${best[$name]}" "$(echo "$packets / ${best[$name]} / 1000000" | bc -l)"
done
echo "stakeout wrote $(($(wc -l < "$out/flows.csv") - 1)) flows"
echo "machine after: $(uptime | sed 's/.*load/load/')"
