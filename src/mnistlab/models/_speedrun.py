"""The speedrun model: a small CNN from a layer spec whose initialisation compiles quickly.

Why a model of its own and not ``"cnn"``: on a 2-core CPU the 20-second budget of
``mnistlab speedrun`` counts every compilation, and Flax's ``init`` of a CNN draws each kernel
with its own threefry generator: compiling it took 3.5 s on the shared machine at a load of 5,
and 17 s against 3.4 s for this model's at a load of 10. Here all the weights come from ONE
counter-based hash of the key (a few integer multiplies and shifts per value,
:func:`hash_uniform`). The weights are LeCun-uniform (variance ``1 / fan_in``, what Flax's
default ``lecun_normal`` has), biases zero; ``apply`` is the layer-spec CNN's
(:class:`~mnistlab.models._modules.CNN`), so every fast convolution formulation applies.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ._layers import flat_features, parse_layers
from ._model import Model
from ._modules import CNN

_GOLDEN = 0x9E3779B9  # 2**32 / phi: spreads consecutive counters over the whole 32-bit range


def _mix(x):
    """lowbias32 (Chris Wellons' integer hash search): a bijection of uint32 with good avalanche."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def hash_uniform(key, n: int):
    """``n`` floats uniform in [-1, 1) from ``key`` (a raw ``uint32[2]`` key or a typed one).

    Counter-based like threefry (value ``i`` depends only on the key and ``i``), but two rounds
    of a 32-bit integer hash instead of twenty of a block cipher: fine for drawing initial
    weights, not meant for anything where the randomness is the point.
    """
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    key = key.reshape(-1).astype(jnp.uint32)
    counter = jnp.arange(n, dtype=jnp.uint32)
    x = _mix(counter * jnp.uint32(_GOLDEN) + key[0])
    x = _mix(x ^ key[-1])
    # The top 24 bits as a float in [0, 1): exact in float32.
    return (x >> 8).astype(jnp.float32) * (2.0 / (1 << 24)) - 1.0


def hashed_init(module, key, input_shape) -> dict:
    """``{"params": ...}`` shaped like ``module.init``'s, drawn with :func:`hash_uniform`:
    kernels LeCun-uniform (``fan_in`` = every axis but the last), biases zero."""
    zeros = jnp.zeros(tuple(input_shape), jnp.float32)
    shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0), zeros)  # shapes only: nothing compiled
    leaves, treedef = jax.tree.flatten(shapes)
    sizes = [math.prod(leaf.shape) for leaf in leaves]
    u = hash_uniform(key, sum(sizes))
    out, start = [], 0
    for leaf, size in zip(leaves, sizes, strict=True):
        if len(leaf.shape) < 2:  # a bias
            out.append(jnp.zeros(leaf.shape, leaf.dtype))
        else:
            fan_in = math.prod(leaf.shape[:-1])
            bound = math.sqrt(3.0 / fan_in)  # uniform(-b, b) has variance b**2 / 3 = 1 / fan_in
            out.append((bound * u[start : start + size]).reshape(leaf.shape).astype(leaf.dtype))
        start += size
    return jax.tree.unflatten(treedef, out)


def build_speedrun(*, layers: str, activation: str, num_classes: int, image_shape) -> Model:
    """The speedrun CNN: ``layers`` as in ``"cnn"``, initialised by :func:`hashed_init`."""
    flat_features(layers, image_shape)  # fail here, naming the layer, rather than inside XLA
    module = CNN(layers, num_classes, activation)

    def init(key, input_shape):
        return hashed_init(module, key, input_shape)

    def apply(params, x):
        return module.apply(params, x)

    return Model(
        name="speedrun",
        init=init,
        apply=apply,
        input_layout=parse_layers(layers)[0],
        kind="classifier",
        module=module,
    )
