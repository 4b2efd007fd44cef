//! Veil pipelines: analysis, inzage export, manifests
