"""A run stuck at chance or blown up is reported; a slow run is not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnistlab import plots, train
from mnistlab.runs import TrainConfig
from mnistlab.train._health import BLEW_UP, STUCK, assess, chance_level

CHANCE = {"accuracy": 0.1, "threshold": 0.13}


class _History:
    def __init__(self, accuracy, loss, first_step=2.3):
        seeds = len(accuracy[0])
        self.epochs = [
            {"epoch": e, "train_loss": lo, "test_accuracy": a}
            for e, (a, lo) in enumerate(zip(accuracy, loss, strict=True), start=1)
        ]
        self.step_loss = [np.full((seeds, 4), first_step, np.float32)]


def _tiny(optimizer: str, lr: float) -> TrainConfig:
    return TrainConfig(
        dataset="mnist-sample", model="mlp", epochs=3, optimizer=optimizer, lr=lr, batch_size=64
    )


@pytest.fixture(scope="module")
def huge_lr(tmp_path_factory, cheap_compiles):
    out = tmp_path_factory.mktemp("health") / "run"
    # Adam's steps are bounded by its lr, so the loss stays finite (no "diverged") while the
    # ReLUs die and the net answers one class: S5's lr 2 in miniature.
    return train.train(_tiny("adam", 10.0), out=out, quiet=True)


def test_a_real_run_at_a_huge_learning_rate_is_reported_stuck_at_chance(huge_lr):
    assert huge_lr.status == "completed"  # finite losses: it ran to its end
    assert huge_lr.summary["health"] == STUCK
    assert "STUCK AT CHANCE" in huge_lr.outcome()
    info = json.loads((huge_lr.run_dir / "run.json").read_text())
    assert info["summary"]["health"] == STUCK
    assert info["summary"]["health_message"].startswith("stuck at chance: test accuracy never rose above")
    assert info["chance"]["split"] == "test"
    assert 0.1 <= info["chance"]["accuracy"] < info["chance"]["threshold"] < 0.2


def test_the_accuracy_plot_draws_the_chance_line(huge_lr):
    chance = json.loads((huge_lr.run_dir / "run.json").read_text())["chance"]["accuracy"]
    fig = plots.learning_curves(huge_lr.history.epochs, title="stuck", chance=chance)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert f"chance ({100 * chance:.1f}%)" in labels
    fig = plots.compare_curves({"lr 10": huge_lr.history.epochs}, title="lr", chance=chance)
    assert any(line.get_label().startswith("chance") for line in fig.axes[0].get_lines())


def test_a_slow_real_run_is_not_flagged(tmp_path, cheap_compiles):
    result = train.train(_tiny("sgd", 0.003), out=tmp_path / "run", quiet=True)  # 12% -> 26%
    assert result.status == "completed"
    assert "health" not in result.summary
    assert "STUCK" not in result.outcome()


def test_a_slow_start_still_under_the_chance_threshold_is_not_flagged():
    # 7.5% -> 9.7% -> 12.2%: every epoch under the threshold, but climbing while the loss falls.
    history = _History([[0.075], [0.097], [0.122]], [[2.30], [2.29], [2.28]])
    assert assess(history, chance=CHANCE, seeds=[0]) is None


def test_a_flat_accuracy_at_chance_is_flagged_even_when_the_loss_falls():
    history = _History([[0.1], [0.1], [0.1]], [[9.0], [2.36], [2.35]])
    assert assess(history, chance=CHANCE, seeds=[0])["health"] == STUCK


def test_only_the_stuck_seed_is_named():
    history = _History([[0.1, 0.5], [0.1, 0.7], [0.1, 0.8]], [[111, 1.0], [111, 0.5], [111, 0.4]])
    verdict = assess(history, chance=CHANCE, seeds=[3, 4])
    assert verdict["flagged_seeds"] == [3]
    assert "(seed 3)" in verdict["health_message"]


def test_a_blown_up_loss_is_flagged_where_there_is_no_accuracy_to_judge():
    history = _History([[0.1], [0.1], [0.1]], [[40.0], [60.0], [111.0]])
    verdict = assess(history, chance=None, seeds=[0])
    assert verdict["health"] == BLEW_UP
    assert "111" in verdict["health_message"]


def test_a_run_above_chance_is_never_flagged_whatever_its_loss():
    history = _History([[0.1], [0.5], [0.9]], [[40.0], [60.0], [111.0]])
    assert assess(history, chance=CHANCE, seeds=[0]) is None


def test_two_epochs_are_too_few_to_judge():
    history = _History([[0.1], [0.1]], [[111.0], [111.0]])
    assert assess(history, chance=CHANCE, seeds=[0]) is None


def test_chance_is_the_largest_class_share_plus_a_margin_for_the_set_size():
    # MNIST's test set: its largest class, the 1s, is 11.35%; the other nine share the rest.
    labels = np.concatenate([np.ones(1135, int), np.repeat([0, 2, 3, 4, 5, 6, 7, 8, 9], 985)])
    level = chance_level(labels, 10)
    assert level["accuracy"] == pytest.approx(0.1135)
    margin = 3 * np.sqrt(0.1135 * 0.8865 / 10000)
    assert level["threshold"] == pytest.approx(0.1135 + margin)
    assert chance_level(np.arange(100) % 10, 10)["threshold"] == pytest.approx(0.1 + 0.09)


def test_the_report_names_the_flag_and_draws_the_chance_line(huge_lr, tmp_path):
    from mnistlab.report import write_report

    page = write_report([huge_lr.run_dir], tmp_path / "report.html", examples=1).read_text()
    assert "completed, stuck at chance" in page
    assert "This run is flagged: stuck at chance" in page
    assert "the dashed line is chance accuracy on the test set" in page
