#!/usr/bin/env python3
"""Collects criterion's results newer than a stamp file into JSON lines.

    criterion_json.py TARGET/criterion STAMP_FILE

For each benchmark: its group and id, and the median, 10th and 90th percentile of the time per
iteration over criterion's samples (sample.json: iterations and total time per sample).
"""
import json
import os
import sys
from pathlib import Path

root, stamp = Path(sys.argv[1]), os.path.getmtime(sys.argv[2])
for bench in sorted(root.glob("**/new/benchmark.json")):
    if bench.stat().st_mtime < stamp:
        continue
    meta = json.loads(bench.read_text())
    sample = json.loads((bench.parent / "sample.json").read_text())
    per_iter = sorted(t / i for t, i in zip(sample["times"], sample["iters"]))
    pct = lambda q: per_iter[round((len(per_iter) - 1) * q)]
    tp = meta.get("throughput") or {}
    print(json.dumps({
        "group": meta["group_id"], "function": meta.get("function_id"), "value": meta.get("value_str"),
        "id": meta["full_id"], "samples": len(per_iter),
        "median_ns": round(pct(0.5), 1), "p10_ns": round(pct(0.1), 1), "p90_ns": round(pct(0.9), 1),
        "bytes": tp.get("Bytes"),
    }))
