#!/usr/bin/env python3
"""Face precision of a redactor against the hand-annotated faces.

    face_precision.py ORIGINAL REDACTED FACES.json [SCALE] [--tracks TRACKS.json]

Precision here is the share of the tool's face redactions that are on a real face (a box
with IoU >= 0.3 against an annotated face of that frame).
- deface (or any tool that gives no boxes): its face redactions are found from pixels, as the
  connected components of the smoothed absolute luma difference between input and output
  (15x15 box mean above 12 grey levels, opened by a 5x5 square, at least 400 px, so the
  re-encoding noise is not counted); each component's bounding box is one face redaction.
- Veil (--tracks, the file `redact analyze` writes): its face boxes, including interpolated
  and padded ones, since every one of them is redacted. Veil also blurs bystanders' bodies,
  which would merge with the faces into one region in the pixel method.
Also prints the share of the frame area that the output changed (over-redaction costs the
requester context; Veil's body blur makes its share larger by design). One JSON object.
"""
import json
import sys

import cv2
import numpy as np


def frames(path):
    cap = cv2.VideoCapture(path)
    while True:
        ok, f = cap.read()
        if not ok:
            break
        yield cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)


def iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter > 0 else 0.0


def track_faces(path):
    """Frame -> face boxes [x, y, w, h] of a Veil tracks file."""
    out = {}
    for t in json.load(open(path))["tracks"]:
        boxes = t.get("faces", []) if t["class"] == "person" else t["boxes"]
        for b in boxes:
            out.setdefault(b["frame"], []).append(b["box"])
    return out


def main():
    args = sys.argv[1:]
    tracks = None
    if "--tracks" in args:
        i = args.index("--tracks")
        tracks = track_faces(args[i + 1])
        del args[i:i + 2]
    orig_path, red_path, faces_path = args[:3]
    scale = float(args[3]) if len(args) > 3 else 1.0
    ann = json.load(open(faces_path))["frames"]
    kernel = np.ones((5, 5), np.uint8)
    close = np.ones((31, 31), np.uint8)
    regions = tp = 0
    area = total = 0
    for k, (a, b) in enumerate(zip(frames(orig_path), frames(red_path))):
        if k >= len(ann):
            break
        if a.shape != b.shape:
            sys.exit(f"face_precision: frame {k} is {b.shape[1]}x{b.shape[0]} in the output, {a.shape[1]}x{a.shape[0]} in the input")
        d = cv2.blur(cv2.absdiff(a, b), (15, 15))
        m = cv2.morphologyEx((d > 12).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        # join the slivers at a redaction's rim (where blur changed little) to their region
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, close)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        area += int(m.sum())
        total += m.size
        faces = [[v * scale for v in box] for box in ann[k]["faces"]]
        if tracks is not None:
            boxes = tracks.get(k, [])
        else:
            boxes = [[int(v) for v in stats[i, :4]] for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 400]
        regions += len(boxes)
        tp += sum(1 for b in boxes if any(iou(b, f) >= 0.3 for f in faces))
    print(json.dumps({"regions": regions, "true_regions": tp,
                      "precision": round(tp / regions, 3) if regions else None,
                      "redacted_area": round(area / total, 4) if total else None}))


if __name__ == "__main__":
    main()
