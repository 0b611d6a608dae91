#!/usr/bin/env bash
# Reruns the training figures of docs/training.md and docs/benchmarks.md ("Training"): default model on the families
# sample and on all shared data, two held-apart-file experiments, and the seed-compatible model. Output in bench/data/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
D=../shared/data/cicids2017
rm -rf bench/data/heldA bench/data/heldB
mkdir -p bench/data/heldA/train bench/data/heldA/val bench/data/heldB/train bench/data/heldB/val
cp $D/mlcve_head200.csv $D/mlcve_ddos-benign_10rows.csv $D/trafficlabelling_ddos_1000.csv $D/trafficlabelling_webattack-*.csv bench/data/heldA/train/
cp $D/mlcve_friday-ddos_head9998.csv $D/trafficlabelling_friday-ddos_head299.csv bench/data/heldA/val/
cp $D/mlcve_head200.csv $D/mlcve_ddos-benign_10rows.csv $D/mlcve_friday-ddos_head9998.csv $D/trafficlabelling_friday-ddos_head299.csv $D/trafficlabelling_webattack-*.csv bench/data/heldB/train/
cp $D/trafficlabelling_ddos_1000.csv bench/data/heldB/val/
./stakeout --help >/dev/null
uptime
t() { /usr/bin/time -f "wall %e s, peak RSS %M KB" ./stakeout "$@"; }
t train ../shared/data/cicids2017-families --seed 1 --output-dir bench/data/m-families
t train ../shared/data/cicids2017-families ../shared/data/cicids2017 --labels family --seed 1 --output-dir bench/data/m-all
t train ../shared/data/cicids2017-families bench/data/heldA/train --labels family --seed 1 --validation-dir bench/data/heldA/val --output-dir bench/data/m-heldA
t train ../shared/data/cicids2017-families bench/data/heldB/train --labels family --seed 1 --validation-dir bench/data/heldB/val --output-dir bench/data/m-heldB
t train ../shared/data/cicids2017-families ../shared/data/cicids2017 --model seed-logreg --seed 1 --output-dir bench/data/m-logreg
t tune ../shared/data/cicids2017-families --seed 1 --folds 3 --trials 12 --rounds 100 --time-budget 1800 --output-dir bench/data/tune-families
uptime
