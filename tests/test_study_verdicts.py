"""A study's verdict per reference number, from a run's records alone: no training, milliseconds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mnistlab import studies
from mnistlab.runs import TrainConfig
from mnistlab.studies import Reference, RunView, verdict


def _run(test_acc_per_epoch, *, dataset="mnist", status="completed", classes=10) -> RunView:
    records = [
        {"epoch": e, "test_accuracy": list(v) if isinstance(v, tuple) else v}
        for e, v in enumerate(test_acc_per_epoch, start=1)
    ]
    info = {
        "status": status,
        "dataset": {"name": dataset, "num_classes": classes, "sizes": {"train": 60_000, "test": 10_000}},
    }
    return RunView("r", "a run", Path("."), TrainConfig(), info, records)


def test_a_point_within_two_sigma_of_the_reference_is_within_noise_and_one_beyond_is_off():
    se = math.sqrt(0.9746 * (1 - 0.9746) / 10_000)  # 0.157 points
    ref = Reference("r", "test_accuracy", 2, 0.9746, "97.46% after epoch 2")
    near = verdict(ref, _run([0.9, 0.9746 + 1.9 * se]), "mnist")
    assert near["verdict"] == "within noise"
    assert near["sigma"] == pytest.approx(se)
    far = verdict(ref, _run([0.9, 0.9746 - 2.1 * se]), "mnist")
    assert far["verdict"] == "off"
    assert far["difference"] == pytest.approx(-2.1 * se)


def test_the_seed_std_widens_the_noise_and_ours_is_the_mean_over_seeds():
    ref = Reference("r", "test_accuracy", 1, 0.98, "98%")
    row = verdict(ref, _run([(0.975, 0.985, 0.970, 0.990)]), "mnist")
    assert row["ours"] == pytest.approx(0.98)
    assert row["seeds"] == 4
    assert row["std"] == pytest.approx(0.00912870929, rel=1e-6)
    assert row["sigma"] > row["std"]
    assert row["verdict"] == "within noise"


def test_a_range_reference_is_judged_by_the_distance_to_the_range():
    ref = Reference("r", "test_accuracy", 1, 0.9917, "99.1-99.24%", low=0.991, high=0.9924)
    assert verdict(ref, _run([0.992]), "mnist")["difference"] == 0.0
    assert verdict(ref, _run([0.980]), "mnist")["verdict"] == "off"


def test_stays_at_chance_is_checked_over_every_epoch():
    ref = Reference("r", "test_accuracy", 10, 0.10, "stays at chance", chance=True)
    stuck = verdict(ref, _run([0.098, 0.1135, 0.1009]), "mnist")
    assert stuck["stuck_at_chance"] is True
    assert stuck["verdict"] == "within noise"
    learns = verdict(ref, _run([0.11, 0.45, 0.80]), "mnist")
    assert learns["verdict"] == "off"


def test_other_datasets_unreached_epochs_and_step_references_are_not_judged():
    ref = Reference("r", "test_accuracy", 1, 0.9, "90%")
    sample = verdict(ref, _run([0.5], dataset="mnist-sample"), "mnist")
    assert sample["ours"] == 0.5
    assert sample["verdict"] == "not comparable (reference is for mnist, this ran on mnist-sample)"
    later = Reference("r", "test_accuracy", 5, 0.9, "90%")
    assert verdict(later, _run([0.5]), "mnist")["verdict"] == "not reached (the run has 1 epochs)"
    steps = Reference("r", "test_accuracy", 1, 0.965, "96.5% at step 200", step=200)
    assert verdict(steps, _run([0.5]), "mnist")["verdict"].startswith("not measured")


def test_every_study_has_a_name_an_s_number_a_question_and_references_on_its_own_runs():
    assert len(studies.CATALOG) == 12
    for study in studies.CATALOG:
        assert studies.find_study(study.number.lower()) is study
        assert study.question.endswith("?")
        members = {m.name for m in study.members}
        for ref in study.references:
            assert ref.run in members, (study.name, ref.run)
            assert 0 < ref.value < 1
