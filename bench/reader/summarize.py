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
    header = ("| reader | read s | MB/s | rows/s | read CPU s | MB per CPU s | peak RSS MB | vs pandas (wall) | vs pandas (CPU) "
              "| 1.1 GB: wall s | 1.1 GB: CPU s | peak at 2.83 M rows, MB |")
    print(header)
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(header.count("|") - 1)) + "|")
    pandas = by.get(PANDAS)
    pandas_wall = median(pandas, "seconds") if pandas else float("nan")
    pandas_cpu = median(pandas, "read_cpu_seconds") if pandas else float("nan")
    scale = max(FULL_BYTES / size, FULL_ROWS / rows)
    verdicts = {}
    for label in labels:
        group = by[label]
        wall = median(group, "seconds")
        cpu = median(group, "read_cpu_seconds")
        peak = median(group, "peak_rss_bytes")
        retained = median(group, "retained_bytes")
        # What a read keeps grows with the rows; the rest (runtime, buffers in flight) does not.
        projected_peak = peak - retained + retained * FULL_ROWS / rows
        verdicts[label] = (pandas_wall / wall, pandas_cpu / cpu, wall * scale, cpu * scale, projected_peak)
        print(f"| {label} | {wall:.2f} | {size / 1e6 / wall:.1f} | {rows / wall:,.0f} | {cpu:.2f} | {size / 1e6 / cpu:.1f} | {peak / 1e6:,.0f} "
              f"| {pandas_wall / wall:.1f}x | {pandas_cpu / cpu:.1f}x | {wall * scale:.1f} | {cpu * scale:.1f} | {projected_peak / 1e6:,.0f} |")

    print("\nread s: wall time of the read alone, inside each process (pandas: read_csv; Stakeout: open, parse, account).")
    print("read CPU s: CPU time of all the process's threads during that read; it depends far less on other jobs than wall time.")
    print("peak RSS: VmHWM (Stakeout) or ru_maxrss (pandas) of the whole process.")
    print(f"1.1 GB: the time scaled by {scale:.2f}, the larger of 1.1 GB / file size and 2,830,743 rows / file rows.")
    print("peak at 2.83 M rows: peak RSS with the live heap after the read (what the consumer keeps) scaled to 2,830,743 rows.")
    keep = next((label for label in TRAINING if label in verdicts), None)
    if keep:
        ratio_wall, ratio_cpu, wall_full, cpu_full, peak = verdicts[keep]

        def verdict(ok):
            return "met" if ok else "MISSED"

        print(f"\ntargets for {keep} (how training reads), wall / CPU: >= 5x pandas: {ratio_wall:.1f}x {verdict(ratio_wall >= 5)} / "
              f"{ratio_cpu:.1f}x {verdict(ratio_cpu >= 5)}; full dataset <= 10 s: {wall_full:.1f} s {verdict(wall_full <= 10)} / "
              f"{cpu_full:.1f} CPU s {verdict(cpu_full <= 10)}; peak <= 1.5 GB: {peak / 1e9:.2f} GB {verdict(peak <= 1.5e9)}")
    if problems:
        print("\nMISMATCH between readers:\n  " + "\n  ".join(problems))
        return 1
    print(f"checked: every run read {rows:,} rows, {first['infinity_cells']:,} Infinity and {first['nan_cells']:,} NaN cells, "
          f"and the same Destination Port sum ({first['checksum']:,.0f}).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
