"""Parameter initialisers by name, as ``(kernel_init, bias_init)`` pairs that Flax layers accept.

Each initialiser is a function ``init(key, shape, dtype) -> Array`` returning an array of exactly
``dtype`` (float64 too, when x64 is enabled). Kernels are ``(in, out)`` for dense layers and HWIO
``(kh, kw, in, out)`` for convolutions; a kernel's fans are ``fan_in = kh*kw*in`` and
``fan_out = kh*kw*out`` (just ``in`` and ``out`` for dense kernels).

========== ================================================================ ===============
name       definition                                                       default scale
========== ================================================================ ===============
default    Flax's: kernels lecun_normal (truncated normal, std               (none)
           ``1/sqrt(fan_in)``), biases zero
normal     weights AND biases ``N(0, scale**2)`` (studies S4, S8)            0.1
uniform    weights AND biases ``U(-scale, scale)`` (study S11)               0.1
s9         ``W = 4.9 * (U[0,1) - 0.5) * scale / sqrt(fan_in + fan_out)``,   1.0
           ``b = 0`` (study S9; ``scale`` is its ``init_range``)
glorot     weights glorot_normal (truncated normal, variance                 1e-6
           ``2/(fan_in + fan_out)``), biases ``N(0, scale**2)``: what
           ``jax.example_libraries.stax``'s Dense and Conv draw (S1-S3, S7)
========== ================================================================ ===============
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import flax.linen as nn
import jax
import jax.numpy as jnp

from ._options import resolve_scale  # the names and scales: light, read by every config check

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Array, PRNGKeyArray

Initializer = Callable[..., "Array"]  # a string: jaxtyping is imported for type checking only


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a dense ``(in, out)`` or HWIO ``(kh, kw, in, out)`` kernel."""
    if len(shape) < 2:
        raise ValueError(f"fans need a kernel of at least 2 dimensions; got shape {shape}")
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _normal(scale: float) -> Initializer:
    def init(key: PRNGKeyArray, shape, dtype=jnp.float32) -> Array:
        return scale * jax.random.normal(key, shape, dtype)

    return init


def _uniform(scale: float) -> Initializer:
    def init(key: PRNGKeyArray, shape, dtype=jnp.float32) -> Array:
        return jax.random.uniform(key, shape, dtype, minval=-scale, maxval=scale)

    return init


def _s9(scale: float) -> Initializer:
    def init(key: PRNGKeyArray, shape, dtype=jnp.float32) -> Array:
        fan_in, fan_out = fans(tuple(shape))
        # The bound folded into one Python float keeps the result in `dtype` (no float32 upcast).
        half_width = 4.9 * scale / math.sqrt(fan_in + fan_out)
        return half_width * (jax.random.uniform(key, shape, dtype) - 0.5)

    return init


def initializers(name: str = "default", scale: float | None = None) -> tuple[Initializer, Initializer]:
    """``(kernel_init, bias_init)`` for the initialiser ``name`` (one of :data:`INITIALIZERS`).

    ``scale`` is the standard deviation for ``"normal"``, the half-width for ``"uniform"`` and
    ``init_range`` for ``"s9"``, the biases' standard deviation for ``"glorot"``; ``None`` takes
    the default in the module docstring's table.
    ``"default"`` takes no scale.
    """
    scale = resolve_scale(name, scale)
    if name == "default":
        return nn.initializers.lecun_normal(), nn.initializers.zeros_init()
    if name == "normal":
        return _normal(scale), _normal(scale)
    if name == "uniform":
        return _uniform(scale), _uniform(scale)
    if name == "glorot":
        # The course's stax models (S1-S3, S7) drew these: Glorot-normal kernels, tiny normal biases.
        return nn.initializers.glorot_normal(), _normal(scale)
    return _s9(scale), nn.initializers.zeros_init()


__all__ = ["Initializer", "fans", "initializers"]
