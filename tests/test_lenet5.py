"""LeNet-5, the model added as one registry entry plus its builder: its shapes, and that it learns."""

from __future__ import annotations

import jax

from mnistlab import data, train
from mnistlab.models import build_model, get_model_spec, model_table

KEY = jax.random.key(0, impl="rbg")


def test_lenet5_layers_and_parameter_count():
    # 28x28 -> C1 5x5 'same', 6 maps: 28x28 -> S2 average 2x2: 14x14 -> C3 5x5, 16 maps: 10x10
    # -> S4: 5x5, so 5*5*16 = 400 features -> F5 120 -> F6 84 -> 10 logits.
    c1 = 5 * 5 * 1 * 6 + 6  # 156
    c3 = 5 * 5 * 6 * 16 + 16  # 2,416
    f5 = 400 * 120 + 120  # 48,120
    f6 = 120 * 84 + 84  # 10,164
    out = 84 * 10 + 10  # 850
    assert c1 + c3 + f5 + f6 + out == 61_706
    model = build_model("lenet5")
    variables = jax.eval_shape(lambda key: model.init(key, (1, 28, 28, 1)), KEY)
    assert sum(leaf.size for leaf in jax.tree.leaves(variables)) == 61_706
    kernels = {name: layer["kernel"].shape for name, layer in variables["params"].items()}
    assert kernels == {
        "conv_0": (5, 5, 1, 6),
        "conv_1": (5, 5, 6, 16),
        "dense_0": (400, 120),
        "dense_1": (120, 84),
        "out": (84, 10),
    }


def test_lenet5_is_in_the_registry_with_tanh():
    spec = get_model_spec("lenet5")
    assert (spec.kind, spec.input_layout, spec.defaults["activation"]) == ("classifier", "NHWC", "tanh")
    assert "lenet5" in [row[0] for row in model_table()]
    model = build_model("lenet5")
    assert model.spec == {
        "name": "lenet5",
        "num_classes": 10,
        "activation": "tanh",
        "init": "default",
        "init_scale": None,
        "image_shape": [28, 28],
    }
    assert model.module.layers == "conv6k5same,avgpool2,conv16k5,avgpool2,dense120,dense84"
    assert build_model(**model.spec).spec == model.spec


def test_lenet5_learns_the_sample_in_two_epochs():
    tr, te = data.load("mnist-sample", "train"), data.load("mnist-sample", "test")
    config = train.resolve(
        train.TrainConfig(dataset="mnist-sample", model="lenet5", epochs=2, batch_size=64, optimizer="adam")
    )
    engine = train.Engine(
        build_model("lenet5"), config, n_train=len(tr), image_shape=(28, 28), num_classes=10
    )
    result = train.fit(engine, tr, evals={"test": te})
    assert result.status == "completed"
    first, last = result.history.epochs
    assert last["train_loss"][0] < first["train_loss"][0]
    # About 0.9 here (4,000 images, 2 epochs of Adam at 1e-3); chance is 0.1.
    assert last["test_accuracy"][0] > 0.8
