"""Exporting a trained classifier for other runtimes: StableHLO (``jax.export``) and ONNX.

Both formats hold one function, uint8 images ``(batch, 28, 28)`` -> class probabilities
``(batch, K)``, with the run's preprocessing (scaling, normalisation with the run's own
statistics, input layout) and its seed ensemble built in, so the file's user needs nothing from
mnistlab. ``<file>.json`` beside it records the input, output, class names, preprocessing, run,
versions and how well the file agrees with mnistlab on the run's test set.

>>> from mnistlab.export import export
>>> res = export("runs/mlp", "stablehlo")          # runs/mlp/export/model.stablehlo (+ .json)
>>> res.info["check"]["argmax_agreement"]           # 1.0: checked before writing
>>> import jax                                      # ... later, anywhere, with JAX alone:
>>> f = jax.export.deserialize(open(res.path, "rb").read())
>>> probs = f.call(images)                          # images: uint8 (n, 28, 28)

ONNX needs the ``onnx`` extra (``pip install 'mnistlab[onnx]'``: jax2onnx, onnx, onnxruntime).
"""

from ._export import EXPORT_DIR, FORMATS, SUFFIXES, ExportResult, agreement, export, sidecar_path
from ._function import preprocessing, probability_function
from ._onnx import OPSET, onnx_predictor
from ._stablehlo import PLATFORMS, stablehlo_predictor

__all__ = [
    "EXPORT_DIR",
    "FORMATS",
    "OPSET",
    "PLATFORMS",
    "SUFFIXES",
    "ExportResult",
    "agreement",
    "export",
    "onnx_predictor",
    "preprocessing",
    "probability_function",
    "sidecar_path",
    "stablehlo_predictor",
]
