#!/usr/bin/env bash
# Kept for old habits: the demo is a command of the product now (`./stakeout demo`, docs/user-guide.md).
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stakeout" demo --output-dir "${1:-demo-out}" "${@:2}"
