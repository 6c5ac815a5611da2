"""Run by tests/test_sharding.py in a subprocess with 8 fake CPU devices (the XLA flag must be set
before JAX starts, so it cannot run inside the test process). Prints one JSON object of findings;
the test makes the assertions, so a failure shows there with the numbers."""

from __future__ import annotations

import json
import sys

import jax
import numpy as np

from mnistlab import data
from mnistlab._compute import precision
from mnistlab._errors import ConfigError
from mnistlab.train import Engine, TrainConfig, build_model_for, fit, load_checkpoint, save_checkpoint

BASE = dict(dataset="mnist-sample", model="mlp", widths=(16,), optimizer="adam", lr=3e-3, epochs=2)
# 100 does not divide over 8 data devices: the data-parallel runs also check the padded batch.
BASE.update(batch_size=100, dtype="float64")


def engine(n_train, **overrides) -> Engine:
    cfg = TrainConfig(**{**BASE, **overrides})
    return Engine(
        build_model_for(cfg, 10, (28, 28)), cfg, n_train=n_train, image_shape=(28, 28), num_classes=10
    )


def leaves(tree, member=None) -> list[np.ndarray]:
    return [np.asarray(a) if member is None else np.asarray(a)[member] for a in jax.tree.leaves(tree)]


def worst(got, want) -> list[float]:
    """The largest absolute difference and the largest relative one (to |want| + 1e-3)."""
    pairs = list(zip(got, want, strict=True))
    return [
        max(float(np.max(np.abs(a - b))) for a, b in pairs),
        max(float(np.max(np.abs(a - b) / (np.abs(b) + 1e-3))) for a, b in pairs),
    ]


def main(folder: str) -> None:
    train = data.load("mnist-sample", "train").subset(np.arange(1000))
    test = data.load("mnist-sample", "test").subset(np.arange(500))
    out: dict = {"devices": jax.device_count()}

    def run(scored=True, **kw):  # scored: evaluated on the test set after each epoch
        e = engine(len(train), **kw)
        return e, fit(e, train, evals={"test": test} if scored else None)

    eight = tuple(range(8))
    e8, r8 = run(seeds=eight, devices="8")  # default mesh: 8 members x 1 data
    _, r1 = run(seeds=eight, scored=False)
    alone = {i: run(seeds=(i,))[1] for i in (0, 7)}
    out["mesh_of_8_seeds"] = [e8.layout.members, e8.layout.data]
    out["member_equals_alone"] = {
        str(i): all(
            np.array_equal(a, b)
            for a, b in zip(leaves(r8.state.params, i), leaves(r.state.params, 0), strict=True)
        )
        and r8.history.epochs[-1]["test_loss"][i] == r.history.epochs[-1]["test_loss"][0]
        for i, r in alone.items()
    }
    out["sharded_vs_one_device"] = worst(leaves(r8.state.params), leaves(r1.state.params))

    # Both axes: seeds 0 and 7 on 8 devices is 2 members x 4 data by default.
    ed, rd = run(seeds=(0, 7), devices="all")
    out["mesh_of_2_seeds"] = [ed.layout.members, ed.layout.data]
    out["data_parallel_vs_alone"] = [
        worst(leaves(rd.state.params, j), leaves(alone[i].state.params, 0)) for j, i in enumerate((0, 7))
    ]
    out["data_parallel_test_loss"] = [
        rd.history.epochs[-1]["test_loss"],
        [alone[i].history.epochs[-1]["test_loss"][0] for i in (0, 7)],
    ]

    # A checkpoint written on 8 devices resumes on 1, and one written on 1 resumes on 8.
    resumed = {}
    for first, then, name in (("8", "1", "8_to_1"), ("1", "8", "1_to_8")):
        _, r = run(seeds=eight, devices=first, epochs=1, scored=False)
        path = f"{folder}/{name}.npz"
        save_checkpoint(path, r.state, {"history": r.history.as_dict()})
        later = engine(len(train), seeds=eight, devices=then)
        state, _ = load_checkpoint(path, later.init())
        resumed[name] = leaves(fit(later, train, state=state, history=r.history).state.params)
    out["resumed"] = {name: worst(ls, leaves(r1.state.params)) for name, ls in resumed.items()}

    errors = []
    for kw in (
        dict(seeds=(0, 1, 2), mesh="2x4", devices="8"),
        dict(devices="9"),
        dict(mesh="2x2", devices="8"),
    ):
        try:
            engine(len(train), **kw)
            errors.append(None)
        except ConfigError as exc:
            errors.append(str(exc))
    out["errors"] = errors
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    # Programs recur (one seed alone twice; the resumed runs' halves): compile each once.
    jax.config.update("jax_compilation_cache_dir", f"{sys.argv[1]}/jax-cache")
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    with precision("float64"):
        main(sys.argv[1])
