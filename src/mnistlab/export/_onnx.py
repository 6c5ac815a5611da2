"""ONNX through jax2onnx (the ``onnx`` extra), run back in onnxruntime to check it.

jax2onnx converts the traced jaxpr op by op (matmuls to ``Gemm``, the matmul formulations of
the CPU convolutions to ``Einsum``, ...), so the exported graph is the same function as
mnistlab's, computed by onnxruntime's kernels: probabilities differ in the last float32 bits
(the sums run in another order), which :func:`~mnistlab.export.export` measures on the test set.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from .._errors import DataError
from ..evaluate import LoadedRun
from ._function import INPUT_NAME, OUTPUT_NAME, probability_function

SUFFIX = ".onnx"
# Opset 18 (ONNX 1.13, 2022): onnxruntime has run it since 1.14, and it has every operator the
# converted models use; jax2onnx's default, 23, would shut out runtimes older than 2025.
OPSET = 18
PACKAGES = ("jax2onnx", "onnx", "onnxruntime")
INSTALL = "pip install 'mnistlab[onnx]'"


def require_onnx() -> None:
    """A one-line error naming the extra when a package of the ``onnx`` extra is missing."""
    missing = [p for p in PACKAGES if importlib.util.find_spec(p) is None]
    if missing:
        raise DataError(f"--format onnx needs {', '.join(missing)} (not installed): {INSTALL}")


def onnx_versions() -> dict[str, str]:
    import importlib.metadata as md

    return {p: md.version(p) for p in PACKAGES}


@contextlib.contextmanager
def _quiet_converter() -> Iterator[None]:
    # onnx_ir logs a WARNING for every shape constant whose type it leaves unset; the graph is
    # valid (onnxruntime checks it), and the lines would bury the command's own output.
    logger = logging.getLogger("onnx_ir")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # jax2onnx's jnp.where asks for a float64 constant, which a float32 trace truncates to
            # float32: what the float32 model computes anyway.
            warnings.filterwarnings("ignore", "Explicitly requested dtype float64", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def to_onnx(run: LoadedRun) -> tuple[bytes, dict]:
    """The run's probability function as a serialized ONNX model, and what the sidecar says of it."""
    require_onnx()
    import jax
    import jax.numpy as jnp
    from jax2onnx import to_onnx as convert

    # A named dimension: jax2onnx's spelling of a symbolic batch size.
    spec = jax.ShapeDtypeStruct(("batch", *run.image_shape), jnp.uint8)
    name = f"mnistlab-{run.config.model}"
    try:
        with _quiet_converter():
            model = convert(
                probability_function(run, unrolled=True),
                inputs=[spec],
                model_name=name,
                opset=OPSET,
                enable_double_precision=run.config.dtype == "float64",
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
            )
    except Exception as exc:  # a converter's limit, not our bug: say which model and why
        first = (str(exc).strip().splitlines() or [""])[0]
        raise DataError(
            f"jax2onnx cannot convert model {run.config.model} of {run.run_dir}: "
            f"{type(exc).__name__}: {first}; --format stablehlo exports every classifier"
        ) from exc
    return model.SerializeToString(), {"opset": OPSET, "ir_version": int(model.ir_version)}


def onnx_predictor(blob: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """The model in onnxruntime (CPU) as ``images -> probabilities``."""
    require_onnx()
    import onnxruntime as ort

    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return lambda images: session.run([OUTPUT_NAME], {INPUT_NAME: np.asarray(images, np.uint8)})[0]
