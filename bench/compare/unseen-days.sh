# Sourced by beyond.sh and anomaly-sweep.sh (issue #18): the three splits of unseen benign days, in one place.
#   b1: trained on the families sample, mlcve_head200 and the Web Attack files (427 BENIGN rows); held apart: the
#       Friday-afternoon benign flows (both layouts: same flows) and the DDoS file (a family absent from training).
#   b2: trained on everything else; held apart: mlcve_head200, 200 BENIGN flows of another day.
#   all: the default model trained on all shared data, on its own held-out test split (attack recall as today).
# Needs $root; sets $shared, $c17, train_of, benign_of, attack_of, and split_test_rows.
shared="${STAKEOUT_SHARED_DATA:-$root/../shared/data}"
c17="$shared/cicids2017"
declare -A train_of=(
  [b1]="$shared/cicids2017-families $c17/mlcve_head200.csv $c17/trafficlabelling_webattack-xss_652.csv $c17/trafficlabelling_webattack-sqli_21.csv"
  [b2]="$shared/cicids2017-families $c17/mlcve_friday-ddos_head9998.csv $c17/trafficlabelling_friday-ddos_head299.csv $c17/trafficlabelling_ddos_1000.csv $c17/mlcve_ddos-benign_10rows.csv $c17/trafficlabelling_webattack-xss_652.csv $c17/trafficlabelling_webattack-sqli_21.csv"
  [all]="$shared/cicids2017-families $c17"
)
declare -A benign_of=([b1]="$c17/mlcve_friday-ddos_head9998.csv $c17/trafficlabelling_friday-ddos_head299.csv" [b2]="$c17/mlcve_head200.csv" [all]="")
declare -A attack_of=([b1]="$c17/trafficlabelling_ddos_1000.csv" [b2]="" [all]="")

# split_test_rows TEST_CSV DIR: the held-out test split written by --save-split, as DIR/benign.csv and DIR/attack.csv.
split_test_rows() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, pandas as pd
t = pd.read_csv(sys.argv[1], low_memory=False)
b = t["Label"].astype(str).str.strip() == "BENIGN"
t[b].to_csv(f"{sys.argv[2]}/benign.csv", index=False)
t[~b].to_csv(f"{sys.argv[2]}/attack.csv", index=False)
PY
}
