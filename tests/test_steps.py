"""Step-based control: ``--steps N --eval-every K`` trains exactly N steps, scored every K.

A run of steps is the epoch-based run cut into chunks of K steps (the shuffle continues across
passes), so its parameters equal those of the same number of steps trained by epochs. The
comparisons are exact: float64, and every step does the same arithmetic in both runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_user_error, run_cli

pytestmark = pytest.mark.usefixtures("cheap_compiles", "compilation_cache")

BASE = {"dataset": "mnist-sample", "model": "mlp", "widths": (8,), "batch_size": 64, "dtype": "float64"}


def _same(a, b) -> bool:
    import jax

    return all(jax.tree.leaves(jax.tree.map(lambda x, y: np.array_equal(x, y), a, b)))


def _cutting_divisor(total: int, per_pass: int) -> int:
    """A chunk length that divides ``total`` but not a pass, so chunks start inside passes."""
    return next(k for k in range(per_pass // 2, total) if total % k == 0 and per_pass % k)


@pytest.fixture(scope="module")
def by_epochs(tmp_path_factory):
    from mnistlab import train

    out = tmp_path_factory.mktemp("steps") / "epochs"
    return train.train(train.TrainConfig(**BASE, epochs=2), out=out, quiet=True)


@pytest.fixture(scope="module")
def by_steps(by_epochs, tmp_path_factory):
    from mnistlab import train

    per_pass = by_epochs.history.epochs[0]["step"]
    every = _cutting_divisor(2 * per_pass, per_pass)
    config = train.TrainConfig(**BASE, steps=2 * per_pass, eval_every=every)
    out = tmp_path_factory.mktemp("steps") / "steps"
    return train.train(config, out=out, quiet=True), per_pass, every


def test_steps_in_chunks_that_cut_passes_train_exactly_the_epoch_order(by_epochs, by_steps):
    result, per_pass, every = by_steps
    assert result.status == "completed"
    assert result.config.epochs == 2 * per_pass // every
    assert [r["step"] for r in result.history.epochs] == [
        every * (i + 1) for i in range(result.config.epochs)
    ]
    assert [r["epoch"] for r in result.history.epochs] == list(range(1, result.config.epochs + 1))
    assert _same(result.state.params, by_epochs.state.params)


def test_a_chunk_of_whole_passes_trains_exactly_the_epoch_order(by_epochs, tmp_path):
    """A chunk of whole passes (the speedrun's, scored once) trains on the same batches as the epochs."""
    from mnistlab import speedrun, train

    config = speedrun.score_once(train.TrainConfig(**BASE, epochs=2))
    per_pass = by_epochs.history.epochs[0]["step"]
    assert (config.steps, config.eval_every) == (2 * per_pass, 2 * per_pass)
    result = train.train(config, out=tmp_path / "run", quiet=True)
    assert [r["step"] for r in result.history.epochs] == [2 * per_pass]
    assert _same(result.state.params, by_epochs.state.params)


def test_a_chunk_counts_the_real_rows_of_the_partial_batches_it_holds(by_steps):
    from mnistlab import data, train

    result, per_pass, every = by_steps
    n = len(data.load("mnist-sample", "train", progress=False))
    model = train.build_model_for(result.config, 10, (28, 28))
    engine = train.Engine(model, result.config, n_train=n, image_shape=(28, 28), num_classes=10)
    assert engine.steps_per_pass == per_pass
    seen = [engine.examples_in(e) for e in range(result.config.epochs)]
    assert sum(seen) == 2 * n
    assert max(seen) == every * 64


def test_a_run_of_steps_stopped_mid_run_resumes_bit_identically(by_steps, tmp_path):
    from mnistlab import train

    straight, _, _ = by_steps
    out = tmp_path / "run"
    stopped = train.train(straight.config, out=out, quiet=True, callbacks=[lambda record, h, s: True])
    assert stopped.status == "stopped"
    assert len(stopped.history.epochs) == 1
    resumed = train.resume(out, quiet=True)
    assert resumed.status == "completed"
    assert [r["step"] for r in resumed.history.epochs] == [r["step"] for r in straight.history.epochs]
    assert _same(resumed.state.params, straight.state.params)


def test_resume_refuses_to_change_the_epochs_of_a_run_of_steps(by_steps, capsys):
    code, _, err = run_cli(capsys, "train", "--resume", by_steps[0].run_dir, "--epochs", "40")
    assert_user_error(code, err, "--epochs", "--steps")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["--steps", "100", "--eval-every", "30"],
            ["--eval-every must divide --steps", "e.g. --eval-every 25"],
        ),
        (["--steps", "100", "--epochs", "5"], ["--steps and --epochs are exclusive"]),
        (["--eval-every", "5"], ["--eval-every", "needs --steps"]),
        (["--steps", "0"], ["steps"]),
    ],
)
def test_inconsistent_step_options_are_refused_in_one_line(capsys, tmp_path, args, fragments):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "--dataset", "mnist-sample", *args, "--out", out)
    assert_user_error(code, err, *fragments)
    assert not out.exists()


def test_a_reference_at_a_step_is_judged_only_where_the_runs_epoch_ends_at_that_step():
    from pathlib import Path

    from mnistlab.runs import TrainConfig
    from mnistlab.studies import Reference, RunView, verdict

    info = {"status": "completed", "dataset": {"name": "mnist", "num_classes": 2, "sizes": {"test": 2163}}}
    ref = Reference("r", "test_accuracy", 1, 0.965, "96.5% at step 200", n=2163, step=200)

    def run(step):
        return RunView(
            "r", "a run", Path("."), TrainConfig(), info, [{"epoch": 1, "step": step, "test_accuracy": 0.96}]
        )

    assert verdict(ref, run(200), "mnist")["verdict"] == "within noise"
    assert (
        verdict(ref, run(20), "mnist")["verdict"] == "not measured (epoch 1 of this run is step 20, not 200)"
    )
