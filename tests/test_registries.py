"""The model registry: names, specs, defaults, registration, and the options declared as data."""

from __future__ import annotations

import inspect

import pytest

from mnistlab import ConfigError, models
from mnistlab._checks import check
from mnistlab.models import (
    COMMON_DEFAULTS,
    MODEL_NAMES,
    MODELS,
    OPTIONS,
    ModelSpec,
    _registry,
    build_model,
    get_model_spec,
    model_names,
    model_table,
    register_model,
)


@pytest.fixture
def private_registry(monkeypatch):
    """A copy of the table, so that a test's registrations do not outlive it."""
    monkeypatch.setattr(_registry, "_MODELS", dict(_registry._MODELS))


def test_the_table_lists_the_built_in_models_in_order():
    assert MODEL_NAMES[:7] == ("softmax", "mlp", "binary-mlp", "cnn", "cnn-s3", "cnn-s7", "autoencoder")
    assert model_names() == tuple(MODELS) == MODEL_NAMES
    assert [row[0] for row in model_table()] == list(MODEL_NAMES)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_spec_matches_its_builder_and_what_it_builds(name):
    spec = get_model_spec(name)
    assert spec.name == name
    # The options are exactly the builder's keyword arguments (a preset's builder passes them on),
    # each with a default.
    params = inspect.signature(spec.build).parameters.values()
    if all(p.kind is not p.VAR_KEYWORD for p in params):
        assert {p.name for p in params} == set(spec.options)
    assert tuple(spec.defaults) == spec.options
    assert all(o in OPTIONS for o in spec.options)
    model = build_model(name)
    assert (model.kind, model.input_layout) == (spec.kind, spec.input_layout)
    recorded = {o for o in model.spec if o != "name"}
    assert recorded == set(spec.options)
    assert spec.summary
    assert "\n" not in spec.summary


def test_defaults_are_what_build_model_uses():
    assert get_model_spec("mlp").defaults["widths"] == (512, 256)
    assert get_model_spec("binary-mlp").defaults["widths"] == (256, 64)
    assert get_model_spec("cnn").defaults["layers"] == models.CNN_LAYERS
    assert get_model_spec("softmax").defaults == dict(COMMON_DEFAULTS)
    assert "num_classes" not in get_model_spec("autoencoder").options  # ignored, not taken
    spec = build_model("mlp").spec
    assert spec["widths"] == list(get_model_spec("mlp").defaults["widths"])
    assert spec["activation"] == get_model_spec("mlp").defaults["activation"]


def test_unknown_names_say_what_exists_and_what_was_meant():
    with pytest.raises(
        ConfigError, match=r"^model must be one of softmax, mlp, .*; got 'mpl' \(did you mean 'mlp'\?\)$"
    ):
        get_model_spec("mpl")
    with pytest.raises(ConfigError, match="model must be one of"):
        build_model(3)


def test_a_registered_model_builds_like_a_built_in_one(private_registry):
    def build_tiny(*, widths, activation, init, init_scale, image_shape):
        return models.as_model(models.MLP(tuple(widths), activation, num_outputs=2), name="ignored")

    spec = register_model(
        ModelSpec(
            "tiny",
            "a two-output MLP",
            "classifier",
            "flat",
            ("widths", "activation", "init", "init_scale", "image_shape"),
            {"widths": (8,), "activation": "tanh"},
            build_tiny,
        )
    )
    assert spec.defaults == {
        "widths": (8,),
        "activation": "tanh",
        "init": "default",
        "init_scale": None,
        "image_shape": (28, 28),
    }
    assert model_names()[-1] == "tiny"
    model = build_model("tiny", widths="16")
    assert model.name == "tiny"
    assert model.spec == {
        "name": "tiny",
        "widths": [16],
        "activation": "tanh",
        "init": "default",
        "init_scale": None,
        "image_shape": [28, 28],
    }
    assert build_model(**model.spec).spec == model.spec
    with pytest.raises(ConfigError, match=r"layers does not apply to model 'tiny' \(it takes widths,"):
        build_model("tiny", layers="dense8")
    with pytest.raises(ConfigError, match="model 'tiny' is already registered"):
        register_model(spec)
    assert "tiny" in [row[0] for row in model_table()]


def test_model_specs_are_checked_when_made():
    build = MODELS["mlp"].build
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'dropout'"):
        ModelSpec("x", "s", "classifier", "flat", ("dropout",), {}, build)
    with pytest.raises(ConfigError, match=r"needs a default for option\(s\) widths"):
        ModelSpec("x", "s", "classifier", "flat", ("widths",), {}, build)
    with pytest.raises(ConfigError, match="kind must be one of classifier, binary, autoencoder"):
        ModelSpec("x", "s", "regression", "flat", (), {}, build)
    with pytest.raises(ConfigError, match="register_model needs a ModelSpec"):
        register_model("mlp")


def test_options_are_declared_as_constraints():
    # The CLI and the config can check a value (and list choices) from the declarations alone.
    assert list(OPTIONS) == [
        "num_classes",
        "widths",
        "layers",
        "activation",
        "init",
        "init_scale",
        "image_shape",
    ]
    check("activation", "gelu", OPTIONS["activation"].constraints)
    with pytest.raises(ConfigError, match="activation must be one of relu, tanh, sigmoid, gelu; got 'elu'"):
        check("activation", "elu", OPTIONS["activation"].constraints)
    with pytest.raises(ConfigError, match="init_scale must be a positive finite number; got 0"):
        check("init_scale", 0, OPTIONS["init_scale"].constraints)
    with pytest.raises(ConfigError, match="num_classes must be a positive integer; got 0"):
        check("num_classes", 0, OPTIONS["num_classes"].constraints)
    assert OPTIONS["widths"].resolve("512, 256") == (512, 256)
    assert OPTIONS["layers"].resolve(" Conv8K3 , dense4") == "conv8k3,dense4"
    assert OPTIONS["init_scale"].resolve(None, "normal") == 0.1
    assert all(option.help for option in OPTIONS.values())
