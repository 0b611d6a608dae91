#!/usr/bin/python3
"""An independent reading of a format-2 artifact's anomaly section (docs/model-format.md): scores CSV rows with the
documented HBOS rule in numpy (float32 like the runtime) and writes the expected-values file the format test keeps.

  hbos_reference.py ARTIFACT CSV [--rows 30] > expected.json
"""
import argparse
import json

import numpy as np

import flows


def sections(path):
    data, out = open(path, "rb").read(), {}
    pos = data.index(b"\n") + 1
    while data.startswith(b"section ", pos):
        end = data.index(b"\n", pos)
        _, name, length, _ = data[pos:end].decode().split(" ")
        out[name] = data[end + 1:end + 1 + int(length)]
        pos = end + 1 + int(length) + 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("artifact")
    ap.add_argument("csv")
    ap.add_argument("--rows", type=int, default=30)
    a = ap.parse_args()
    s = sections(a.artifact)
    manifest, model = json.loads(s["manifest"]), json.loads(s["anomaly"])
    names = {f["index"]: f["name"] for f in manifest["features"]}
    df = flows.read_flows([a.csv]).head(a.rows)
    rows = np.zeros((len(df), 78), dtype=np.float32)
    for i, name in names.items():
        rows[:, i] = df[name].apply(lambda v: float(v)).to_numpy(dtype=np.float32)
    x = np.where(np.isnan(rows), np.float32(0), rows)
    big = np.finfo(np.float32).max
    x = np.clip(x, -big, big).astype(np.float32)
    t = (np.sign(x) * np.log(np.float32(1) + np.abs(x))).astype(np.float32)
    bins = model["bins"]
    scores = np.zeros(len(df), dtype=np.float64)
    for j, f in enumerate(model["features"]):
        lower, inv = np.float32(model["lower"][j]), np.float32(1 / model["width"][j])
        d = (t[:, f] - lower) * inv
        table = np.array(model["scores"][j], dtype=np.float32)
        inside = (d >= 0) & (d < bins)
        idx = np.clip(d.astype(np.int64), 0, bins - 1)
        beyond = np.where(d < 0, -d, d - bins)
        scores += np.where(inside, table[idx], np.float32(model["outside"][j]) + np.log1p(np.maximum(beyond, 0)))

    def enc(v):
        return "NaN" if np.isnan(v) else ("Infinity" if v == np.inf else ("-Infinity" if v == -np.inf else float(v)))
    out = {"artifact": a.artifact.split("/")[-1], "threshold": model["threshold"],
           "rows": [[enc(v) for v in r] for r in rows], "anomaly_scores": [round(float(v), 5) for v in scores]}
    json.dump(out, __import__("sys").stdout)
    print()


if __name__ == "__main__":
    main()
