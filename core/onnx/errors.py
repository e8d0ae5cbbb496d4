"""Errors of :func:`ember.onnx.export`."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """The model could not be exported to ONNX."""


class UnsupportedOperatorError(OnnxExporterError):
    """The forward pass used an operation (or an option of one) that the exporter cannot express."""
