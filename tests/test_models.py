"""Named models, layer specs, initialisers and as_model."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mnistlab import ConfigError
from mnistlab.models import (
    ACTIVATIONS,
    CNN_LAYERS,
    CNN_PRESETS,
    INITIALIZERS,
    MLP,
    MODEL_NAMES,
    ConvLayer,
    DenseLayer,
    FeatureModel,
    Model,
    PoolLayer,
    _modules,
    as_model,
    build_model,
    flat_features,
    format_layers,
    initializers,
    parse_layers,
)

# "rbg" keys compile several times faster than threefry ones on CPU; these tests check shapes and
# statistics, which do not depend on the random stream.
KEY = jax.random.key(0, impl="rbg")
BATCH = 2
INPUT_SHAPES = {"flat": (BATCH, 784), "NHWC": (BATCH, 28, 28, 1), "NCHW": (BATCH, 1, 28, 28)}
OUTPUT_SHAPES = {"classifier": (BATCH, 10), "binary": (BATCH,), "autoencoder": (BATCH, 784)}


def abstract_init(model: Model, input_shape) -> dict:
    """The shapes and dtypes of ``model.init(KEY, input_shape)``, without computing it."""
    return jax.eval_shape(lambda key: model.init(key, input_shape), KEY)


def cast(tree, dtype):
    return jax.tree.map(lambda a: a.astype(dtype), tree)


@dataclass
class Built:
    model: Model
    x: np.ndarray  # float32 inputs in [0, 1)
    stacked: dict  # params of 3 models (random values, shaped like a vmapped init over 3 keys)
    ys: jax.Array  # their float32 outputs on x, from a vmapped apply
    params: dict  # the first model's params
    y: jax.Array  # and outputs


# On a small shared CPU the XLA compiles are what takes the time, so each named model's init is traced
# (which decides shapes and dtypes just the same) and run for real only in
# test_vmapped_init_for_real_passes_the_initializer_to_every_layer; float64 and bfloat16 applies are
# compiled only for the models listed here.
COMPILED = {"float64": ("binary-mlp",), "bfloat16": ("mlp",)}  # S8 trains binary-mlp in float64


@pytest.fixture(scope="module", params=MODEL_NAMES)
def built(request) -> Built:
    """Each named model with params for 3 models and their outputs, from one compile of a vmapped apply."""
    model = build_model(request.param)
    shape = INPUT_SHAPES[model.input_layout]
    rng = np.random.default_rng(0)
    x = rng.random(shape, dtype=np.float32)
    abstract = jax.eval_shape(jax.vmap(lambda key: model.init(key, shape)), jax.random.split(KEY, 3))
    stacked = jax.tree.map(lambda a: (rng.standard_normal(a.shape) * 0.1).astype(a.dtype), abstract)
    ys = jax.jit(jax.vmap(model.apply, in_axes=(0, None)))(stacked, x)
    return Built(model, x, stacked, ys, jax.tree.map(lambda a: a[0], stacked), ys[0])


def check_dtype(built: Built, dtype) -> None:
    params, x = cast(built.params, dtype), built.x.astype(dtype)
    expected = jax.ShapeDtypeStruct(OUTPUT_SHAPES[built.model.kind], jnp.dtype(dtype))
    assert jax.eval_shape(built.model.apply, params, x) == expected
    if built.model.name in COMPILED[jnp.dtype(dtype).name]:
        y = jax.jit(built.model.apply)(params, x)
        assert y.dtype == jnp.dtype(dtype)
        # The same function as in float32.
        tol = 1e-5 if dtype == jnp.float64 else 0.05
        np.testing.assert_allclose(np.asarray(y, np.float64), built.y, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------------------------
# Every named model


def test_float32_outputs(built):
    expected = jax.ShapeDtypeStruct(OUTPUT_SHAPES[built.model.kind], jnp.float32)
    assert jax.eval_shape(built.model.apply, built.params, built.x) == expected
    assert built.y.shape == expected.shape
    assert built.y.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(built.y)))
    if built.model.kind == "autoencoder":
        assert bool(jnp.all((built.y > 0) & (built.y < 1)))


def test_init_gives_float32_params(built):
    params = abstract_init(built.model, built.x.shape)
    assert list(params) == ["params"]
    assert {leaf.dtype for leaf in jax.tree.leaves(params)} == {jnp.dtype(jnp.float32)}


def test_float64_params_and_inputs_give_float64(built, x64):
    check_dtype(built, jnp.float64)


def test_bfloat16_params_and_inputs_give_bfloat16(built):
    check_dtype(built, jnp.bfloat16)


def test_vmap_init_and_apply(built):
    single = abstract_init(built.model, built.x.shape)
    assert jax.tree.structure(built.stacked) == jax.tree.structure(single)
    for stacked, one in zip(jax.tree.leaves(built.stacked), jax.tree.leaves(single), strict=True):
        assert stacked.shape == (3, *one.shape)
    assert built.ys.shape == (3, *OUTPUT_SHAPES[built.model.kind])
    assert not np.allclose(built.ys[0], built.ys[1])


def test_model_fields(built):
    model = built.model
    assert model.name == model.spec["name"]
    expected = {"cnn-s3": ("NCHW", "classifier"), "cnn": ("NHWC", "classifier")}
    expected |= {"cnn-s7": ("NHWC", "classifier"), "binary-mlp": ("flat", "binary")}
    expected |= {"autoencoder": ("flat", "autoencoder"), "lenet5": ("NHWC", "classifier")}
    expected |= {"speedrun": ("NHWC", "classifier")}
    assert (model.input_layout, model.kind) == expected.get(model.name, ("flat", "classifier"))
    assert isinstance(model.module, nn.Module)


def test_spec_round_trip_of_defaults(built):
    spec = json.loads(json.dumps(built.model.spec))
    assert spec == built.model.spec
    rebuilt = build_model(**spec)
    assert rebuilt.spec == built.model.spec
    shape = INPUT_SHAPES[rebuilt.input_layout]
    assert abstract_init(rebuilt, shape) == abstract_init(built.model, shape)


# ----------------------------------------------------------------------------------------------
# Architectures


def n_params(params) -> int:
    return sum(leaf.size for leaf in jax.tree.leaves(params))


def shapes(model: Model) -> dict:
    variables = abstract_init(model, INPUT_SHAPES[model.input_layout])
    return jax.tree.map(lambda a: a.shape, variables["params"])


def test_cnn_s3_parameters_and_flatten_size():
    # 28x28 -> conv 4x4 stride 4: (28-4)//4+1 = 7 -> conv 3x3: 5, with 32 channels: 5*5*32 = 800.
    conv1 = 4 * 4 * 1 * 16 + 16  # 272
    conv2 = 3 * 3 * 16 * 32 + 32  # 4,640
    dense = 800 * 256 + 256  # 205,056
    out = 256 * 10 + 10  # 2,570
    assert conv1 + conv2 + dense + out == 212_538
    model = build_model("cnn-s3")
    assert n_params(abstract_init(model, (1, 1, 28, 28))) == 212_538
    assert shapes(model)["dense_0"]["kernel"] == (800, 256)
    assert flat_features(CNN_PRESETS["cnn-s3"]) == 800


def test_cnn_s7_parameters_and_flatten_size():
    # 28 -> conv 5x5: 24 -> pool 2 stride 1: 23 -> conv 5x5: 19 -> pool: 18; 18*18*16 = 5184.
    conv1 = 5 * 5 * 1 * 12 + 12  # 312
    conv2 = 5 * 5 * 12 * 16 + 16  # 4,816
    dense1 = 5184 * 120 + 120  # 622,200
    dense2 = 120 * 84 + 84  # 10,164
    out = 84 * 10 + 10  # 850
    assert conv1 + conv2 + dense1 + dense2 + out == 638_342
    model = build_model("cnn-s7")
    assert n_params(abstract_init(model, (1, 28, 28, 1))) == 638_342
    assert shapes(model)["dense_0"]["kernel"] == (5184, 120)
    assert flat_features(CNN_PRESETS["cnn-s7"]) == 5184


def test_default_cnn_is_the_one_constant():
    # 28 -> conv 3x3: 26 -> pool 2: 13 -> conv 3x3: 11 -> pool 2: 5; 5*5*64 = 1600.
    assert CNN_PRESETS["cnn"] == CNN_LAYERS == "conv32k3,pool2,conv64k3,pool2,dense128"
    model = build_model("cnn")
    assert model.spec["layers"] == CNN_LAYERS
    assert {k: v["kernel"] for k, v in shapes(model).items()} == {
        "conv_0": (3, 3, 1, 32),
        "conv_1": (3, 3, 32, 64),
        "dense_0": (1600, 128),
        "out": (128, 10),
    }


def test_mlp_and_autoencoder_structures():
    def kernels(model):
        return {name: layer["kernel"] for name, layer in shapes(model).items()}

    assert kernels(build_model("mlp")) == {"hidden_0": (784, 512), "hidden_1": (512, 256), "out": (256, 10)}
    s4 = build_model("mlp", widths=(1024, 128), activation="tanh", init="normal")
    assert kernels(s4) == {"hidden_0": (784, 1024), "hidden_1": (1024, 128), "out": (128, 10)}
    assert kernels(build_model("binary-mlp")) == {
        "hidden_0": (784, 256),
        "hidden_1": (256, 64),
        "out": (64, 1),
    }
    # S11's o = W2 sigmoid(W1 x + b): no output bias.
    s11 = as_model(MLP((16,), "sigmoid", 200, output_bias=False), kind="autoencoder")
    assert jax.tree.map(lambda a: a.shape, abstract_init(s11, (1, 200))["params"]) == {
        "hidden_0": {"kernel": (200, 16), "bias": (16,)},
        "out": {"kernel": (16, 200)},
    }
    ae = shapes(build_model("autoencoder", widths=(512, 256, 32)))
    assert ae["encoder_0"]["kernel"] == (784, 512)
    assert ae["encoder_1"]["kernel"] == (512, 256)
    assert ae["code"]["kernel"] == (256, 32)
    assert ae["decoder_0"]["kernel"] == (32, 256)
    assert ae["decoder_1"]["kernel"] == (256, 512)
    assert ae["out"]["kernel"] == (512, 784)
    assert shapes(build_model("softmax", num_classes=3)) == {"out": {"kernel": (784, 3), "bias": (3,)}}


@pytest.mark.parametrize("built", ["mlp", "binary-mlp", "autoencoder"], indirect=True)
def test_encode_gives_features(built):
    assert isinstance(built.model, FeatureModel)
    z = jax.eval_shape(built.model.encode, built.params, built.x)
    width = {"mlp": 256, "binary-mlp": 64, "autoencoder": 64}[built.model.name]
    assert z == jax.ShapeDtypeStruct((BATCH, width), jnp.float32)


@pytest.mark.parametrize("built", ["cnn-s3"], indirect=True)
def test_nchw_flattens_channels_then_rows_then_columns(built):
    # The same net in NHWC gives the same logits once the first dense kernel's rows are reordered
    # from NCHW's (c, h, w) flatten order to NHWC's (h, w, c).
    nhwc = build_model("cnn", layers=CNN_PRESETS["cnn-s3"].removeprefix("nchw,"))
    params = jax.tree.map(lambda a: a, built.params)
    kernel = params["params"]["dense_0"]["kernel"]
    params["params"]["dense_0"]["kernel"] = (
        kernel.reshape(32, 5, 5, 256).transpose(1, 2, 0, 3).reshape(800, 256)
    )
    y = jax.jit(nhwc.apply)(params, built.x.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(y, built.y, rtol=1e-5, atol=1e-5)


def test_cnn_uses_the_conv_module_for_every_conv_and_pool(monkeypatch):
    calls = []
    real_conv, real_pool, real_avg = _modules.conv2d, _modules.max_pool, _modules.avg_pool

    def conv2d(x, w, **kw):
        calls.append(("conv", kw["layout"]))
        return real_conv(x, w, **kw)

    def max_pool(x, **kw):
        calls.append(("pool", kw["window"], kw["stride"], kw["layout"]))
        return real_pool(x, **kw)

    monkeypatch.setattr(_modules, "conv2d", conv2d)

    def avg_pool(x, **kw):
        calls.append(("avg", kw["window"], kw["stride"], kw["layout"]))
        return real_avg(x, **kw)

    monkeypatch.setattr(_modules, "max_pool", max_pool)
    monkeypatch.setattr(_modules, "avg_pool", avg_pool)
    abstract_init(build_model("cnn-s7"), (1, 28, 28, 1))
    assert calls == [("conv", "NHWC"), ("pool", 2, 1, "NHWC"), ("conv", "NHWC"), ("pool", 2, 1, "NHWC")]
    calls.clear()
    abstract_init(build_model("cnn-s3"), (1, 1, 28, 28))
    assert calls == [("conv", "NCHW"), ("conv", "NCHW")]
    calls.clear()
    abstract_init(build_model("cnn", layers="nchw,conv4k3,avgpool2,dense8"), (1, 1, 28, 28))
    assert calls == [("conv", "NCHW"), ("avg", 2, 2, "NCHW")]


@pytest.mark.parametrize("name", ["cnn", "cnn-s7"])
def test_pooling_before_the_bias_and_relu_is_the_same_function(name, monkeypatch):
    # The CNN max-pools a stride-1 conv's output before its bias and ReLU, a smaller array to
    # apply them to. Against the textbook order (bias, ReLU, pool) with the same convolutions: the
    # same logits (a maximum commutes with adding a constant, rounding being monotone, and with a
    # ReLU) and gradients, up to how XLA fuses the two programs' sums (float32 tolerances).
    model = build_model(name)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((4, 28, 28, 1)), jnp.float32)
    params = model.init(KEY, x.shape)
    for layer in params["params"].values():  # nonzero biases, so that where they are added matters
        layer["bias"] = jnp.asarray(0.1 * rng.standard_normal(layer["bias"].shape), jnp.float32)

    def run():
        logits = jax.jit(model.apply)(params, x)
        grads = jax.jit(jax.grad(lambda p: jnp.sum(jnp.sin(model.apply(p, x)))))(params)
        return logits, grads

    logits, grads = run()
    monkeypatch.setattr(_modules, "_pool_first", lambda *a: False)
    logits_ref, grads_ref = run()
    np.testing.assert_allclose(logits, logits_ref, rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(grads_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_conv_computes_only_the_rows_and_columns_its_pooling_reads(monkeypatch, x64):
    # The default CNN's second conv makes 11x11 outputs from 13x13 inputs, and its 2x2 pool reads
    # 10x10 of them: the conv sees 12x12 inputs. Nothing else of the presets is cropped.
    crop = _modules._crop_to_pooled
    conv, pool = ConvLayer(64, 3), PoolLayer(2, 2)
    assert crop(jnp.zeros((1, 13, 13, 32)), conv, pool, "NHWC").shape == (1, 12, 12, 32)
    assert crop(jnp.zeros((1, 32, 13, 13)), conv, pool, "NCHW").shape == (1, 32, 12, 12)
    assert crop(jnp.zeros((1, 28, 28, 1)), ConvLayer(32, 3), pool, "NHWC").shape == (1, 28, 28, 1)
    assert crop(jnp.zeros((1, 28, 28, 1)), ConvLayer(12, 5), PoolLayer(2, 1), "NHWC").shape == (1, 28, 28, 1)
    same = ConvLayer(4, 3, padding="SAME")
    assert crop(jnp.zeros((1, 13, 13, 8)), same, pool, "NHWC").shape == (1, 13, 13, 8)
    assert crop(jnp.zeros((1, 13, 13, 8)), conv, DenseLayer(10), "NHWC").shape == (1, 13, 13, 8)
    # The same logits and gradients as the uncropped net (float64: the products sum in one order).
    model = build_model("cnn")
    x = jnp.asarray(np.random.default_rng(0).random((3, 28, 28, 1)))
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), model.init(KEY, x.shape))

    def value_and_grad():
        return jax.jit(jax.value_and_grad(lambda p: jnp.sum(jnp.sin(model.apply(p, x)))))(params)

    y, grads = value_and_grad()
    monkeypatch.setattr(_modules, "_crop_to_pooled", lambda x, *a: x)
    y_ref, grads_ref = value_and_grad()
    np.testing.assert_allclose(y, y_ref, rtol=1e-12)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(grads_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------------------------
# Layer specs


def test_layer_spec_grammar():
    layout, layers = parse_layers(" NCHW, Conv16K4S4 ,conv32k3same, pool3, pool2s1, dense256")
    assert layout == "NCHW"
    assert layers == (
        ConvLayer(16, 4, 4, "VALID"),
        ConvLayer(32, 3, 1, "SAME"),
        PoolLayer(3, 3),
        PoolLayer(2, 1),
        DenseLayer(256),
    )
    assert format_layers(layout, layers) == "nchw,conv16k4s4,conv32k3same,pool3,pool2s1,dense256"
    assert parse_layers("dense64") == ("NHWC", (DenseLayer(64),))
    assert parse_layers("AvgPool2,avgpool3s1") == ("NHWC", (PoolLayer(2, 2, "avg"), PoolLayer(3, 1, "avg")))
    assert format_layers("NHWC", (PoolLayer(2, 2, "avg"), PoolLayer(3, 1, "avg"))) == "avgpool2,avgpool3s1"
    assert flat_features("conv6k5same,avgpool2,conv16k5,avgpool2") == 5 * 5 * 16
    # 'same' keeps 28 at stride 1 and gives ceil(28/2) = 14 at stride 2.
    assert flat_features("conv8k5same,conv4k3s2same") == 14 * 14 * 4
    assert flat_features("conv8k5", image_shape=(32, 20)) == 28 * 16 * 8


def test_custom_cnn_spec_round_trip():
    model = build_model("cnn", layers="NCHW, conv8k3same, pool2, dense32", num_classes=4, activation="gelu")
    assert model.input_layout == "NCHW"
    assert model.spec["layers"] == "nchw,conv8k3same,pool2,dense32"
    rebuilt = build_model(**json.loads(json.dumps(model.spec)))
    assert rebuilt.spec == model.spec
    assert abstract_init(rebuilt, (1, 1, 28, 28)) == abstract_init(model, (1, 1, 28, 28))
    out = jax.eval_shape(model.apply, abstract_init(model, (5, 1, 28, 28)), jnp.zeros((5, 1, 28, 28)))
    assert out.shape == (5, 4)


@pytest.mark.parametrize(
    "options",
    [
        {"name": "mlp", "widths": "1024,128", "activation": "tanh", "init": "normal"},
        {"name": "mlp", "widths": np.array([500, 250]), "init": "s9"},
        {"name": "binary-mlp", "widths": [], "init": "normal", "init_scale": 0.2},
        {
            "name": "autoencoder",
            "widths": (128, 32),
            "activation": "sigmoid",
            "init": "s9",
            "init_scale": 0.5,
        },
        {"name": "softmax", "num_classes": 3, "init": "uniform", "image_shape": (20, 20)},
        {"name": "cnn-s7", "activation": "tanh", "init": "s9"},
    ],
)
def test_spec_round_trip_with_options(options):
    model = build_model(**options)
    spec = json.loads(json.dumps(model.spec))
    assert spec == model.spec
    assert set(options) <= set(spec)
    assert all(isinstance(w, int) for w in spec.get("widths", []))
    rebuilt = build_model(**spec)
    assert rebuilt.spec == model.spec
    shape = INPUT_SHAPES[model.input_layout]
    if model.name == "softmax":
        shape = (BATCH, 400)
    assert abstract_init(rebuilt, shape) == abstract_init(model, shape)


def test_resolved_options_are_recorded():
    assert build_model("mlp").spec == {
        "name": "mlp",
        "num_classes": 10,
        "widths": [512, 256],
        "activation": "relu",
        "init": "default",
        "init_scale": None,
        "image_shape": [28, 28],
    }
    assert build_model("binary-mlp", init="normal").spec["init_scale"] == 0.1
    assert build_model("autoencoder", init="s9").spec["init_scale"] == 1.0


# ----------------------------------------------------------------------------------------------
# Initialisers


def stats(a) -> tuple[float, float, float, float]:
    a = np.asarray(a, np.float64)
    return a.mean(), a.std(), a.min(), a.max()


@pytest.mark.parametrize("name", INITIALIZERS)
def test_initializer_statistics(name):
    kernel_init, bias_init = initializers(name)
    k1, k2 = jax.random.split(KEY)
    # One shape for both, so that the random functions compile once.
    w = kernel_init(k1, (500, 500), jnp.float32)
    b = bias_init(k2, (500, 500), jnp.float32)
    mean, std, lo, hi = stats(w)
    n = w.size
    if name == "default":
        # lecun_normal: a normal truncated at 2 of its own std, rescaled to std 1/sqrt(fan_in).
        target = 1 / math.sqrt(500)
        assert abs(std / target - 1) < 0.01
        assert abs(mean) < 5 * target / math.sqrt(n)
        bound = 2 / 0.87962566103423978 * target
        assert -bound <= lo < -0.99 * bound
        assert 0.99 * bound < hi <= bound
        assert not np.any(b)
    elif name == "normal":
        for a, m in ((w, n), (b, b.size)):
            mean, std, lo, hi = stats(a)
            assert abs(std / 0.1 - 1) < 0.02
            assert abs(mean) < 5 * 0.1 / math.sqrt(m)
            assert 3.5 * 0.1 < -lo < 6.5 * 0.1
            assert 3.5 * 0.1 < hi < 6.5 * 0.1
    elif name == "uniform":
        for a, m in ((w, n), (b, b.size)):
            mean, std, lo, hi = stats(a)
            assert abs(std / (0.1 / math.sqrt(3)) - 1) < 0.02
            assert abs(mean) < 5 * 0.1 / math.sqrt(3 * m)
            assert -0.1 <= lo < -0.0999
            assert 0.0999 < hi <= 0.1
    elif name == "glorot":
        # glorot_normal: truncated like lecun_normal, to std sqrt(2 / (fan_in + fan_out)); stax's
        # tiny N(0, 1e-6) biases.
        target = math.sqrt(2 / (500 + 500))
        assert abs(std / target - 1) < 0.01
        bound = 2 / 0.87962566103423978 * target
        assert -bound <= lo < -0.99 * bound
        assert 0.99 * bound < hi <= bound
        _, b_std, b_lo, b_hi = stats(b)
        assert abs(b_std / 1e-6 - 1) < 0.02
        assert -b_lo > 3.5e-6
        assert b_hi > 3.5e-6
    else:
        half = 4.9 * 0.5 / math.sqrt(500 + 500)  # init_range 1
        assert abs(std / (half / math.sqrt(3)) - 1) < 0.01
        assert abs(mean) < 5 * half / math.sqrt(3 * n)
        assert -half <= lo < -0.999 * half
        assert 0.999 * half < hi <= half
        assert not np.any(b)


def test_s9_uses_conv_fans_and_the_scale():
    kernel_init, _ = initializers("s9", 0.5)
    w = kernel_init(KEY, (5, 5, 12, 16), jnp.float32)
    # fan_in = 5*5*12 = 300, fan_out = 5*5*16 = 400.
    half = 4.9 * 0.5 * 0.5 / math.sqrt(300 + 400)
    _, _, lo, hi = stats(w)
    assert -half <= lo < -0.97 * half
    assert 0.97 * half < hi <= half


def test_initializer_scales():
    _, std, _, _ = stats(initializers("normal", 0.3)[0](KEY, (500, 500), jnp.float32))
    assert abs(std / 0.3 - 1) < 0.02
    _, _, lo, hi = stats(initializers("uniform", 2.0)[1](KEY, (500, 500), jnp.float32))
    assert -2 <= lo < -1.99
    assert 1.99 < hi <= 2


@pytest.mark.parametrize("dtype", ["float64", "bfloat16"])
def test_initializers_honour_the_dtype(dtype, request):
    if dtype == "float64":
        request.getfixturevalue("x64")
    dtype = jnp.dtype(dtype)
    for name in INITIALIZERS:
        kernel_init, bias_init = initializers(name)
        kernel = jax.eval_shape(lambda key, init=kernel_init: init(key, (3, 3, 2, 4), dtype), KEY)
        bias = jax.eval_shape(lambda key, init=bias_init: init(key, (4,), dtype), KEY)
        assert (kernel.dtype, bias.dtype) == (dtype, dtype), name
    if dtype == jnp.float64:  # and for real, once
        assert initializers("s9")[0](KEY, (3, 4), dtype).dtype == dtype


def test_vmapped_init_for_real_passes_the_initializer_to_every_layer():
    # A small CNN: the named ones are the same layers, and their inits are traced in the tests above.
    model = build_model("cnn", layers="conv4k3,dense8", init="uniform", init_scale=0.01, image_shape=(8, 8))
    stacked = jax.jit(jax.vmap(model.init, in_axes=(0, None)), static_argnums=1)(
        jax.random.split(KEY, 3), (1, 8, 8, 1)
    )
    single = abstract_init(model, (1, 8, 8, 1))
    assert jax.tree.map(lambda a: (a.shape[1:], a.dtype), stacked) == jax.tree.map(
        lambda a: (a.shape, a.dtype), single
    )
    assert list(single["params"]) == ["conv_0", "dense_0", "out"]
    # Convolutions and dense layers, kernels and biases, each from its own key.
    for path, leaf in jax.tree_util.tree_leaves_with_path(stacked):
        assert float(jnp.max(jnp.abs(leaf))) <= 0.01, path
        assert float(jnp.max(jnp.abs(leaf))) > 0.005, path
        assert not np.allclose(leaf[0], leaf[1]), path


# ----------------------------------------------------------------------------------------------
# as_model


class Tiny(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(3)(x.reshape(x.shape[0], -1))


def test_as_model_with_a_linen_module():
    model = as_model(Tiny(), input_layout="NHWC")
    assert (model.name, model.input_layout, model.kind) == ("Tiny", "NHWC", "classifier")
    params = jax.jit(model.init, static_argnums=1)(KEY, (2, 4, 4, 1))
    assert jax.jit(model.apply)(params, jnp.ones((2, 4, 4, 1))).shape == (2, 3)
    assert as_model(model) is model
    assert as_model(Tiny(), name="tiny", kind="binary").name == "tiny"


def test_as_model_with_a_pair_of_functions():
    def init(key, input_shape):
        return {"w": jnp.zeros((input_shape[-1], 2)), "b": jnp.ones(2)}

    def apply(params, x):
        return x @ params["w"] + params["b"]

    model = as_model((init, apply), kind="classifier", name="linear")
    assert (model.name, model.input_layout, model.init, model.apply) == ("linear", "flat", init, apply)
    np.testing.assert_array_equal(model.apply(model.init(KEY, (1, 5)), jnp.ones((3, 5))), jnp.ones((3, 2)))


@pytest.mark.parametrize(
    ("obj", "options", "message"),
    [
        (42, {}, "model must be a Model, a flax.linen.Module instance or a pair (init_fn, apply_fn)"),
        ("mlp", {}, "got str 'mlp' (for a named model use build_model('mlp'))"),
        (Tiny, {}, "pass an instance, e.g. Tiny(...)"),
        ((len,), {}, "got tuple"),
        ((1, 2), {}, "got tuple (1, 2)"),
        (Tiny(), {"input_layout": "HWC"}, "input_layout must be one of flat, NHWC, NCHW; got 'HWC'"),
        (
            Tiny(),
            {"kind": "regression"},
            "kind must be one of classifier, binary, autoencoder; got 'regression'",
        ),
    ],
)
def test_as_model_errors(obj, options, message):
    with pytest.raises(ConfigError) as info:
        as_model(obj, **options)
    assert message in str(info.value)


# ----------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"name": "foo"},
            "model must be one of softmax, mlp, binary-mlp, cnn, cnn-s3, cnn-s7, autoencoder, lenet5, "
            "speedrun; got 'foo'",
        ),
        ({"name": "cnn_s7"}, "got 'cnn_s7' (did you mean 'cnn-s7'?)"),
        ({"name": "CNN-S3"}, "got 'CNN-S3' (did you mean 'cnn-s3'?)"),
        ({"name": "mlp", "activation": "ReLU"}, "got 'ReLU' (did you mean 'relu'?)"),
        (
            {"name": "mlp", "activation": "swish"},
            "activation must be one of relu, tanh, sigmoid, gelu; got 'swish'",
        ),
        (
            {"name": "mlp", "init": "xavier"},
            "init must be one of default, normal, uniform, s9, glorot; got 'xavier'",
        ),
        (
            {"name": "mlp", "layers": "conv8k3"},
            "layers does not apply to model 'mlp' (it takes widths, activation,",
        ),
        ({"name": "softmax", "widths": (10,)}, "widths does not apply to model 'softmax'"),
        ({"name": "softmax", "activation": "relu"}, "activation does not apply to model 'softmax'"),
        (
            {"name": "cnn", "widths": (10,)},
            "widths does not apply to model 'cnn' (it takes layers, activation",
        ),
        (
            {"name": "cnn-s3", "layers": "conv8k3"},
            "layers does not apply to the preset 'cnn-s3', which is fixed",
        ),
        ({"name": "mlp", "widths": (512, 0)}, "widths must be positive integers; got (512, 0)"),
        ({"name": "mlp", "widths": (512, -3)}, "widths must be positive integers; got (512, -3)"),
        ({"name": "mlp", "widths": (512, 2.5)}, "widths must be an integer; got 2.5"),
        (
            {"name": "mlp", "widths": "512,abc"},
            "widths must be positive integers such as '512,256'; got '512,abc'",
        ),
        ({"name": "mlp", "widths": (True,)}, "widths must be positive integers; got (True,)"),
        ({"name": "mlp", "widths": 3.0}, "widths must be a sequence of positive integers; got 3.0"),
        ({"name": "autoencoder", "widths": ()}, "widths for model 'autoencoder' needs at least one width"),
        ({"name": "mlp", "init_scale": 0.1}, "init_scale does not apply to init='default'"),
        (
            {"name": "mlp", "init": "normal", "init_scale": -1},
            "init_scale must be a positive finite number; got -1",
        ),
        ({"name": "mlp", "init": "normal", "init_scale": math.nan}, "init_scale must be a positive finite"),
        (
            {"name": "mlp", "init": "normal", "init_scale": "big"},
            "init_scale must be a positive number; got 'big'",
        ),
        ({"name": "mlp", "num_classes": 0}, "num_classes must be a positive integer; got 0"),
        ({"name": "mlp", "image_shape": (28,)}, "image_shape must be (height, width), two positive integers"),
        (
            {"name": "cnn", "layers": "conv8k30"},
            "shrink a 28x28 image to nothing at 'conv8k30' (its input is 28x28)",
        ),
        (
            {"name": "cnn", "layers": "conv8k5,pool2s2,conv8k5,pool2,conv8k5"},
            "nothing at 'conv8k5' (its input is 4x4)",
        ),
    ],
)
def test_build_model_errors(options, message):
    with pytest.raises(ConfigError) as info:
        build_model(**options)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("layers", "problem"),
    [
        ("conv16k", "bad token 'conv16k'"),
        ("conv16x3", "bad token 'conv16x3'"),
        ("conv16k3,relu", "bad token 'relu'"),
        ("conv16k3,,dense8", "bad token ''"),
        ("dense0", "token 'dense0' has a size of 0"),
        ("conv8k3s0", "token 'conv8k3s0' has a size of 0"),
        ("dense64,conv8k3", "token 'conv8k3' comes after a dense layer"),
        ("", "no layers"),
        ("nchw", "no layers after the layout"),
        ("conv8k3,nchw", "bad token 'nchw'"),
    ],
)
def test_malformed_layer_specs(layers, problem):
    with pytest.raises(ConfigError) as info:
        build_model("cnn", layers=layers)
    message = str(info.value)
    assert problem in message
    assert f"in layers {layers!r}" in message
    assert "conv<out>k<size>[s<stride>][same]" in message  # the grammar
    assert "e.g. 'conv12k5,pool2s1,conv16k5,pool2s1,dense120,dense84'" in message


def test_layers_must_be_a_string():
    with pytest.raises(ConfigError, match="layers must be a string such as"):
        build_model("cnn", layers=42)


def test_unknown_initializer_and_activation_names():
    names = "default, normal, uniform, s9, glorot"
    with pytest.raises(ConfigError, match=rf"init must be one of {names}; got 'he'"):
        initializers("he")
    with pytest.raises(ConfigError, match="activation must be one of relu, tanh, sigmoid, gelu; got 'elu'"):
        jax.eval_shape(MLP((4,), "elu").init, KEY, jnp.zeros((1, 3)))
    assert set(ACTIVATIONS) == {"relu", "tanh", "sigmoid", "gelu"}
