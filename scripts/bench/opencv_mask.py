#!/usr/bin/env python3
"""OpenCV side of the masking-kernel comparison in `make bench`.

    opencv_mask.py ZONES.toml WIDTHxHEIGHT solid|pixelate|blur [SECONDS]

Masks the same zones as examples/mask_timing.rs on an I420 frame held as three numpy planes
(Y at full size, U and V at half size), the way a Python user of OpenCV would:
- solid: cv2.fillPoly of all zones on each plane (polygon vertices with 4 bits of subpixel
  precision, black: Y 16, U/V 128);
- pixelate: per zone, cv2.resize of the bounding box down by the block size (INTER_AREA, the
  block mean) and back up (INTER_NEAREST), copied through the zone's polygon mask;
- blur: per zone, three cv2.blur passes with the same box window as Veil (2r+1, r = width/100
  on luma, r/2 on chroma), copied through the polygon mask.
The polygon masks are rasterised once beforehand (Veil also rasterises once per geometry).
Prints one JSON object like mask_timing: median and 10th/90th percentile microseconds per call,
single-threaded (cv2.setNumThreads(1)).
"""
import json
import math
import sys
import time
import tomllib

import cv2
import numpy as np

SHIFT = 4


def polygons(zones, w, h):
    out = []
    for z in zones:
        pts = np.array([[x * w * (1 << SHIFT), y * h * (1 << SHIFT)] for x, y in z["polygon"]])
        out.append(np.round(pts).astype(np.int32))
    return out


def main():
    zones = tomllib.load(open(sys.argv[1], "rb"))["zones"]
    w, h = (int(v) for v in sys.argv[2].split("x"))
    style = sys.argv[3]
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    cv2.setNumThreads(1)
    planes = [np.full((h, w), 90, np.uint8), np.full((h // 2, w // 2), 120, np.uint8),
              np.full((h // 2, w // 2), 130, np.uint8)]
    rng = np.random.default_rng(1)
    for p in planes:
        p[:] = rng.integers(0, 256, p.shape, dtype=np.uint8)
    fills = [16, 128, 128]
    polys = [polygons(zones, w, h)] + [polygons(zones, w // 2, h // 2)] * 2
    block = max(w // 60, 16)
    radius = max(w // 100, 8)

    # per plane, per zone: bounding-box slices and the polygon mask inside the box
    rois = []
    for pi, p in enumerate(planes):
        ph, pw = p.shape
        per = []
        for poly in polys[pi]:
            x0 = max(0, math.floor(poly[:, 0].min() / (1 << SHIFT)))
            y0 = max(0, math.floor(poly[:, 1].min() / (1 << SHIFT)))
            x1 = min(pw, math.ceil(poly[:, 0].max() / (1 << SHIFT)))
            y1 = min(ph, math.ceil(poly[:, 1].max() / (1 << SHIFT)))
            m = np.zeros((y1 - y0, x1 - x0), np.uint8)
            off = np.array([x0 << SHIFT, y0 << SHIFT], np.int32)
            cv2.fillPoly(m, [poly - off], 255, lineType=cv2.LINE_8, shift=SHIFT)
            per.append((slice(y0, y1), slice(x0, x1), m.astype(bool)))
        rois.append(per)

    def solid():
        for pi, p in enumerate(planes):
            cv2.fillPoly(p, polys[pi], fills[pi], lineType=cv2.LINE_8, shift=SHIFT)

    def pixelate():
        for pi, p in enumerate(planes):
            b = block if pi == 0 else block // 2
            for ys, xs, m in rois[pi]:
                roi = p[ys, xs]
                rh, rw = roi.shape
                small = cv2.resize(roi, (max(1, -(-rw // b)), max(1, -(-rh // b))), interpolation=cv2.INTER_AREA)
                big = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
                np.copyto(roi, big, where=m)

    def blur():
        for pi, p in enumerate(planes):
            r = radius if pi == 0 else radius // 2
            k = (2 * r + 1, 2 * r + 1)
            for ys, xs, m in rois[pi]:
                roi = p[ys, xs]
                b = cv2.blur(cv2.blur(cv2.blur(roi, k), k), k)
                np.copyto(roi, b, where=m)

    f = {"solid": solid, "pixelate": pixelate, "blur": blur}[style]
    start = time.perf_counter()
    while time.perf_counter() - start < budget / 4:
        f()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < budget or len(times) < 20:
        t = time.perf_counter_ns()
        f()
        times.append((time.perf_counter_ns() - t) / 1000)
    times.sort()
    pct = lambda q: times[round((len(times) - 1) * q)]
    print(json.dumps({"tool": "opencv", "style": style, "width": w, "height": h, "calls": len(times),
                      "median_us": round(pct(0.5), 3), "p10_us": round(pct(0.1), 3),
                      "p90_us": round(pct(0.9), 3), "opencv": cv2.__version__}))


if __name__ == "__main__":
    main()
