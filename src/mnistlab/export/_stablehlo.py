"""StableHLO through ``jax.export``: a serialized program that JAX alone reloads and runs.

    exported = jax.export.deserialize(open("model.stablehlo", "rb").read())
    probabilities = exported.call(images)        # uint8 (batch, 28, 28) -> (batch, K)

The batch dimension is symbolic (any batch size; each new size compiles once). The program is
lowered for several platforms at once, so a file exported on a laptop's CPU runs on a GPU too;
the formulation of each convolution is chosen when the function is traced (see
:mod:`mnistlab.models`), which computes the same function on every platform.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..evaluate import LoadedRun
from ._function import probability_function

SUFFIX = ".stablehlo"
PLATFORMS = ("cpu", "cuda", "rocm", "tpu")
BATCH = "batch"  # the name of the symbolic batch dimension


def to_stablehlo(run: LoadedRun) -> tuple[bytes, dict]:
    """The run's probability function serialized by ``jax.export``, and what the sidecar says of it.

    Call inside ``mnistlab._compute.precision(run.config.dtype)``: a float64 run's program is
    traced with float64 arrays (and returns float64, which ``call`` gives back even where JAX's
    x64 mode is off).
    """
    import jax
    import jax.numpy as jnp

    spec = jax.ShapeDtypeStruct((*jax.export.symbolic_shape(BATCH), *run.image_shape), jnp.uint8)
    exported = jax.export.export(jax.jit(probability_function(run)), platforms=PLATFORMS)(spec)
    meta = {
        "platforms": list(exported.platforms),
        "calling_convention_version": exported.calling_convention_version,
        "load": "jax.export.deserialize(open(path, 'rb').read()).call(images)",
    }
    return bytes(exported.serialize()), meta


def stablehlo_predictor(blob: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """The deserialized program as ``images -> probabilities`` (what a user of the file runs)."""
    import jax

    exported = jax.export.deserialize(bytearray(blob))
    return lambda images: np.asarray(exported.call(images))
