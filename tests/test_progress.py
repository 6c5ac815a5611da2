"""Step progress inside the compiled epoch: the host hears every N steps, results do not change,
no extra compile, and the console shows it only where a person watches (a terminal)."""

from __future__ import annotations

import io
import re

import jax
import numpy as np
import pytest
from rich.console import Console

from mnistlab import data
from mnistlab.train import Engine, TrainConfig, build_model_for, fit, resolve
from mnistlab.train._console import ConsoleReporter
from mnistlab.train._progress import StepListener, attach, every_for

pytestmark = pytest.mark.usefixtures("cheap_compiles")

N_TRAIN = 600


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
        train = data.load("mnist-sample", "train")
    return train.subset(np.arange(N_TRAIN))


def engine_for(**overrides) -> Engine:
    base = dict(dataset="mnist-sample", model="mlp", widths=(16,), batch_size=32, epochs=2, seeds=(0, 1))
    config = resolve(TrainConfig(**{**base, **overrides}))
    return Engine(
        build_model_for(config, 10, (28, 28)), config, n_train=N_TRAIN, image_shape=(28, 28), num_classes=10
    )


@pytest.fixture(scope="module")
def runs(subset):
    """Two seeds (vmapped) trained twice: without a listener, and with one that records each call."""
    plain = engine_for()
    plain_result = fit(plain, subset)
    heard: list[tuple[int, int]] = []
    watched = engine_for()
    attach(watched, lambda done, total: heard.append((done, total)), updates=4)
    watched_result = fit(watched, subset)
    return plain, plain_result, watched, watched_result, heard


def test_progress_on_or_off_gives_bit_identical_parameters_and_losses(runs):
    _, plain, _, watched, _ = runs
    for a, b in zip(jax.tree.leaves(plain.state), jax.tree.leaves(watched.state), strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert all(
        np.array_equal(a, b) for a, b in zip(plain.history.step_loss, watched.history.step_loss, strict=True)
    )


def test_the_listener_hears_every_n_steps_and_the_last_once_per_epoch_not_per_seed(runs):
    _, _, watched, _, heard = runs
    steps = watched.steps_per_epoch  # 600 / 32: 19 steps, the last one partial
    every = every_for(steps, 4)
    one_epoch = [(k, steps) for k in range(every, steps + 1, every)]
    if one_epoch[-1][0] != steps:
        one_epoch.append((steps, steps))
    # The reporter resets between epochs; this bare listener does not, so epoch 2 repeats nothing.
    assert heard == one_epoch


def test_progress_adds_no_compile_or_trace(runs):
    plain, _, watched, _, _ = runs
    assert watched.traces == plain.traces


def test_listener_keeps_the_largest_count_so_devices_repeating_a_step_do_not_move_it_back():
    seen = []
    listener = StepListener(lambda d, t: seen.append(d), total=10, every=2)
    for step in (2, 2, 4, 2, 6):
        listener(np.int32(step))
    listener.reset()
    listener(np.int32(2))
    assert seen == [2, 4, 6, 2]


def test_console_compiles_in_no_callback_when_stderr_is_not_a_terminal():
    engine = engine_for(seeds=(0,))
    reporter = ConsoleReporter(Console(file=io.StringIO(), force_terminal=False))
    reporter.start(engine, 0)
    reporter.stop()
    assert getattr(engine, "step_listener", None) is None


def test_console_on_a_terminal_moves_the_bar_within_the_epoch(subset):
    class Recording(ConsoleReporter):
        def _step(self, done, total):
            super()._step(done, total)
            task = self.progress.tasks[0]
            seen.append((task.completed, task.fields["info"]))

    seen: list = []
    engine = engine_for(seeds=(0,), epochs=1)
    reporter = Recording(Console(file=io.StringIO(), force_terminal=True, width=100))
    fit(engine, subset, reporter=reporter)
    n = engine.steps_per_epoch
    assert len(seen) > 1
    assert seen[-1] == (1.0, f"step {n}/{n}")
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)
    assert engine.step_listener.done == 0  # reset after the epoch, ready for the next


def test_status_prints_plain_lines_when_piped_and_nothing_when_quiet():
    from mnistlab._status import Status

    piped, quiet = io.StringIO(), io.StringIO()
    with Status(console=Console(file=piped, force_terminal=False)) as status:
        status("evaluate: scoring [1/2]")
        status("evaluate: figures")
    with Status(quiet=True, console=Console(file=quiet, force_terminal=True)) as status:
        status("anything")
    lines = piped.getvalue().splitlines()  # each phase once it is done, with its seconds
    assert [re.fullmatch(r"(.*) \(\d+\.\d s\)", line)[1] for line in lines] == [
        "evaluate: scoring [1/2]",
        "evaluate: figures",
    ]
    assert quiet.getvalue() == ""


def test_status_prints_no_line_for_a_phase_that_fails_so_an_early_user_error_stays_one_line():
    from mnistlab._status import Status

    piped = io.StringIO()
    status = Status(console=Console(file=piped, force_terminal=False))
    status("evaluate: reading the run")
    status.__exit__(ValueError, ValueError("no such run"), None)  # as `with` does on an error
    assert piped.getvalue() == ""


def test_status_on_a_terminal_is_one_transient_line():
    from mnistlab._status import Status

    out = io.StringIO()
    with Status(console=Console(file=out, force_terminal=True, width=80)) as status:
        status("report: first")
        status("report: second")
    assert "first" in out.getvalue() or "second" in out.getvalue()
    assert out.getvalue().endswith("\x1b[2K") or "\x1b[?25h" in out.getvalue()  # cleared at the end
