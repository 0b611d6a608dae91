#!/usr/bin/env bash
# Flow meter throughput beside libpcap's raw read rate, on the same file in the same run.
# Builds bench/data/flowmeter-large.pcap (git-ignored) by repeating the shared captures with shifted timestamps and
# addresses, then times `tcpdump -r FILE -w /dev/null` and Stakeout's meter (all 78 features per flow), best of N runs.
# Usage: bench/flowmeter/run.sh [REPEATS=400] [RUNS=3]     needs tcpdump (Debian package tcpdump)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
repeats="${1:-400}"
runs="${2:-3}"
data="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
file="$root/bench/data/flowmeter-large.pcap"
mkdir -p "$root/bench/data"
dotnet build "$root/bench/Stakeout.FlowMeter.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly
bench="dotnet $root/artifacts/bin/Stakeout.FlowMeter.Bench/release/Stakeout.FlowMeter.Bench.dll"
if [ ! -f "$file" ]; then
  $bench make "$file" "$repeats" "$data"/cicflowmeter-pairs/*.pcap "$data"/pcap/*.pcap "$data"/pcap/*.pcapng
fi
ls -l "$file"
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
# tcpdump: wall and CPU (user + sys) seconds per run; the machine is shared, so CPU time is the fairer figure.
for i in $(seq "$runs"); do
  s=$(date +%s.%N)
  cpu=$( { TIMEFORMAT='%U %S'; time tcpdump -Z root -r "$file" -w /dev/null 2>/dev/null; } 2>&1 )
  e=$(date +%s.%N)
  echo "tcpdump -r FILE -w /dev/null run $i: wall $(echo "$e - $s" | bc -l | cut -c1-6) s, cpu $(echo "$cpu" | awk '{print $1 + $2}') s"
done
$bench run "$file" cicflowmeter "$runs"
$bench run "$file" corrected "$runs"
echo "machine after: $(uptime | sed 's/.*load/load/')"
