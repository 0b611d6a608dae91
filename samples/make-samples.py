#!/usr/bin/env python3
"""Rebuilds the demo sample in samples/flows from ../shared/data (see samples/README.md).

Lines are copied byte for byte (header included, CRLF and encodings untouched); only the choice of rows is ours:
a deterministic systematic sample (every k-th row of a class) so that the result is the same on every machine.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
OUT = os.path.join(HERE, "flows")


def lines(path):
    with open(path, "rb") as f:
        return f.read().splitlines(keepends=True)


def label(line):
    return line.rstrip(b"\r\n").rsplit(b",", 1)[1]


def every_kth(rows, keep):
    if len(rows) <= keep:
        return rows
    step = len(rows) / keep
    return [rows[int(i * step)] for i in range(keep)]


def sample_by_class(src, quota):
    all_lines = lines(src)
    header, rows = all_lines[0], all_lines[1:]
    by_class = {}
    for r in rows:
        by_class.setdefault(label(r), []).append(r)
    picked = set()
    for cls, members in by_class.items():
        for r in every_kth(members, quota.get(cls.decode("latin-1"), len(members))):
            picked.add(id(r))
    # keep the file's own row order
    return header, [r for r in rows if id(r) in picked]


def write(name, header, rows):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(header)
        f.writelines(rows)
    print(f"{name}: {len(rows)} rows")


def main():
    if not os.path.isdir(DATA):
        sys.exit(f"no shared data at {DATA}")
    fam = os.path.join(DATA, "cicids2017-families", "cicids2017_sample_families.csv")
    header, rows = sample_by_class(fam, {"Bot": 500, "WebAttack": 600, "DoS": 700})
    write("cicids2017-families.csv", header, rows)

    friday = os.path.join(DATA, "cicids2017", "mlcve_friday-ddos_head9998.csv")
    header, rows = sample_by_class(friday, {"BENIGN": 3000})
    write("cicids2017-mlcve-friday-benign.csv", header, rows)

    tl = os.path.join(DATA, "cicids2017")
    h1, benign = lines(os.path.join(tl, "trafficlabelling_friday-ddos_head299.csv"))[0], lines(os.path.join(tl, "trafficlabelling_friday-ddos_head299.csv"))[1:]
    write("cicids2017-trafficlabelling-friday-benign.csv", h1, benign)

    h2, ddos = sample_by_class(os.path.join(tl, "trafficlabelling_ddos_1000.csv"), {"DDoS": 400})
    _, xss = sample_by_class(os.path.join(tl, "trafficlabelling_webattack-xss_652.csv"), {"Web Attack \xc2\x96 XSS": 150})
    _, sqli = sample_by_class(os.path.join(tl, "trafficlabelling_webattack-sqli_21.csv"), {})
    write("cicids2017-trafficlabelling-attacks.csv", h2, ddos + xss + sqli)


if __name__ == "__main__":
    main()
