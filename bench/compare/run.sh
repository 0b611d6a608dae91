#!/usr/bin/env bash
# Stakeout against scikit-learn, in one run on the same data. Usage: bench/compare/run.sh [a] [b] [c]   (default: a b c)
#   a  families sample, dedup + stratified 70/30 split (`stakeout train --save-split`): Stakeout lightgbm and seed-logreg
#      vs RandomForest and HistGradientBoosting fitted on exactly the saved train rows, all scored on the saved test rows.
#   b  held-apart files: train on some shared files, evaluate on others never seen (Stakeout, RF, HGB).
#   c  end to end as a user runs it: `train` on 200k generated flows vs a pandas+sklearn RF script (read, split, fit,
#      report); `evaluate` of a 1M-row CSV vs pandas read_csv + RF predict.
# The scale test (2.8M rows) is bench/compare/scale.sh. Results go to bench/data/compare/ (git-ignored); the tables at the
# end are also in bench/data/compare/summary.txt. The machine's load is printed: other work on it skews wall times.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here="$root/bench/compare"
py=/usr/bin/python3   # Debian's python, where python3-sklearn and python3-pandas live
# OpenMP (LightGBM inside ML.NET, scikit-learn's HistGradientBoosting) spins while it waits by default; on a machine
# shared with other work that turned a 9 s fit into 114 s (docs/benchmarks.md). Passive waiting is fairer to both sides.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
shared="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
# Extra options for every `stakeout train` of parts a and b, e.g. STAKEOUT_TRAIN_ARGS="--imbalance balanced-weights".
read -r -a extra <<< "${STAKEOUT_TRAIN_ARGS:-}"
out="${STAKEOUT_COMPARE_OUT:-$root/bench/data/compare}"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(a b c)

need=()
for pkg in python3-sklearn python3-pandas; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "run.sh: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -d "$shared/cicids2017-families" ] || { echo "run.sh: $shared/cicids2017-families not found (set STAKEOUT_SHARED_DATA)" >&2; exit 1; }

./stakeout --help >/dev/null   # build once, outside every timing
timed() { local file="$1"; shift; /usr/bin/time -f "%e %M" -o "$file" "$@"; }
has() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
mkdir -p "$out"
{ echo "run.sh ${parts[*]} at $(date -u +%FT%TZ) on $(nproc) cores, OMP_WAIT_POLICY=$OMP_WAIT_POLICY, train options: ${extra[*]:-defaults}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$out/machine.txt"

if has a; then
  a="$out/a"; rm -rf "$a"; mkdir -p "$a"
  fam="$shared/cicids2017-families"
  echo "== (a) families sample" >&2
  timed "$a/stakeout.time" ./stakeout train "$fam" --labels family --seed 1 "${extra[@]}" --output-dir "$a/stakeout" --model-out "$a/stakeout.model" --save-split "$a/split" >/dev/null
  ./stakeout evaluate --model "$a/stakeout.model" "$a/split/test.csv" --json > "$a/stakeout-eval.json"
  timed "$a/logreg.time" ./stakeout train "$fam" --model seed-logreg --seed 1 --output-dir "$a/logreg" --model-out "$a/logreg.model" --save-split "$a/split-logreg" >/dev/null
  ./stakeout evaluate --model "$a/logreg.model" "$a/split-logreg/test.csv" --json > "$a/logreg-eval.json"
  for m in rf hgb; do
    "$py" "$here/sk_fit_eval.py" --model "$m" --train "$a/split/train.csv" --test "$a/split/test.csv" --level family --seed 1 > "$a/$m.json"
  done
fi

if has b; then
  c17="$shared/cicids2017"
  # b1: benign traffic of a day never trained on (Friday afternoon) and DDoS, a family the training data lacks, judged
  #     in the binary view. The families sample already holds every Web Attack flow, so the XSS/SQLi files train here.
  # b2: the 200 benign flows of another day's file, never seen; everything else trains.
  # The Friday MLCVE and TrafficLabelling heads are the same flows in two layouts: they stay on the same side.
  declare -A train_of=(
    [b1]="$shared/cicids2017-families $c17/mlcve_head200.csv $c17/trafficlabelling_webattack-xss_652.csv $c17/trafficlabelling_webattack-sqli_21.csv"
    [b2]="$shared/cicids2017-families $c17/mlcve_friday-ddos_head9998.csv $c17/trafficlabelling_friday-ddos_head299.csv $c17/trafficlabelling_ddos_1000.csv $c17/mlcve_ddos-benign_10rows.csv $c17/trafficlabelling_webattack-xss_652.csv $c17/trafficlabelling_webattack-sqli_21.csv"
  )
  declare -A test_of=(
    [b1]="$c17/mlcve_friday-ddos_head9998.csv $c17/trafficlabelling_friday-ddos_head299.csv $c17/trafficlabelling_ddos_1000.csv $c17/mlcve_ddos-benign_10rows.csv"
    [b2]="$c17/mlcve_head200.csv"
  )
  for exp in b1 b2; do
    d="$out/b/$exp"; rm -rf "$d"; mkdir -p "$d"
    echo "== (b) held-apart $exp" >&2
    read -r -a tr <<< "${train_of[$exp]}"
    read -r -a te <<< "${test_of[$exp]}"
    echo "train on ${tr[*]##*/}; evaluate on ${te[*]##*/}" > "$d/about.txt"
    timed "$d/stakeout.time" ./stakeout train "${tr[@]}" --labels family --seed 1 "${extra[@]}" --output-dir "$d/stakeout" --model-out "$d/stakeout.model" --save-split "$d/split" >/dev/null
    ./stakeout evaluate --model "$d/stakeout.model" "${te[@]}" --json > "$d/stakeout-eval.json"
    ./stakeout evaluate --model "$d/stakeout.model" "${te[@]}" --json --level binary > "$d/stakeout-eval-binary.json"
    for m in rf hgb; do
      "$py" "$here/sk_fit_eval.py" --model "$m" --train "$d/split/train.csv" --test "${te[@]}" --level family --seed 1 \
        --binary-out "$d/$m-binary.json" > "$d/$m.json"
    done
  done
fi

if has c; then
  c="$out/c"; rm -rf "$c"; mkdir -p "$c"
  data="$root/bench/data"
  [ -f "$data/train200k.csv" ] || "$py" "$here/gen_data.py" --rows 200000 --noise 0.01 --seed 1 --out "$data/train200k.csv" "$shared/cicids2017" "$shared/cicids2017-families"
  [ -f "$data/eval1m.csv" ] || "$py" "$here/gen_data.py" --rows 1000000 --noise 0.01 --seed 2 --out "$data/eval1m.csv" "$shared/cicids2017" "$shared/cicids2017-families"
  echo "== (c) end to end: train 200k" >&2
  timed "$c/stakeout-train.time" ./stakeout train "$data/train200k.csv" --labels family --seed 1 --output-dir "$c/stakeout" --model-out "$c/stakeout.model" >/dev/null
  timed "$c/sklearn-train.time" "$py" "$here/sk_e2e_train.py" --out "$c/rf.pkl" "$data/train200k.csv" > "$c/sklearn-train.txt"
  echo "== (c) end to end: evaluate 1M" >&2
  timed "$c/stakeout-eval.time" ./stakeout evaluate --model "$c/stakeout.model" "$data/eval1m.csv" --json > "$c/stakeout-eval.json"
  timed "$c/sklearn-eval.time" "$py" "$here/sk_e2e_predict.py" --model "$c/rf.pkl" "$data/eval1m.csv" > "$c/sklearn-eval.json"
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
"$py" "$here/summarize.py" "$out" | tee "$out/summary.txt"
