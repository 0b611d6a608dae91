#!/usr/bin/env bash
# CycloneDX software bills of materials for what Stakeout ships, written to artifacts/sbom/ (git-ignored):
#   stakeout-cli.cdx.json   the CLI (src/Stakeout.Cli, assembly `stakeout`, package id Stakeout): the 13 Stakeout
#                           libraries it references and every NuGet package of that graph, transitive included, with
#                           hashes; made by the .NET tool CycloneDX, version pinned in .config/dotnet-tools.json;
#   dashboard-web.cdx.json  the npm package the dashboard embeds (tools/dashboard-web: ECharts and what it bundles),
#                           made by `npm sbom` (npm 10.2 and later) from the committed package-lock.json.
# Each file is checked: JSON, bomFormat CycloneDX, at least one component. Usage: tools/sbom.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out="$root/artifacts/sbom"
rm -rf "$out"
mkdir -p "$out"
cli=src/Stakeout.Cli/Stakeout.Cli.csproj

dotnet tool restore >"$out/tool-restore.log" 2>&1 || { cat "$out/tool-restore.log" >&2; exit 1; }
# One restore of the CLI's project graph (in locked mode when CI=true); the tool then reads the assets files
# (artifacts/obj/PROJECT/project.assets.json) instead of restoring each of the 14 projects again, a quarter of the time.
dotnet restore "$cli" --nologo -v quiet >"$out/restore.log" 2>&1 || { cat "$out/restore.log" >&2; exit 1; }
version="$(dotnet msbuild "$cli" -getProperty:Version)"
dotnet tool run dotnet-CycloneDX -- "$cli" --recursive --include-project-references --disable-package-restore \
  --no-serial-number --output-format Json --output "$out" --filename stakeout-cli.cdx.json \
  --set-name Stakeout --set-version "$version" >"$out/cyclonedx.log" 2>&1 || { cat "$out/cyclonedx.log" >&2; exit 1; }

if ! command -v npm >/dev/null 2>&1; then
  echo "sbom: npm not found: no SBOM for tools/dashboard-web" >&2
elif ! npm sbom --help >/dev/null 2>&1; then
  echo "sbom: npm $(npm --version) has no 'npm sbom' (npm 10.2 and later): no SBOM for tools/dashboard-web" >&2
else
  (cd tools/dashboard-web && npm sbom --sbom-format cyclonedx --omit=dev --package-lock-only) \
    >"$out/dashboard-web.cdx.json" 2>"$out/npm-sbom.log" || { cat "$out/npm-sbom.log" >&2; exit 1; }
fi

python3 - "$out" <<'PY'
import glob, json, os, sys
status = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.cdx.json"))):
    name = os.path.relpath(path, os.getcwd())
    try:
        bom = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        print(f"sbom: {name}: not JSON: {e}")
        status = 1
        continue
    components = bom.get("components", [])
    if bom.get("bomFormat") != "CycloneDX" or not components:
        print(f"sbom: {name}: not a CycloneDX BOM with components")
        status = 1
        continue
    hashed = sum(1 for c in components if c.get("hashes"))
    packages = sum(1 for c in components if c.get("purl"))
    root = bom.get("metadata", {}).get("component", {})
    libraries = f", {len(components) - packages} Stakeout project libraries" if packages < len(components) else ""
    print(f"sbom: {name}: CycloneDX {bom.get('specVersion')}, {root.get('name')} {root.get('version')}: "
          f"{len(components)} components ({packages} packages{libraries}), {hashed} with hashes")
sys.exit(status)
PY
