#!/usr/bin/env python3
"""Experiment, not used by the build: static int8 (QDQ, per-channel) copies of the two
networks, calibrated on real frames, to measure what quantisation would buy.

    ffmpeg -i fixtures/vtest.mp4 -f rawvideo -pix_fmt yuv420p /tmp/vtest.yuv
    ffmpeg -i fixtures/inzage/group_pan.mp4 -f rawvideo -pix_fmt yuv420p /tmp/group.yuv
    python3 quantize_int8.py models/ OUT_DIR/     (needs onnx, onnxruntime >= 1.20, numpy)

Writes OUT_DIR/centerface_int8.onnx (opset 13; all ops) and OUT_DIR/nanodet_int8.onnx
(input H/W symbolic; Conv only: quantising the heads too made every person score 0) and
prints the single-thread time of each against the float model. Use OUT_DIR as a models
directory by writing a manifest.tsv with the files' SHA-256 (see models/manifest.tsv).
"""
import sys, time
import numpy as np, onnx, onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import quantize_static, CalibrationDataReader, QuantType, QuantFormat
from onnxruntime.quantization.shape_inference import quant_pre_process

src, out = sys.argv[1], sys.argv[2]


def frames(path, w, h, n, step, side, gain):
    """n frames (every step-th) of a raw I420 file, BT.601 limited range to RGB, nearest
    scaled to `side` wide, padded to a multiple of 32 high: the networks' input layout."""
    raw = np.fromfile(path, dtype=np.uint8)
    sz = w * h * 3 // 2
    res = []
    for k in range(0, min(n * step, len(raw) // sz), step):
        f = raw[k * sz:(k + 1) * sz]
        y = f[:w * h].reshape(h, w).astype(np.float32)
        u = f[w * h:w * h + w * h // 4].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1).astype(np.float32) - 128
        v = f[w * h + w * h // 4:].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1).astype(np.float32) - 128
        yy = (y - 16) * 1.164
        rgb = np.stack([yy + 1.596 * v, yy - 0.392 * u - 0.813 * v, yy + 2.017 * u]).clip(0, 255) * gain
        s = side / w
        nh = int(round(h * s))
        img = rgb[:, (np.arange(nh) / s).astype(int)][:, :, (np.arange(side) / s).astype(int)]
        t = np.zeros((1, 3, (nh + 31) // 32 * 32, side), np.float32)
        t[:, :, :nh, :] = img
        res.append(t)
    return res


class Reader(CalibrationDataReader):
    def __init__(self, name, data):
        self.it = iter([{name: d} for d in data])

    def get_next(self):
        return next(self.it, None)


def cpu_ms(path, name, x):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
    for _ in range(3):
        s.run(None, {name: x})
    ts = []
    for _ in range(10):
        t = time.thread_time()
        s.run(None, {name: x})
        ts.append(time.thread_time() - t)
    return sorted(ts)[5] * 1000


def calib(side, gain):
    return (frames("/tmp/vtest.yuv", 768, 576, 12, 12, side, gain)
            + frames("/tmp/group.yuv", 1280, 720, 8, 6, side, gain))


cal = calib(640, 1.0)
onnx.save(version_converter.convert_version(onnx.load(f"{src}/centerface.onnx"), 13), f"{out}/cf13.onnx")
quant_pre_process(f"{out}/cf13.onnx", f"{out}/cf_pre.onnx", skip_symbolic_shape=True)
quantize_static(f"{out}/cf_pre.onnx", f"{out}/centerface_int8.onnx", Reader("input.1", cal),
                quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
print("centerface 640x384: float %.1f ms, int8 %.1f ms" % (
    cpu_ms(f"{src}/centerface.onnx", "input.1", cal[-1]),
    cpu_ms(f"{out}/centerface_int8.onnx", "input.1", cal[-1])))

cal = calib(416, 1.0 / 255)
m = onnx.load(f"{src}/nanodet-m-416.onnx")
d = m.graph.input[0].type.tensor_type.shape.dim
d[2].dim_param, d[3].dim_param = "H", "W"
onnx.save(m, f"{out}/nd_sym.onnx")
quant_pre_process(f"{out}/nd_sym.onnx", f"{out}/nd_pre.onnx", skip_symbolic_shape=True)
quantize_static(f"{out}/nd_pre.onnx", f"{out}/nanodet_int8.onnx", Reader("input_1:0", cal),
                op_types_to_quantize=["Conv"], quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
print("nanodet 416x256: float %.1f ms, int8 %.1f ms" % (
    cpu_ms(f"{out}/nd_sym.onnx", "input_1:0", cal[-1]),
    cpu_ms(f"{out}/nanodet_int8.onnx", "input_1:0", cal[-1])))
