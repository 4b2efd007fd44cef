//! Face and person detection for Veil over ONNX Runtime
