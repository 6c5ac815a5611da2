"""The named models' Flax linen modules.

Every module returns raw outputs: logits for classifiers (the loss applies log-softmax), one logit
per example for binary models, and sigmoid reconstructions for the autoencoder. Convolutions and
pooling go through :func:`~mnistlab.models._conv.conv2d`, :func:`~mnistlab.models._pool.max_pool`
and :func:`~mnistlab.models._pool.avg_pool`, so each backend gets its fastest formulation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import flax.linen as nn
import jax.numpy as jnp
from flax.linen.dtypes import promote_dtype

from .._errors import ConfigError
from ._conv import conv2d
from ._layers import CNN_LAYERS, ConvLayer, PoolLayer, parse_layers
from ._options import check_activation
from ._pool import avg_pool, max_pool

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Array, Float

_ACTIVATION_FNS: dict[str, Callable[[Array], Array]] = {
    "relu": nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": nn.sigmoid,
    "gelu": nn.gelu,
}


def activation_fn(name: str) -> Callable[[Array], Array]:
    """The function of the activation ``name`` (one of :data:`ACTIVATIONS`)."""
    return _ACTIVATION_FNS[check_activation(name)]


class Conv2D(nn.Module):
    """A convolution with bias through :func:`conv2d` (HWIO kernel, NHWC or NCHW input).

    With ``max_pool=(window, stride)`` the output is max-pooled before the bias is added: the same
    values (a maximum commutes with adding a constant, rounding being monotone), with the bias
    added to, and its gradient summed over, the pooled array only.
    """

    features: int
    size: int
    stride: int = 1
    padding: str = "VALID"
    layout: str = "NHWC"
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()
    param_dtype: Any = jnp.float32
    max_pool: tuple[int, int] | None = None

    @nn.compact
    def __call__(self, x: Float[Array, "b ..."]) -> Float[Array, "b ..."]:
        in_features = x.shape[-1] if self.layout == "NHWC" else x.shape[-3]
        kernel = self.param(
            "kernel", self.kernel_init, (self.size, self.size, in_features, self.features), self.param_dtype
        )
        bias = self.param("bias", self.bias_init, (self.features,), self.param_dtype)
        # Like nn.Dense with dtype=None: compute in the promoted dtype of input and params.
        x, kernel, bias = promote_dtype(x, kernel, bias)
        y = conv2d(x, kernel, stride=self.stride, padding=self.padding, layout=self.layout)
        if self.max_pool is not None:
            window, stride = self.max_pool
            y = max_pool(y, window=window, stride=stride, layout=self.layout)
        return y + (bias if self.layout == "NHWC" else bias[:, None, None])


class SoftmaxRegression(nn.Module):
    """One ``Dense(num_classes)`` on flat images; returns logits (S1)."""

    num_classes: int = 10
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    @nn.compact
    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, "b c"]:
        return nn.Dense(self.num_classes, kernel_init=self.kernel_init, bias_init=self.bias_init, name="out")(
            x
        )


class MLP(nn.Module):
    """Fully connected net on flat inputs: ``widths`` hidden layers with ``activation``, then a linear
    ``Dense(num_outputs)`` (without bias if not ``output_bias``, as S11's ``W2 sigmoid(W1 x + b)``);
    returns logits. ``encode`` returns the last hidden layer's activations."""

    widths: Sequence[int] = (512, 256)
    activation: str = "relu"
    num_outputs: int = 10
    output_bias: bool = True
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    def setup(self):
        dense = dict(kernel_init=self.kernel_init, bias_init=self.bias_init)
        self.hidden = [nn.Dense(w, **dense) for w in self.widths]
        self.out = nn.Dense(self.num_outputs, use_bias=self.output_bias, **dense)

    def encode(self, x: Float[Array, "b d"]) -> Float[Array, "b k"]:
        act = activation_fn(self.activation)
        for layer in self.hidden:
            x = act(layer(x))
        return x

    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, "b c"]:
        return self.out(self.encode(x))


class BinaryMLP(MLP):
    """An :class:`MLP` with one output, squeezed: returns the positive class's logit, shape ``(b,)``."""

    widths: Sequence[int] = (256, 64)
    num_outputs: int = 1

    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, " b"]:
        if self.num_outputs != 1:
            raise ConfigError(f"num_outputs of a BinaryMLP must be 1; got {self.num_outputs!r}")
        return super().__call__(x)[..., 0]


def _pool_first(activation: str, conv: ConvLayer, after) -> bool:
    """Whether to max-pool a conv's output before its bias and ReLU rather than after them: the
    same function on a fraction of the array (a quarter for 2x2 tiles).

    The values are the same bit for bit: a maximum commutes with adding a constant (rounding is
    monotone) and with a ReLU (monotone). So are the gradients, but for one case: where rounding
    makes two values of a window tie once the bias is added, the gradient goes to the larger one
    before rounding instead of to the first of the tied. (The ReLU's part is exact: where a
    window's maximum is positive the same position holds it, where not its gradient is 0.)
    Measured in the engine's epoch, interleaved: pooling before the ReLU made the default CNN 8%
    faster and S7 3%, and adding the bias after pooling too made the CNN another 8.5% faster
    (6.7 -> 6.1 s; S7 unchanged). After a strided convolution (the speedrun's first layer)
    pooling first was 4% slower, so only at stride 1.
    """
    return activation == "relu" and conv.stride == 1 and isinstance(after, PoolLayer) and after.op == "max"


def _crop_to_pooled(x, conv: ConvLayer, after, layout: str):
    """``x`` without the trailing rows and columns that only feed outputs the pooling after
    ``conv`` drops (a VALID pool of 2x2 tiles reads 10 of 11 rows): the same values, and the same
    gradients (those rows' are 0 either way). The default CNN's second layer then computes 10x10
    outputs instead of 11x11: its epoch went from 7.6 to 7.0 s (the engine, interleaved)."""
    if not isinstance(after, PoolLayer) or conv.padding != "VALID":
        return x
    hw = x.shape[-3:-1] if layout == "NHWC" else x.shape[-2:]
    keep = []
    for size in hw:
        out = (size - conv.size) // conv.stride + 1
        used = (out - after.window) // after.stride * after.stride + after.window
        keep.append((used - 1) * conv.stride + conv.size)
    if tuple(keep) == tuple(hw):
        return x
    if layout == "NHWC":
        return x[..., : keep[0], : keep[1], :]
    return x[..., : keep[0], : keep[1]]


class CNN(nn.Module):
    """A CNN from a layer spec (see :data:`LAYERS_GRAMMAR`): the activation after every conv and
    hidden dense layer, a flatten (in the layout's natural order: NCHW flattens C, H, W) before the
    first dense, and a final linear ``Dense(num_classes)``; returns logits.

    Input is ``(b, h, w, 1)`` for NHWC specs and ``(b, 1, h, w)`` for ``"nchw,..."`` ones.
    """

    layers: str = CNN_LAYERS
    num_classes: int = 10
    activation: str = "relu"
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    @property
    def layout(self) -> str:
        return parse_layers(self.layers)[0]

    @nn.compact
    def __call__(self, x: Float[Array, "b ..."]) -> Float[Array, "b c"]:
        layout, layers = parse_layers(self.layers)
        act = activation_fn(self.activation)
        init = dict(kernel_init=self.kernel_init, bias_init=self.bias_init)
        flat = False
        n_conv = n_dense = 0
        pooled = None  # the pool layer already applied with the conv before it
        for layer, after in zip(layers, [*layers[1:], None], strict=True):
            if isinstance(layer, ConvLayer):
                pooled = after if _pool_first(self.activation, layer, after) else None
                conv = Conv2D(
                    layer.features,
                    layer.size,
                    layer.stride,
                    layer.padding,
                    layout,
                    **init,
                    max_pool=(after.window, after.stride) if pooled else None,
                    name=f"conv_{n_conv}",
                )
                x = act(conv(_crop_to_pooled(x, layer, after, layout)))
                n_conv += 1
            elif isinstance(layer, PoolLayer):
                if layer is not pooled:
                    pool = avg_pool if layer.op == "avg" else max_pool
                    x = pool(x, window=layer.window, stride=layer.stride, layout=layout)
            else:
                if not flat:
                    x, flat = x.reshape(*x.shape[:-3], -1), True
                x = act(nn.Dense(layer.width, **init, name=f"dense_{n_dense}")(x))
                n_dense += 1
        if not flat:
            x = x.reshape(*x.shape[:-3], -1)
        return nn.Dense(self.num_classes, **init, name="out")(x)


class Autoencoder(nn.Module):
    """Fully connected autoencoder on flat images in [0, 1].

    Encoder: ``encoder_widths`` hidden layers with ``activation``, then a linear ``bottleneck``
    layer; the decoder mirrors the hidden layers and ends in ``Dense(out_features)`` and a sigmoid.
    ``__call__`` returns reconstructions ``(b, out_features)``; ``encode`` returns the codes.
    """

    encoder_widths: Sequence[int] = (256,)
    bottleneck: int = 64
    activation: str = "relu"
    out_features: int = 784
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    def setup(self):
        dense = dict(kernel_init=self.kernel_init, bias_init=self.bias_init)
        self.encoder = [nn.Dense(w, **dense) for w in self.encoder_widths]
        # A linear code: a ReLU at the narrowest layer can kill code units for good, and the features
        # feed a linear classifier (S10) that does not need them squashed.
        self.code = nn.Dense(self.bottleneck, **dense)
        self.decoder = [nn.Dense(w, **dense) for w in reversed(self.encoder_widths)]
        self.out = nn.Dense(self.out_features, **dense)

    def encode(self, x: Float[Array, "b d"]) -> Float[Array, "b k"]:
        if x.shape[-1] != self.out_features:
            raise ConfigError(
                f"this autoencoder reconstructs {self.out_features} pixels, so its input must have "
                f"{self.out_features} features; got shape {x.shape}"
            )
        act = activation_fn(self.activation)
        for layer in self.encoder:
            x = act(layer(x))
        return self.code(x)

    def decode(self, z: Float[Array, "b k"]) -> Float[Array, "b d"]:
        act = activation_fn(self.activation)
        for layer in self.decoder:
            z = act(layer(z))
        return nn.sigmoid(self.out(z))

    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, "b d"]:
        return self.decode(self.encode(x))


__all__ = [
    "CNN",
    "CNN_LAYERS",
    "MLP",
    "Autoencoder",
    "BinaryMLP",
    "Conv2D",
    "SoftmaxRegression",
    "activation_fn",
]
