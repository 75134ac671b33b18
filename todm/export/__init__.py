"""Exports of sliced subnets: ONNX (and sherpa-onnx's form), ExecuTorch, LiteRT; bundles."""

from todm.export.bundle_writer import export_bundle

__all__ = ["export_bundle"]
