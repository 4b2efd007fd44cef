#!/usr/bin/env python3
"""Writes BENCHMARKS.md and its charts from the JSON lines the bench steps collected.

    report.py RESULTS_DIR BENCHMARKS.md CHART_DIR

Figures are medians over the alternating rounds with the spread (min-max over rounds, or the
10th-90th percentile of single calls for the kernels); comparisons are the median of the
per-round ratios, because on a shared 2-core machine the load changes between rounds but
hardly within one.
"""
import json
import os
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RES, OUT, CHARTS = sys.argv[1:4]
os.makedirs(CHARTS, exist_ok=True)
CHART_REL = os.path.relpath(CHARTS, os.path.dirname(os.path.abspath(OUT)))


# Each step's results are in their own folder, RES/<step>/, with the env.json of the run that
# measured them (run.sh keeps the folders of steps it did not run).
STEP_DIRS = sorted(d for d in os.listdir(RES) if os.path.isfile(os.path.join(RES, d, "env.json")))


def load_from(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def load(name):
    """Every step's lines of results file `name` (each file is written by one step)."""
    return [r for d in STEP_DIRS for r in load_from(os.path.join(RES, d), name)]


med = statistics.median
STEP_ENV = {d: {k: v for line in load_from(os.path.join(RES, d), "env.json") for k, v in line.items()}
            for d in STEP_DIRS}
# the machine and versions: of the newest run
env = max(STEP_ENV.values(), key=lambda e: e.get("date", "")) if STEP_ENV else {}
md = []
w = md.append


def fmt_us(us):
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.1f} us" if us < 100 else f"{us:.0f} us"


def ratio_rounds(rows, key, num, den, field):
    """Median over rounds of num/den, pairing rows that share `key` and the round."""
    by = defaultdict(dict)
    for r in rows:
        by[(r["round"],) + key(r)][r["tool"] if "tool" in r else None] = r
    out = defaultdict(list)
    for k, d in by.items():
        if num(d) and den(d):
            out[k[1:]].append(num(d)[field] / den(d)[field])
    return {k: (med(v), min(v), max(v), len(v)) for k, v in out.items()}


def chart(name):
    path = os.path.join(CHARTS, name)
    plt.tight_layout()
    plt.savefig(path, dpi=110)
    plt.close()
    return f"![{name}]({CHART_REL}/{name})"


# ---------------------------------------------------------------- header
w("# Veil benchmarks")
w("")
w("Written by `make bench` (scripts/bench/run.sh, report by scripts/bench/report.py); do not edit")
w("by hand, run it again. Every comparison below was run alternately in one session (tool A,")
w("tool B, tool A, ...), because the machines are shared and noisy: read the **ratios**, which")
w("pair runs made seconds apart, more than the absolute figures.")
w("")
w("| | |")
w("|---|---|")
for k, label in [("cpu", "CPU"), ("cores", "cores"), ("simd", "SIMD"),
                 ("memory_gib", "memory (GiB)"), ("os", "OS"), ("kernel", "kernel"),
                 ("rustc", "rustc"), ("ffmpeg", "FFmpeg (CLI and libav*)"), ("libx264", "x264"),
                 ("onnxruntime", "ONNX Runtime (Veil)"), ("opencv", "OpenCV (opencv-python-headless)"),
                 ("deface", "deface"), ("deface_onnxruntime", "ONNX Runtime (deface)")]:
    if k in env:
        w(f"| {label} | {env[k]} |")
w("")


def dirty_of(e):
    """Why a step's run did not measure a clean commit (empty: it did)."""
    out = [f"{e.get(k)} tracked files changed ({when})" for k, when in (("changed", "start"), ("changed_end", "end"))
           if e.get(k, 0) not in (0, "0")]
    if "veil" in e and "veil_end" in e and e["veil"] != e["veil_end"]:
        out.append(f"commit {e['veil_end']} at the end")
    if "-dirty" in str(e.get("veil", "")) and not out:
        out.append("uncommitted changes")
    return out


ALL_STEPS = str(env.get("all_steps", "")).split() or STEP_DIRS
MISSING = [x for x in ALL_STEPS if x not in STEP_DIRS]
w("Each step of `make bench` (`BENCH_STEPS` runs some of them) keeps its results until it is run")
w("again, so the sections below may come from different runs: each section's figures are from")
w("the run of its step in this table.")
w("")
w("| step | Veil commit | date (UTC) | working tree | load average at start / end |")
w("|---|---|---|---|---|")
DIRTY = []
for d in STEP_DIRS:
    e = STEP_ENV[d]
    why = dirty_of(e)
    DIRTY += [f"{d}: {x}" for x in why]
    w(f"| {d} | {e.get('veil', '?')} | {e.get('date', '?')} | {'**dirty**: ' + ', '.join(why) if why else 'clean'} "
      f"| {e.get('load_start', '?')} / {e.get('load_end', '?')} |")
for d in MISSING:
    w(f"| {d} | not measured | | | |")
w("")
STEP_OF = {}  # goal text -> step, for the goals table's commit column
GOALS_AT = len(md)  # the goals table goes here, once every section has been measured

# ---------------------------------------------------------------- kernels
kern = load("kernels.jsonl")
if kern:
    rounds = max(r["round"] for r in kern)
    w("## Zone masking kernels vs the bandwidth bound and OpenCV")
    w("")
    w(f"`scripts/bench/kernels.sh` ({rounds} rounds): the three zones of `scripts/bench/zones.toml` (a door, a")
    w("window band, a road strip: ~15% of the frame) on an I420 frame, one thread each:")
    w("`examples/mask_timing.rs` for Veil, `scripts/bench/opencv_mask.py` for OpenCV (cv2.fillPoly;")
    w("resize down/up through the polygon mask for pixelate; three cv2.blur passes of the same box")
    w("through the polygon mask for blur). memset/memcpy write/copy as many bytes as the zones")
    w("cover, contiguously: the memory-bandwidth bound. Per cell: the median time per call")
    w("(median over rounds of each round's median) and, in brackets, the 10th-90th percentile of")
    w("single calls in the round with the median. Ratios are medians of per-round ratios; the")
    w("speed-up is OpenCV's time over Veil's (above 1: Veil is faster). Goal: solid within 2x of")
    w("memset.")
    w("")
    w("| frame | style | Veil | OpenCV | speed-up over OpenCV | memset | memcpy | time / memset |")
    w("|---|---|---|---|---|---|---|---|")
    cells = defaultdict(list)
    for r in kern:
        cells[(r["width"], r["height"], r["style"], r["tool"])].append(r)

    def mid(rows):
        rows = sorted(rows, key=lambda r: r["median_us"])
        return rows[len(rows) // 2]

    def per_round(size, style_a, tool_a, style_b, tool_b):
        a = {r["round"]: r["median_us"] for r in cells[size + (style_a, tool_a)]}
        b = {r["round"]: r["median_us"] for r in cells[size + (style_b, tool_b)]}
        rs = [a[k] / b[k] for k in a if k in b]
        return med(rs) if rs else None

    chart_rows = []
    for size in sorted({(r["width"], r["height"]) for r in kern}):
        name = f"{size[1]}p"
        ms = mid(cells[size + ("memset", "veil")])["median_us"] if cells[size + ("memset", "veil")] else None
        mc = mid(cells[size + ("memcpy", "veil")])["median_us"] if cells[size + ("memcpy", "veil")] else None
        for style in ("solid", "pixelate", "blur"):
            v, o = cells[size + (style, "veil")], cells[size + (style, "opencv")]
            if not v:
                continue
            vm, om = mid(v), (mid(o) if o else None)
            vo = per_round(size, style, "opencv", style, "veil")
            vb = per_round(size, style, "veil", "memset", "veil") if style == "solid" else None
            w(f"| {name} | {style} | {fmt_us(vm['median_us'])} ({fmt_us(vm['p10_us'])}-{fmt_us(vm['p90_us'])}) | "
              + (f"{fmt_us(om['median_us'])} ({fmt_us(om['p10_us'])}-{fmt_us(om['p90_us'])})" if om else "-")
              + f" | {vo:.2f}x | " if vo else " | - | ")
            md[-1] += (f"{fmt_us(ms)} | " if ms else "- | ") + (f"{fmt_us(mc)} | " if mc else "- | ")
            md[-1] += f"{vb:.2f}x |" if vb else "- |"
            chart_rows.append((f"{name}\n{style}", vm["median_us"], om["median_us"] if om else 0, ms or 0))
    w("")
    fig, ax = plt.subplots(figsize=(8, 3.8))
    xs = range(len(chart_rows))
    wd = 0.27
    ax.bar([x - wd for x in xs], [c[1] for c in chart_rows], wd, label="Veil")
    ax.bar(list(xs), [c[2] for c in chart_rows], wd, label="OpenCV")
    ax.bar([x + wd for x in xs], [c[3] for c in chart_rows], wd, label="memset (bound)")
    ax.set_xticks(list(xs), [c[0] for c in chart_rows], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("microseconds per frame (log)")
    ax.set_title("Zone masking per I420 frame, one thread (lower is better)")
    ax.legend(fontsize=8)
    w(chart("kernels.png"))
    w("")

crit = load("criterion.jsonl")
if crit:
    w("### Criterion benches")
    w("")
    w("`cargo bench -p veil --bench masking`, `-p veil-detect --bench detect`, `-p veil-track --bench")
    w("track`, `-p veil-redact --bench layers` (criterion; median time per iteration over its")
    w("samples, 10th-90th percentile in brackets). `mask/...`: the kernels of the table above with a")
    w("2-thread rayon pool (`-nopool`: without), I420 and NV12, per CPU level (`Avx2` is the default")
    w("on this machine, `Scalar` the reference). `detect/...`: one frame through a detector at its")
    w("default input size, one thread; `redact_frame/...`: the export's per-frame redaction.")
    w("")
    w("| benchmark | median | p10-p90 |")
    w("|---|---|---|")
    for r in sorted(crit, key=lambda r: r["id"]):
        w(f"| `{r['id']}` | {fmt_us(r['median_ns'] / 1000)} | {fmt_us(r['p10_ns'] / 1000)}-{fmt_us(r['p90_ns'] / 1000)} |")
    w("")
APPEARANCE = next((r for r in crit if r["id"] == "appearance_1080p_20_persons"), None)

# ---------------------------------------------------------------- redact mask vs ffmpeg
mask = load("mask_e2e.jsonl")
if mask:
    rounds = max(r["round"] for r in mask)
    frames = mask[0]["frames"]
    w("## `redact mask` end to end vs the FFmpeg CLI")
    w("")
    w(f"`scripts/bench/mask_e2e.sh` ({rounds} alternating rounds): fixtures/vtest.mp4 upscaled to 1080p ({frames}")
    w("frames), the five zones of fixtures/vtest-zones.toml, decode + mask + libx264 (preset fast,")
    w("CRF 18, x264's own threading) into MP4. FFmpeg: `drawbox` fills of the zones' bounding")
    w("boxes (solid), crop + `boxblur` (three passes, Veil's radius) + overlay per zone (blur).")
    w("Median over rounds, min-max in brackets; speed-ups are medians of per-round ratios of")
    w("FFmpeg's time over Veil's (above 1: Veil is faster). Goal: at least as fast as FFmpeg.")
    w("")
    w("| style | Veil wall | FFmpeg wall | speed-up (wall) | speed-up (CPU) | Veil fps | peak RSS Veil / FFmpeg |")
    w("|---|---|---|---|---|---|---|")
    key = lambda r: (r["style"],)
    rw = ratio_rounds(mask, key, lambda d: d.get("ffmpeg"), lambda d: d.get("veil"), "wall_s")
    rc = ratio_rounds(mask, key, lambda d: d.get("ffmpeg"), lambda d: d.get("veil"), "cpu_s")
    bars = []
    for style in ("solid", "blur"):
        v = [r for r in mask if r["style"] == style and r["tool"] == "veil"]
        f = [r for r in mask if r["style"] == style and r["tool"] == "ffmpeg"]
        if not v or not f:
            continue
        vw, fw = [r["wall_s"] for r in v], [r["wall_s"] for r in f]
        w(f"| {style} | {med(vw):.2f} s ({min(vw):.2f}-{max(vw):.2f}) | {med(fw):.2f} s ({min(fw):.2f}-{max(fw):.2f}) | "
          f"{rw[(style,)][0]:.2f} ({rw[(style,)][1]:.2f}-{rw[(style,)][2]:.2f}) | {rc[(style,)][0]:.2f} | "
          f"{frames / med(vw):.1f} | {med(r['maxrss_kib'] for r in v) / 1024:.0f} / {med(r['maxrss_kib'] for r in f) / 1024:.0f} MiB |")
        bars.append((style, frames / med(vw), frames / med(fw)))
    w("")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    xs = range(len(bars))
    ax.bar([x - 0.2 for x in xs], [b[1] for b in bars], 0.4, label="Veil redact mask")
    ax.bar([x + 0.2 for x in xs], [b[2] for b in bars], 0.4, label="FFmpeg CLI")
    ax.set_xticks(list(xs), [b[0] for b in bars])
    ax.set_ylabel("frames per second")
    ax.set_title("1080p zone masking + x264 (higher is better)")
    ax.legend(fontsize=8)
    w(chart("mask_e2e.png"))
    w("")

# ---------------------------------------------------------------- export vs deface
exp = load("export.jsonl")
qual = load("quality.jsonl")
if exp:
    rounds = max(r["round"] for r in exp)
    w("## `redact export` vs deface")
    w("")
    w(f"`scripts/bench/export.sh` ({rounds} alternating rounds): the hand-annotated group-pan clip")
    w("(fixtures/inzage, six people) looped twice (98 frames), at 720p and upscaled to 1080p.")
    w("Veil: the whole one-shot `redact export --keep-none` (decode, CenterFace faces + NanoDet")
    w("persons, tracking, blur of every face and body, x264 CRF 18, manifest). deface 1.5")
    w("(`--backend onnxrt`, CenterFace only, faces only) at its default size (the full frame) and")
    w("with `--scale 640x360`. Veil coarse-only: `--min-face 4096 --min-person 4096`, the detectors'")
    w("default input on the whole frame only (the export before the minimum-size search, for its cost).")
    w("Veil `--changes-only 0`: every frame's faces searched in full (the default searches the two")
    w("frames after each full face search only where the picture changed, issue 26).")
    w("Frames per second of the whole command (wall clock, model loading")
    w("included), median over rounds with min-max; speed-ups are medians of per-round ratios.")
    w("Goal: at least 3x deface's fps at equal or better recall.")
    w("")
    w("| clip | tool | fps | CPU s per frame | peak RSS | Veil's speed-up over this |")
    w("|---|---|---|---|---|---|")
    groups = defaultdict(list)
    for r in exp:
        groups[(r["clip"], r["tool"], r["config"])].append(r)

    def export_ratios(clip, vconf, config):
        """Per-round ratios of Veil's fps (configuration `vconf`) over deface's (`config`)."""
        veil_by_round = {r["round"]: r["fps"] for r in groups[(clip, "veil", vconf)]}
        return [veil_by_round[r["round"]] / r["fps"] for r in groups[(clip, "deface", config)]
                if r["round"] in veil_by_round]

    bars = []
    for clip in ("720p", "1080p"):
        for tool, config in (("veil", "one-shot"), ("veil", "full-faces"), ("veil", "every-2"), ("veil", "coarse-only"),
                             ("deface", "640x360"), ("deface", "default")):
            rows = groups[(clip, tool, config)]
            if not rows:
                continue
            fps = [r["fps"] for r in rows]
            ratios = export_ratios(clip, "one-shot", config) if tool == "deface" else []
            cpf = med(r["cpu_s"] / r["frames"] for r in rows)
            label = {"one-shot": "Veil one-shot export", "every-2": "Veil one-shot, --every 2",
                     "full-faces": "Veil one-shot, --changes-only 0",
                     "coarse-only": "Veil coarse-only (no minimum-size search)"}.get(config) if tool == "veil" else f"deface {config}"
            rt = "" if tool == "veil" else (f"{med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds)" if ratios else "-")
            w(f"| {clip} | {label} | {med(fps):.2f} ({min(fps):.2f}-{max(fps):.2f}) | {cpf:.3f} | "
              f"{med(r['maxrss_kib'] for r in rows) / 1024:.0f} MiB | {rt} |")
            short = label.replace(" one-shot export", "").replace(" one-shot,", "").replace(" (no minimum-size search)", "")
            bars.append((f"{clip}\n{short}", med(fps), tool))
    w("")
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.bar(range(len(bars)), [b[1] for b in bars], color=["C0" if b[2] == "veil" else "C1" for b in bars])
    ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=7)
    ax.set_ylabel("frames per second")
    ax.set_title("Face redaction, whole command (higher is better)")
    w(chart("export.png"))
    w("")
if qual:
    w("### What each tool misses")
    w("")
    w("On the 49 annotated frames (6 faces each; 1080p: the upscaled clip, boxes scaled 1.5x).")
    w("**Recall**: annotated faces no longer recognisable in the output (16x16 thumbnail")
    w("correlation with the original below 0.9 and its detail band below 0.4;")
    w("crates/veil-redact/examples/face_recall.rs). **Precision**: the tool's face redactions that")
    w("lie on an annotated face (IoU >= 0.3): Veil's face boxes from its tracks file, deface's")
    w("changed regions found from pixels (scripts/bench/face_precision.py). **Area**: share of")
    w("the frame the output changed (Veil also blurs bystanders' bodies, by design). deface writes")
    w("1080p input as 1920x1088 (stretched); its output is scaled back before measuring.")
    w("")
    w("fps: of that single run (49 frames, model loading included; Veil: analyze + export).")
    w("")
    w("| clip | tool | recall | precision | face redactions | area changed | fps |")
    w("|---|---|---|---|---|---|---|")
    for q in qual:
        label = ("Veil" if q["config"] == "one-shot" else "Veil --every 2") if q["tool"] == "veil" else f"deface {q['config']}"
        w(f"| {q['clip']} | {label} | {q['recall']:.3f} ({q['hidden']}/{q['faces']}) | "
          f"{q['precision'] if q['precision'] is not None else '-'} | {q['regions']} | {q['redacted_area'] * 100:.0f}% | "
          f"{q.get('fps', '-')} |")
    w("")

# ---------------------------------------------------------------- identity cost
if crit and APPEARANCE:
    a_us = APPEARANCE["median_ns"] / 1000
    w("## Identity cost: appearance descriptors")
    w("")
    w("`cargo bench -p veil-track --bench appearance` (criterion, in the table above): one 1920x1080")
    w("I420 frame with 20 person boxes of 60 to 345 px, every box described (torso and legs colour")
    w("samples and the texture pass), as the analysis does per frame for the people in view.")
    w("")
    w("| what | time |")
    w("|---|---|")
    w(f"| 20 descriptors, 1080p frame | {fmt_us(a_us)} ({fmt_us(APPEARANCE['p10_ns'] / 1000)}-{fmt_us(APPEARANCE['p90_ns'] / 1000)}) |")
    w(f"| one descriptor | {fmt_us(a_us / 20)} |")
    one = [r for r in exp if r["clip"] == "1080p" and r["tool"] == "veil" and r["config"] == "one-shot"] if exp else []
    if one:
        per_frame_us = med(r["wall_s"] / r["frames"] for r in one) * 1e6
        w(f"| share of a 1080p one-shot export frame ({fmt_us(per_frame_us)} wall, table above), 20 people | "
          f"{a_us / per_frame_us * 100:.1f}% |")
    w("")

# ---------------------------------------------------------------- scaling
sc = load("scaling.jsonl")
if sc:
    w("## Scaling")
    w("")
    w("`scripts/bench/export.sh`, 2 rounds: the 49-frame clip at 720p, 1080p (upscaled) and 2160p")
    w("(upscaled); and at 720p with 0, 1, 3 or 6 people in view (everything right of a cut-off")
    w("blacked out, so the black part also encodes cheaply). Median fps of the whole command and")
    w("the peak resident memory.")
    w("")
    w("| clip | Veil fps | deface 640x360 fps | Veil peak RSS | deface peak RSS |")
    w("|---|---|---|---|---|")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    fig.suptitle("Face redaction, whole command (higher is better)", fontsize=11)
    for ax, kind, order, xl in ((axes[0], "resolution", ["720p", "1080p", "2160p"], "resolution"),
                                (axes[1], "people", ["0", "1", "3", "6"], "people in view (720p)")):
        for tool, config, lab in (("veil", "one-shot", "Veil"), ("deface", "640x360", "deface 640x360")):
            ys = []
            for clip in order:
                rows = [r for r in sc if r["kind"] == kind and r["tool"] == tool and str(r["clip"]) == clip]
                ys.append(med(r["fps"] for r in rows) if rows else float("nan"))
            ax.plot(order, ys, marker="o", label=lab)
        ax.set_xlabel(xl)
        ax.set_ylabel("frames per second")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    for kind, order in (("resolution", ["720p", "1080p", "2160p"]), ("people", ["0", "1", "3", "6"])):
        for clip in order:
            v = [r for r in sc if r["kind"] == kind and r["tool"] == "veil" and str(r["clip"]) == clip]
            d = [r for r in sc if r["kind"] == kind and r["tool"] == "deface" and str(r["clip"]) == clip]
            if not v:
                continue
            label = clip if kind == "resolution" else f"720p, {clip} in view"
            w(f"| {label} | {med(r['fps'] for r in v):.2f} | " + (f"{med(r['fps'] for r in d):.2f}" if d else "-")
              + f" | {med(r['maxrss_kib'] for r in v) / 1024:.0f} MiB | "
              + (f"{med(r['maxrss_kib'] for r in d) / 1024:.0f} MiB" if d else "-") + " |")
    w("")
    w(chart("scaling.png"))
    w("")

# ---------------------------------------------------------------- distant faces
dist = load("distant.jsonl")
dist_goal = []
if dist:
    thr = [r for r in dist if r["kind"] == "throughput"]
    drec = {(r["tool"], r["config"]): r for r in dist if r["kind"] == "recall"}
    w("## Distant faces")
    w("")
    w("`scripts/bench/export.sh` (step `distant`): 60 frames of 1080p, real photographs of people")
    w("(the group photo, four copies with faces of 18-23, 24-30, 32-40 and 39-48 px, three walking)")
    w("over the real vtest street scene (`crates/veil-redact/examples/distant_clip.rs`). Veil with")
    w("its defaults (`--min-face 24 --min-person 80`), Veil coarse-only (`--min-face 4096")
    w("--min-person 4096`: the detectors' default input on the whole frame only, as before) and")
    w("deface `--scale 640x360`, alternating over rounds; face recall by face height of the last")
    w("output of each (hidden = the 16x16 thumbnail no longer matches, as in the tests).")
    w("")
    w("| tool | fps (median) | CPU s | peak RSS | recall | 16-24 px | 24-32 px | 32-48 px | 48+ px |")
    w("|---|---|---|---|---|---|---|---|---|")
    for tool, config, label in (("veil", "one-shot", "Veil"), ("veil", "full-faces", "Veil --changes-only 0"),
                                ("veil", "coarse-only", "Veil coarse-only"), ("deface", "640x360", "deface 640x360")):
        rows = [r for r in thr if r["tool"] == tool and r["config"] == config]
        q = drec.get((tool, config))
        bs = q["by_size"] if q else {}
        cell = lambda k: f"{bs[k][0]}/{bs[k][1]}" if k in bs else "-"  # noqa: E731
        w(f"| {label} | {med(r['fps'] for r in rows):.2f} | {med(r['cpu_s'] for r in rows):.1f} | "
          f"{med(r['maxrss_kib'] for r in rows) / 1024:.0f} MiB | "
          f"{q['recall']:.3f} | {cell('16-24')} | {cell('24-32')} | {cell('32-48')} | {cell('48+')} |" if rows and q else f"| {label} | - | - | - | - | - | - | - | - |")
    w("")
    by = defaultdict(dict)
    for r in thr:
        by[r["round"]][(r["tool"], r["config"])] = r
    ratios = [d[("veil", "one-shot")]["fps"] / d[("deface", "640x360")]["fps"] for d in by.values()
              if ("veil", "one-shot") in d and ("deface", "640x360") in d]
    if ratios:
        dist_goal.append(("`redact export` on the 1080p distant-face clip no slower than deface --scale 640x360",
                          f"{med(ratios):.2f}x", med(ratios) >= 1.0))
    qv = drec.get(("veil", "one-shot"))
    if qv:
        big = [qv["by_size"][k] for k in ("24-32", "32-48", "48+") if k in qv["by_size"]]
        h, t = sum(b[0] for b in big), sum(b[1] for b in big)
        dist_goal.append(("no face of 24 px or more escapes (distant clip, 1080p)", f"{h}/{t} hidden", h == t))
# ---------------------------------------------------------------- GStreamer element
gstb = {r["id"]: r for r in load("gst.jsonl")}
gst_goals = []
if "gst/1080p/I420/identity" in gstb:
    ident = gstb["gst/1080p/I420/identity"]["median_ns"] / 1000
    w("## GStreamer element `veilmask`")
    w("")
    w("`scripts/bench/gst.sh` (criterion, `cargo bench -p veil-gst --bench element`): one 1080p I420")
    w("buffer pushed through a harness pipeline (source ! ELEMENT ! sink) and pulled back, again and")
    w("again (writable, so masked in place), the zones of scripts/bench/zones.toml (~15% of the")
    w("frame), one thread, timed as the thread's CPU time. *element* = `veilmask` minus `identity` in the same pipeline (both pay")
    w(f"the harness's push and pull, {fmt_us(ident)} here); *core* = `CaptureMasker::apply` on the")
    w("same layout; goal: element within 10% of core, and solid at most 2x a memset of the masked bytes.")
    w("")
    w("| style | veilmask | element | core | element / core | element / memset |")
    w("|---|---|---|---|---|---|")
    memset = gstb.get("gst/1080p/I420/solid/memset")
    for style in ("solid", "pixelate", "blur"):
        el, core = gstb.get(f"gst/1080p/I420/{style}/veilmask"), gstb.get(f"gst/1080p/I420/{style}/core")
        if not el or not core:
            continue
        e = el["median_ns"] / 1000 - ident
        c = core["median_ns"] / 1000
        m = f"{e / (memset['median_ns'] / 1000):.2f}x" if memset and style == "solid" else "-"
        w(f"| {style} | {fmt_us(el['median_ns'] / 1000)} | {fmt_us(e)} | {fmt_us(c)} | {e / c:.2f} | {m} |")
        gst_goals.append((f"`veilmask` element within 10% of veil-core's masking, 1080p {style}", f"{e / c:.2f}x", e / c <= 1.10))
        if memset and style == "solid":
            r = e / (memset["median_ns"] / 1000)
            gst_goals.append(("`veilmask` solid at most 2x memset of the masked bytes, 1080p", f"{r:.2f}x", r <= 2.0))
# ---------------------------------------------------------------- recording
rec = load("record.jsonl")
if rec:
    w("## Recording (`redact record`)")
    w("")
    w("`scripts/bench/record.sh`: one live 1080p25 camera (the vtest clip upscaled, H.264 with a 2 s")
    w("GOP, served in real time as MPEG-TS over HTTP on loopback), recorded with the recorder's")
    w("defaults (CRF 18, 1 s keyframes, fragmented MP4 segments). Cores = the recorder's CPU time")
    w("(decode + mask + encode) per second of footage; cameras per machine = cores / that, rounded")
    w("down (linear: nothing else running, memory bandwidth not saturated).")
    w("")
    w("| preset | cores per camera | GB per hour | GB per 28 days | cameras on 2 cores | on 16 cores |")
    w("|---|---|---|---|---|---|")
    for r in rec:
        w(f"| {r['preset']} | {r['cores_per_camera']:.2f} | {r['gb_per_hour']:.2f} | "
          f"{r['gb_per_hour'] * 24 * 28:.0f} | {r['cameras_2_cores']} | {r['cameras_16_cores']} |")
    w("")

# ---------------------------------------------------------------- recorder capacity
cap = load("capacity.jsonl")
cap_goals = []
if cap:
    caps = [r for r in cap if r["kind"] == "capacity"]
    runs = [r for r in cap if r["kind"] == "run"]
    w("## Recorder capacity")
    w("")
    w("`scripts/bench/capacity.sh`: N live 25 fps cameras (the vtest clip scaled to 1080p or 720p, H.264")
    w("with a 2 s GOP, each served in real time as MPEG-TS over HTTP on its own loopback port)")
    w("recorded together by one `redact record --cameras DIR` (x264, CRF 18, 10 s segments) for")
    w(f"{caps[0]['seconds'] if caps else '?'} s; N grows until a run does not keep up: a lag mark or lost frames in the")
    w("index, a lag or loss warning in the output, or a camera short of the frames of its real time")
    w("(3 s allowed for connecting). Cameras = the largest N that kept up; cores per camera = the")
    w("recorder's CPU time (user + sys) / N / the run's length at that N. Load average before each")
    w("run in the second table: on a machine busy with other work these are not capacity figures.")
    w("")
    w("| size | preset | cameras at real time, no frame lost | cores per camera |")
    w("|---|---|---|---|")
    for r in caps:
        n = f"{r['cameras']}" + (" or more (no more tried)" if r.get("reached_max") else "")
        w(f"| {r['height']}p25 | {r['preset']} | {n} | {r['cores_per_camera']:.2f} |")
    w("")
    w("| size | preset | N | kept up | least frames of a camera | lag marks | frames lost | CPU s | load before | why not |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        w(f"| {r['height']}p25 | {r['preset']} | {r['cameras']} | {'yes' if r['ok'] else '**no**'} | "
          f"{r['least_frames']} | {r['lag_marks']} | {r['frames_lost']} | {r['cpu_s']} | {r['load_before']} | "
          f"{'' if r['ok'] else r['why'].replace('_', ' ')} |")
    w("")
    at1080 = [r for r in caps if r["height"] == 1080]
    if at1080:
        top = max(at1080, key=lambda r: r["cameras"])
        cap_goals.append((f"four 1080p25 cameras recorded at real time with no frame lost on this machine's "
                          f"{env.get('cores', '?')} cores (issue 29)",
                          f"{top['cameras']} at {top['preset']}", top["cameras"] >= 4))

# ---------------------------------------------------------------- empty vs busy
eb = load("empty_busy.jsonl")
eb_goals = []
if eb:
    w("## Analysis cost follows activity: empty vs busy")
    w("")
    w("`scripts/bench/empty_busy.sh`: `redact analyze` (768x576, 10 fps) on `busy.mp4`, two 20 s visits")
    w("cut from the bundled clip, and on `empty.mp4`, 10 minutes of the clip's empty street (its")
    w("temporal median) held with sensor noise and a slow light change, the same two visits spliced")
    w("in. With the activity gate (`--full-search-every 1`, the default, and 3) frames that show the empty")
    w("background are not searched; `off` searches every frame. Medians over rounds (min-max).")
    w("")
    w("| clip | `--full-search-every` | frames | not searched | wall | CPU | frames per second | rounds |")
    w("|---|---|---|---|---|---|---|---|")
    cells = defaultdict(list)
    for r in eb:
        cells[(r["clip"], str(r["gate"]))].append(r)
    for (clip, gate), rs in sorted(cells.items()):
        walls = [r["wall_s"] for r in rs]
        w(f"| {clip} | {gate if gate == 'off' else gate + ' s'} | {rs[0]['frames']} | {med([r['skipped'] for r in rs]):.0f} | "
          f"{med(walls):.1f} s ({min(walls):.1f}-{max(walls):.1f}) | {med([r['cpu_s'] for r in rs]):.1f} s | "
          f"{med([r['fps'] for r in rs]):.1f} | {len(rs)} |")
    w("")
    by = defaultdict(dict)
    for r in eb:
        by[(r["round"], str(r["gate"]))][r["clip"]] = r
    for gate in sorted({g for (_, g) in by}, key=lambda g: (g == "off", float(g) if g != "off" else 0.0)):
        rs = [d["empty"]["wall_s"] / d["busy"]["wall_s"] for (rnd, g), d in by.items()
              if g == gate and "empty" in d and "busy" in d]
        cs = [d["empty"]["cpu_s"] / d["busy"]["cpu_s"] for (rnd, g), d in by.items()
              if g == gate and "empty" in d and "busy" in d]
        if rs:
            label = f"with the gate at {gate} s" if gate != "off" else "without the gate"
            w(f"Empty clip over busy clip, {label}: {med(rs):.2f}x wall (per-round ratios {min(rs):.2f}-{max(rs):.2f}), "
              f"{med(cs):.2f}x CPU.")
            w("")
            if gate != "off":
                default = " (the default)" if gate == "1" else ""
                eb_goals.append((f"`redact analyze` of a 10-minute mostly empty 768x576 clip at most 2.5x its 40 s of "
                                 f"visits alone, `--full-search-every {gate}`{default} (issue 31)",
                                 f"{med(rs):.2f}x wall, {med(cs):.2f}x CPU", med(rs) <= 2.5))

# ---------------------------------------------------------------- goals
goals = []
# Each step describes one commit: the first row says whether every step's tree was clean.
if STEP_ENV:
    commits = sorted({e.get("veil", "?") for e in STEP_ENV.values()})
    goals.append(("measured on clean commits", ", ".join(commits) + (f" (**dirty**: {'; '.join(DIRTY)})" if DIRTY else ""),
                  not DIRTY, None))


def tag(mark, step):
    """The goals appended since `mark` were measured by `step`."""
    goals[mark:] = [g if len(g) == 4 else (*g, step) for g in goals[mark:]]


mark = len(goals)


def wall_ratios(rows, clip, vconf="one-shot", dconf="640x360"):
    """Per-round ratios of Veil's wall time over deface's on the same input (same frames)."""
    by = defaultdict(dict)
    for r in rows:
        if r.get("clip") == clip and r.get("kind", "throughput") == "throughput":
            by[r["round"]][(r["tool"], r["config"])] = r
    return [d[("veil", vconf)]["wall_s"] / d[("deface", dconf)]["wall_s"] for d in by.values()
            if ("veil", vconf) in d and ("deface", dconf) in d]


NO_DEFACE = ("deface not measured (not installed: see run.sh)" if not STEP_ENV.get("export", {}).get("deface")
             else "no deface run in the results")
# Issue 26's targets: wall time against deface --scale 640x360 run alternately, and 1080p25.
if exp:
    rs = wall_ratios(exp, "720p")
    goals.append(("`redact export` wall time at most 0.5x deface --scale 640x360, 720p large faces (issue 26)",
                  f"{med(rs):.2f}x (median of {len(rs)} rounds)" if rs else NO_DEFACE, med(rs) <= 0.5 if rs else None))
if dist:
    rs = wall_ratios([r for r in dist if r["kind"] == "throughput"], "1080p")
    qv, qd = drec.get(("veil", "one-shot")), drec.get(("deface", "640x360"))

    def big(q):
        b = [q["by_size"][k] for k in ("24-32", "32-48", "48+") if k in q["by_size"]]
        return sum(x[0] for x in b), sum(x[1] for x in b)
    leak = ""
    ok_leak = False
    if qv:
        h, t = big(qv)
        ok_leak = h == t
        leak = f", Veil hides {h}/{t} faces of 24 px or more"
        if qd:
            leak += " (deface 640x360 {}/{})".format(*big(qd))
    goals.append(("`redact export` wall time at most 0.75x deface --scale 640x360, 1080p distant faces, "
                  "no face of 24 px or more leaked (issue 26)",
                  (f"{med(rs):.2f}x (median of {len(rs)} rounds)" if rs else NO_DEFACE) + leak,
                  (med(rs) <= 0.75 and ok_leak) if rs else None))
fps_rows = []
if dist:
    v = [r["fps"] for r in dist if r["kind"] == "throughput" and r["tool"] == "veil" and r["config"] == "one-shot"]
    if v:
        fps_rows.append(("distant-face clip", med(v)))
if exp:
    v = [r["fps"] for r in exp if r["clip"] == "1080p" and r["tool"] == "veil" and r["config"] == "one-shot"]
    if v:
        fps_rows.append(("group-pan clip", med(v)))
if fps_rows:
    goals.append((f"`redact export` at 1080p in real time (25 fps) on this machine's {env.get('cores', '?')} cores (issue 26)",
                  "; ".join(f"{f:.1f} fps on the {c} = {f / 25:.2f}x real time" for c, f in fps_rows),
                  min(f for _, f in fps_rows) >= 25))
goals += dist_goal
tag(mark, "export")
mark = len(goals)
if kern:
    for size in sorted({(r["width"], r["height"]) for r in kern}):
        vb = per_round(size, "solid", "veil", "memset", "veil")
        if vb:
            goals.append((f"solid masking within 2x of memset, {size[1]}p I420 (one thread)", f"{vb:.2f}x", vb <= 2.0))
    for size in sorted({(r["width"], r["height"]) for r in kern}):
        b = cells[size + ("blur", "veil")]
        if size == (1920, 1080) and b:
            t = mid(b)["median_us"]
            goals.append(("blur of the zones under 0.6 ms per 1080p frame (one thread)", fmt_us(t), t < 600))
tag(mark, "kernels")
mark = len(goals)
if mask:
    for style in ("solid", "blur"):
        if (style,) in rw:
            goals.append((f"`redact mask` at least as fast as FFmpeg ({style})", f"{rw[(style,)][0]:.2f}x", rw[(style,)][0] >= 1.0))
tag(mark, "mask_e2e")
mark = len(goals)
if exp:
    recall = {(q["tool"], q["config"], q["clip"]): q["recall"] for q in qual}
    for clip, vconf in (("720p", "one-shot"), ("1080p", "one-shot"), ("720p", "every-2"), ("1080p", "every-2")):
        for config in ("640x360", "default"):
            ratios = export_ratios(clip, vconf, config)
            note = ""
            if not ratios:  # deface default at 1080p: only the single quality run
                qv = [q for q in qual if q["tool"] == "veil" and q["config"] == vconf and q["clip"] == clip]
                qd = [q for q in qual if q["tool"] == "deface" and q["config"] == config and q["clip"] == clip]
                if qv and qd and "fps" in qv[0] and "fps" in qd[0]:
                    ratios, note = [qv[0]["fps"] / qd[0]["fps"]], " (one 49-frame run)"
            if not ratios:
                continue
            rv, rd = recall.get(("veil", vconf, clip)), recall.get(("deface", config, clip))
            ok_recall = rv is not None and rd is not None and rv >= rd
            rtxt = f"recall {rv:.3f} vs {rd:.3f}" if rv is not None and rd is not None else "recall not measured"
            mode = "" if vconf == "one-shot" else " (Veil `--every 2`)"
            goals.append((f"`redact export`{mode} >= 3x deface {config} fps at equal or better recall, {clip}",
                          f"{med(ratios):.2f}x{note}, {rtxt}", med(ratios) >= 3.0 and ok_recall))
if exp:
    by = defaultdict(dict)
    for r in exp:
        by[(r["round"], r["clip"])][r["config"] if r["tool"] == "veil" else "deface-" + r["config"]] = r
    for clip in ("720p", "1080p"):
        rs = [d["coarse-only"]["fps"] / d["one-shot"]["fps"] for (rnd, c), d in by.items()
              if c == clip and "coarse-only" in d and "one-shot" in d]
        if rs:
            goals.append((f"small-face and small-person search costs at most 25% on the bench clip, {clip}",
                          f"{med(rs):.2f}x the time of coarse-only", med(rs) <= 1.25))
tag(mark, "export")
for extra, step in ((gst_goals, "gst"), (cap_goals, "capacity"), (eb_goals, "empty_busy")):
    mark = len(goals)
    goals += extra
    tag(mark, step)
if goals:
    block = ["## Goals", "", "| goal | measured | step (commit) | met |", "|---|---|---|---|"]
    block += [f"| {g} | {m} | {'' if st is None else st + ' (' + STEP_ENV.get(st, {}).get('veil', '?') + ')'} "
              f"| {'not measured' if ok is None else 'yes' if ok else '**no**'} |" for g, m, ok, st in goals]
    md[GOALS_AT:GOALS_AT] = block + [""]

tmp = OUT + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(md).rstrip("\n") + "\n")
os.replace(tmp, OUT)
print(f"wrote {OUT} and charts in {CHARTS}")
