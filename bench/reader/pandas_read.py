#!/usr/bin/python3
"""The baseline for bench/reader/run.sh: pandas read_csv on the same file, timed and measured the same way.

Prints one JSON object like `Stakeout.Benchmarks read`. read_csv runs with its defaults (C engine, float64), which is
how CIC-IDS2017 is loaded in most published pipelines; the header's leading spaces and the duplicated column are left
to pandas (it renames the second `Fwd Header Length` to `Fwd Header Length.1`).
"""
import json
import math
import resource
import sys
import time

import numpy as np
import pandas as pd


def main(argv):
    if len(argv) != 2:
        print("usage: pandas_read.py FILE.csv", file=sys.stderr)
        return 2
    path = argv[1]
    start, cpu_start = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    numeric = frame.select_dtypes(include=[np.number])
    values = numeric.to_numpy(copy=False)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    label = frame.columns[-1]
    port = next((c for c in frame.columns if c.strip() == "Destination Port"), None)
    result = {
        "tool": "pandas",
        "mode": "read_csv",
        "version": pd.__version__,
        "seconds": seconds,
        "read_cpu_seconds": cpu,
        "bytes": __import__("os").path.getsize(path),
        "rows_read": int(len(frame)),
        "numeric_columns": int(numeric.shape[1]),
        "infinity_cells": int(np.isinf(values).sum()),
        "nan_cells": int(np.isnan(values).sum()),
        "label_column": label,
        "retained_bytes": int(frame.memory_usage(deep=False).sum()),
        "peak_rss_bytes": peak_kb * 1024,
        # Sum of Destination Port, compared with Stakeout's in run.sh.
        "checksum": float(frame[port].sum()) if port is not None else math.nan,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
