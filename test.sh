#!/usr/bin/env bash
# Runs every Stakeout test on a fresh machine: installs what the tests need, builds, tests, prints one summary line.
# Integration tests read ../shared/data (beside the clone); they skip with a visible reason when it is absent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

# System packages the tests need (idempotent: installs only what is missing).
need=()
for pkg in ca-certificates bsdutils libpcap-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Dashboard: npm fetches the charting library at build time (tools/dashboard-web); the browser tests drive Debian's
# Chromium through Playwright, which must never download a browser of its own.
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
# Stakeout.Cluster tests start real NATS JetStream servers (Debian package nats-server).
dpkg -s nats-server >/dev/null 2>&1 || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# IPFS test nodes for the ledger's replication tests: js-ipfs (same RPC API as Kubo) from tools/ipfs, installed
# offline-capable with npm ci when node_modules is missing. Needs Node.js 20+ and npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test.sh: installing nodejs npm" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f tools/ipfs/node_modules/ipfs/src/cli.js ]; then
  echo "test.sh: installing the IPFS test node (npm ci in tools/ipfs)" >&2
  (cd tools/ipfs && npm ci --no-audit --no-fund >/dev/null)
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Reports (Stakeout.Reports): plot text is drawn in DejaVu Sans, which SkiaSharp's fontconfig-free build finds on disk.
if ! dpkg -s fonts-dejavu-core >/dev/null 2>&1; then
  echo "test.sh: installing fonts-dejavu-core (report plots)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
fi

export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" TZ=UTC LC_ALL=C.UTF-8 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="$root/artifacts/test-results"
rm -rf "$results"

dotnet build Stakeout.slnx -c Release --nologo -v quiet -clp:ErrorsOnly
status=0
# Known vulnerabilities in the NuGet and npm dependencies (policy in docs/security.md, "Supply chain"): a high or
# critical advisory in a NuGet or shipped npm package fails the run; a source that cannot be reached is named, no failure.
bash tools/audit.sh || status=$?
# CycloneDX SBOMs of the CLI and the dashboard's npm package in artifacts/sbom/ (about 15 s).
bash tools/sbom.sh || status=$?
dotnet test Stakeout.slnx -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

# Bounded, seeded fuzzing of every parser that reads hostile bytes (docs/security.md), seeded from ../shared/data.
# Longer runs on demand: dotnet run -c Release --project bench/Stakeout.Fuzz -- --inputs 1000000 --target csv
if [ -d "$root/../shared/data" ]; then
  dotnet "$root/artifacts/bin/Stakeout.Fuzz/release/Stakeout.Fuzz.dll" --inputs "${STAKEOUT_FUZZ_INPUTS:-3000}" \
    --seed "${STAKEOUT_FUZZ_SEED:-1}" 2>/dev/null || status=$?
else
  echo "fuzz: skipped, ../shared/data (the seed corpus) is not beside this clone"
fi

# Closing lines over every test project, read from the TRX files: each failed test with the head of its message and
# each skipped test with its reason (so a log cut to its tail still names them), then one summary line. Counted from
# the results themselves: the TRX counters leave skipped tests out of every field but the total.
python3 - "$results" <<'PY' || true
import glob, sys
import xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
counts = {"Passed": 0, "Failed": 0, "NotExecuted": 0}
failed, skipped = [], []
for f in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(f).getroot().iterfind("t:Results/t:UnitTestResult", ns):
        outcome = r.get("outcome", "")
        counts[outcome] = counts.get(outcome, 0) + 1
        msg = r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns).strip()
        if outcome == "Failed":
            failed.append((r.get("testName", "?"), r.get("duration", "?"), msg))
        elif outcome == "NotExecuted":
            skipped.append((r.get("testName", "?"), msg))
for name, reason in skipped:
    print(f"SKIPPED {name}: {reason.splitlines()[0][:300] if reason else '(no reason given)'}")
for name, duration, msg in failed:
    print(f"FAILED {name} [{duration}]")
    for line in msg.splitlines()[:12]:
        print(f"    {line[:300]}")
other = sum(v for k, v in counts.items() if k not in ("Passed", "Failed", "NotExecuted"))
tail = f", {other} with another outcome" if other else ""
print(f"Tests: {counts['Passed']} passed, {counts['Failed']} failed, {counts['NotExecuted']} skipped{tail}")
PY
exit $status
