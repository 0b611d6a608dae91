#!/usr/bin/env bash
# Known-vulnerability audit of Stakeout's dependencies, with the policy of docs/security.md ("Supply chain"):
#   - fail (exit 1) on a high or critical advisory in any NuGet package (direct or transitive, every project of
#     Stakeout.slnx) or in the dashboard's npm package (tools/dashboard-web: ECharts, embedded in Stakeout.Dashboard and
#     so shipped to users);
#   - report, never fail, low and moderate advisories, and every advisory of the IPFS test node (tools/ipfs: used by
#     the ledger replication tests only, never shipped);
#   - tools/audit-allow.txt lists reviewed exceptions (GHSA id and reason), printed as "allowed".
# A source that cannot be reached is said so ("audit: ... unreachable: ...") and does not fail the audit by itself.
# Usage: tools/audit.sh [--from DIR]   DIR holds saved reports (nuget.json from `dotnet list package --vulnerable
# --include-transitive --format json`, dashboard-web.json and ipfs.json from `npm audit --json`) to judge instead of
# asking the sources, e.g. reports made on a machine that reaches them. The reports of a run are kept in artifacts/audit/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

from=""
if [ "${1:-}" = "--from" ]; then
  from="$(cd "${2:?audit: --from needs a directory}" && pwd)"
elif [ $# -gt 0 ]; then
  echo "usage: tools/audit.sh [--from DIR]" >&2
  exit 2
fi
reports="$root/artifacts/audit"
rm -rf "$reports"
mkdir -p "$reports"

if [ -z "$from" ]; then
  # NuGet's vulnerability data is a resource (VulnerabilityInfo) of each package source's service index. A source
  # without it (a package cache or mirror, say) makes `dotnet list package --vulnerable` report "no vulnerable
  # packages" for every project without having checked anything, so look before trusting that answer.
  dotnet nuget list source --format short >"$reports/nuget-sources.txt" 2>&1 || true
  python3 - "$reports/nuget-sources.txt" >"$reports/nuget-status.txt" <<'PY'
import json, sys, urllib.request
enabled = [l.split(None, 1)[1].strip() for l in open(sys.argv[1], encoding="utf-8") if l.startswith("E ")]
web = [u for u in enabled if u.startswith(("http://", "https://"))]
if not web:
    print(f"no enabled package source is a web feed ({len(enabled)} enabled)")
    sys.exit()
problems = []
for i, url in enumerate(web, 1):
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            types = [res.get("@type", "") for res in json.load(r).get("resources", [])]
    except Exception as e:  # noqa: BLE001 -- any failure means no data from this source
        problems.append(f"source {i} of {len(web)}: {type(e).__name__}: {e}".replace(url, "(its service index)"))
        continue
    if any(t.startswith("VulnerabilityInfo") for t in types):
        print("ok")
        sys.exit()
    problems.append(f"source {i} of {len(web)}: its service index lists no VulnerabilityInfo resource "
                    f"({len(types)} resources: {', '.join(sorted(set(types)))})")
print("; ".join(problems))
PY
  if [ "$(cat "$reports/nuget-status.txt")" = "ok" ]; then
    dotnet list Stakeout.slnx package --vulnerable --include-transitive --format json \
      >"$reports/nuget.json" 2>"$reports/nuget.err" || echo "dotnet list package exited $?" >"$reports/nuget-status.txt"
  fi
  # npm audit posts the lock file's packages to the registry's advisory endpoint; --package-lock-only reads the lock
  # file only, so node_modules need not be installed. It exits 1 both for findings and for errors: the JSON tells which.
  for dir in dashboard-web ipfs; do
    (cd "tools/$dir" && npm audit --omit=dev --package-lock-only --json) \
      >"$reports/$dir.json" 2>"$reports/$dir.err" || true
  done
else
  echo "ok" >"$reports/nuget-status.txt"
  for f in nuget.json dashboard-web.json ipfs.json; do
    if [ -f "$from/$f" ]; then cp "$from/$f" "$reports/$f"; else echo "not in $from" >"$reports/${f%.json}.missing"; fi
  done
  [ -f "$reports/nuget.json" ] || echo "nuget.json not in $from" >"$reports/nuget-status.txt"
fi

python3 - "$reports" "$root/tools/audit-allow.txt" <<'PY'
import json, os, re, sys
reports, allow_file = sys.argv[1], sys.argv[2]
SEVERITIES = ["critical", "high", "moderate", "low", "info"]
GATING = {"critical", "high"}
host = re.compile(r"https?://[^/\s\"']+")  # printed lines name no registry host, only the path asked for

def text(name):
    p = os.path.join(reports, name)
    return open(p, encoding="utf-8").read().strip() if os.path.exists(p) else ""

# The reviewed allow-list: "GHSA-xxxx-xxxx-xxxx  # reason"; comments and blank lines ignored; an id needs a reason.
allowed, errors = {}, []
if os.path.exists(allow_file):
    for n, line in enumerate(open(allow_file, encoding="utf-8"), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        m = re.fullmatch(r"(GHSA(?:-[0-9a-z]{4}){3})\s*#\s*(\S.*)", entry, re.IGNORECASE)
        if m:
            allowed["GHSA" + m.group(1)[4:].lower()] = m.group(2)
        else:
            errors.append(f"tools/audit-allow.txt line {n}: not 'GHSA-xxxx-xxxx-xxxx  # reason': {entry[:80]}")

def ghsa(url):
    m = re.search(r"GHSA(?:-[0-9a-z]{4}){3}", url or "", re.IGNORECASE)
    return "GHSA" + m.group(0)[4:].lower() if m else None

findings = []   # (source label, gating source?, package, severity, advisory id)
unreached = []
lines = []

# NuGet.
status = text("nuget-status.txt")
if status != "ok":
    unreached.append("NuGet")
    lines.append(f"audit: NuGet vulnerability data unreachable: {host.sub('', status)}; no NuGet package was checked")
else:
    try:
        data = json.loads(text("nuget.json"))
    except ValueError as e:
        data = None
        unreached.append("NuGet")
        lines.append(f"audit: NuGet vulnerability report unreadable: {e}; no NuGet package was checked")
    if data is not None:
        projects = data.get("projects", [])
        seen = set()
        for p in projects:
            for fw in p.get("frameworks", []):
                for kind in ("topLevelPackages", "transitivePackages"):
                    for pkg in fw.get(kind, []):
                        for v in pkg.get("vulnerabilities", []):
                            url = v.get("advisoryurl") or v.get("advisoryUrl") or ""
                            key = (pkg.get("id"), pkg.get("resolvedVersion"), url)
                            if key not in seen:
                                seen.add(key)
                                findings.append(("NuGet", True, f"{pkg.get('id')} {pkg.get('resolvedVersion')}",
                                                 str(v.get("severity", "unknown")).lower(), ghsa(url) or url))
        for problem in data.get("problems", []):
            lines.append(f"audit: NuGet problem: {host.sub('', str(problem.get('text', problem)))}")
        counts = {s: sum(1 for f in findings if f[0] == "NuGet" and f[3] == s) for s in SEVERITIES}
        lines.append(f"audit: NuGet ({len(projects)} projects, transitive included): "
                     + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES[:4]))

# npm.
for name, label, gating in (("dashboard-web", "npm tools/dashboard-web (shipped)", True),
                            ("ipfs", "npm tools/ipfs (test only, never fails)", False)):
    raw = text(f"{name}.json")
    try:
        report = json.loads(raw) if raw else {}
    except ValueError:
        report = {}
    if text(f"{name}.missing"):
        unreached.append(f"npm {name}")
        lines.append(f"audit: npm report not given: tools/{name}: {text(f'{name}.missing')}")
        continue
    if "auditReportVersion" not in report:
        unreached.append(f"npm {name}")
        why = report.get("message") or (report.get("error") or {}).get("summary") \
            or (text(f"{name}.err").splitlines() or ["no report"])[-1]
        lines.append(f"audit: npm advisory database unreachable: tools/{name}: {host.sub('', str(why))}")
        continue
    advisories = {}
    for pkg, vuln in report.get("vulnerabilities", {}).items():
        for via in vuln.get("via", []):
            if isinstance(via, dict):   # a string names the dependency the advisory came through
                key = ghsa(via.get("url")) or f"npm-{via.get('source')}"
                advisories[(key, via.get("name", pkg))] = str(via.get("severity", "unknown")).lower()
    for (key, pkg), sev in sorted(advisories.items()):
        findings.append((f"npm {name}", gating, pkg, sev, key))
    counts = {s: sum(1 for sev in advisories.values() if sev == s) for s in SEVERITIES}
    deps = report.get("metadata", {}).get("dependencies", {})
    total = deps.get("total", deps.get("prod", "?")) if isinstance(deps, dict) else deps
    lines.append(f"audit: {label}: {total} packages, advisories: "
                 + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES[:4]))

violations, reported = 0, 0
for source, gating, pkg, sev, key in findings:
    if key in allowed:
        verdict = f"allowed ({allowed[key]})"
    elif gating and sev in GATING:
        verdict = "POLICY VIOLATION"
        violations += 1
    elif sev in GATING:     # the test-only IPFS node: named, never a failure; the first few only
        reported += 1
        if reported > 5:
            continue
        verdict = "reported, test only"
    else:
        continue            # low and moderate: counted above; the full reports are in artifacts/audit/
    lines.append(f"audit: {verdict}: {source}: {pkg}: {sev} {key}")
if reported > 5:
    lines.append(f"audit: reported, test only: {reported - 5} more high or critical advisories (artifacts/audit/ipfs.json)")
for e in errors:
    lines.append(f"audit: POLICY VIOLATION: {e}")
violations += len(errors)

reached = 3 - len(unreached)
if violations:
    lines.append(f"audit: FAILED: {violations} policy violation(s) (docs/security.md, 'Supply chain'; reports in artifacts/audit/)")
elif reached == 0:
    lines.append(f"audit: nothing checked: no advisory source reached ({', '.join(unreached)}); not a failure by itself")
else:
    note = f"; not reached: {', '.join(unreached)} (not a failure by itself)" if unreached else ""
    lines.append(f"audit: passed: no high or critical advisory in a NuGet or shipped npm package among the "
                 f"{reached} of 3 sources reached{note}")
print("\n".join(lines))
sys.exit(1 if violations else 0)
PY
