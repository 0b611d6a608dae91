#!/usr/bin/python3
"""Summarises bench/reader/run.sh's raw results: medians per tool, the ratio to pandas and the full-dataset projection.

Exits 1 when the two tools disagree on what the file holds (rows, Infinity and NaN cells, the Destination Port sum):
a faster reader that reads something else is not faster.
"""
import json
import os
import platform
import statistics
import subprocess
import sys

FULL_BYTES = 1.1e9       # the full CIC-IDS2017 flow CSVs, as the issue states them
FULL_ROWS = 2_830_743    # rows in the full CIC-IDS2017 (MachineLearningCVE)
PANDAS = "pandas read_csv"
# What training does: keep every row; without identity when the layout has it (FlowReaderOptions.ReadIdentity).
TRAINING = ("Stakeout (keep, no id)", "Stakeout (keep all)")


def median(records, key):
    return statistics.median(r[key] for r in records)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        dotnet = "?"
    return f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}, .NET SDK {dotnet}, Python {platform.python_version()}"


def main(path):
    records = [json.loads(line) for line in open(path) if line.strip()]
    labels = list(dict.fromkeys(r["label"] for r in records))
    by = {label: [r for r in records if r["label"] == label] for label in labels}
    first = records[0]
    size, rows = first["bytes"], first["rows_read"]

    problems = []
    for r in records:
        for key in ("rows_read", "infinity_cells", "nan_cells", "checksum"):
            if r[key] != first[key]:
                problems.append(f"{r['label']} round {r['round']}: {key} = {r[key]}, but {first['label']} read {first[key]}")
        if r["tool"] == "stakeout" and not r["balanced"]:
            problems.append(f"{r['label']} round {r['round']}: the read accounting does not balance")

    loads = [r["load1"] for r in records]
    print(f"\nReader benchmark: {path}")
    print(f"machine: {machine()}")
    print(f"load (1 min) at each measurement: min {min(loads):.2f}, median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    print(f"file: {size / 1e6:,.1f} MB, {rows:,} rows; {len(records) // len(labels)} rounds, medians below\n")
    header = f"| {'reader':<22} | {'read s':>7} | {'MB/s':>7} | {'rows/s':>10} | {'CPU s':>6} | {'peak RSS MB':>11} | {'vs pandas':>9} | {'1.1 GB in s':>11} | {'peak at 2.8 M rows MB':>21} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    pandas_seconds = median(by[PANDAS], "seconds") if PANDAS in by else None
    verdicts = {}
    for label in labels:
        group = by[label]
        seconds = median(group, "seconds")
        peak = median(group, "peak_rss_bytes")
        retained = median(group, "retained_bytes")
        projected_seconds = max(seconds * FULL_BYTES / size, seconds * FULL_ROWS / rows)
        # What a read keeps grows with the rows; the rest (runtime, buffers in flight) does not.
        projected_peak = peak - retained + retained * FULL_ROWS / rows
        ratio = pandas_seconds / seconds if pandas_seconds else float("nan")
        verdicts[label] = (ratio, projected_seconds, projected_peak)
        print(f"| {label:<22} | {seconds:>7.2f} | {size / 1e6 / seconds:>7.1f} | {rows / seconds:>10,.0f} | {median(group, 'cpu_seconds'):>6.2f} | "
              f"{peak / 1e6:>11,.0f} | {ratio:>8.1f}x | {projected_seconds:>11.1f} | {projected_peak / 1e6:>21,.0f} |")

    print("\nread s: the read alone, timed inside each process (pandas: read_csv; Stakeout: open, parse, account).")
    print("CPU s: user + system of the whole process. peak RSS: VmHWM / ru_maxrss of the process.")
    print("1.1 GB in s: the read time scaled to 1.1 GB and to 2,830,743 rows, whichever is longer.")
    keep = next((label for label in TRAINING if label in verdicts), None)
    if keep:
        ratio, seconds, peak = verdicts[keep]
        print(f"\ntargets ({keep}, as training reads): >= 5x pandas: {ratio:.1f}x {'met' if ratio >= 5 else 'MISSED'}; "
              f"full dataset <= 10 s: {seconds:.1f} s {'met' if seconds <= 10 else 'MISSED'}; "
              f"peak <= 1.5 GB: {peak / 1e9:.2f} GB {'met' if peak <= 1.5e9 else 'MISSED'}")
    if problems:
        print("\nMISMATCH between readers:\n  " + "\n  ".join(problems))
        return 1
    print(f"checked: every run read {rows:,} rows, {first['infinity_cells']:,} Infinity and {first['nan_cells']:,} NaN cells, "
          f"and the same Destination Port sum ({first['checksum']:,.0f}).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
