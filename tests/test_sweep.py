"""Sweeps: configs differing only in hyperparameters train as ONE compiled program, and each
member's run folder is the run its config trains alone.

The comparisons run in float64. A sweep member and its run alone do the same arithmetic except
that XLA:CPU may block a matmul batched over 4 members differently from one over 1 or 2, which
rounds the same sums in another order (about 1e-16 relative per operation); two epochs of a
convex softmax regression at a small learning rate do not amplify that past ~1e-13, so 1e-10 is
tight yet independent of this machine's rounding. (The penalties of a member with lambda 0 add
exact zeros, and its optimizer step is its own optimizer's: those introduce no difference.)
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnistlab import ConfigError, train
from mnistlab.runs import RunDir

BASE = train.TrainConfig(
    dataset="mnist-sample", model="softmax", optimizer="momentum", epochs=2, batch_size=100, dtype="float64"
)
POINTS = (
    BASE.replace(lr=0.05, l2=1e-3, seeds=(0, 1)),  # two seeds: members are points x seeds
    BASE.replace(lr=0.1, momentum=0.5, l1=1e-3, seeds=(3,)),  # L1 beside L2: zero penalties are exact
    BASE.replace(lr=1e300, l2=1e-3, seeds=(0,)),  # its second step's penalty overflows
)
RTOL, ATOL = 1e-10, 1e-12
NUMBERS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr")


pytestmark = pytest.mark.usefixtures(
    "compilation_cache"
)  # the interrupted sweep reuses the fixture's program


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cheap_compiles):
    """The sweep, and its healthy points trained alone; the sweep's engine, to count its programs."""
    from mnistlab.train import Engine

    root = tmp_path_factory.mktemp("sweep")
    engines = []
    real_init = Engine.__init__

    def recording(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        engines.append(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Engine, "__init__", recording)
        swept = train.train_sweep(POINTS, outs=[root / f"sweep-{i}" for i in range(3)], quiet=True)
    alone = [train.train(c, out=root / f"alone-{i}", quiet=True) for i, c in enumerate(POINTS[:2])]
    return root, swept, alone, engines[0]


def _params(path):
    with np.load(RunDir(path).params) as f:
        return [f[k] for k in sorted(f.files)]


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=RTOL, atol=ATOL)


def test_each_member_of_a_sweep_equals_its_config_trained_alone(trained):
    root, swept, alone, _ = trained
    for i in range(2):
        s, a = RunDir(root / f"sweep-{i}"), RunDir(root / f"alone-{i}")
        assert swept[i].status == alone[i].status == "completed"
        assert (s.path / "config.toml").read_text() == (a.path / "config.toml").read_text()
        assert len(s.metrics()) == len(a.metrics()) == 2
        for rs, ra in zip(s.metrics(), a.metrics(), strict=True):
            for key in NUMBERS:
                _close(rs[key], ra[key])
        for ps, pa in zip(_params(s.path), _params(a.path), strict=True):
            assert ps.shape == pa.shape
            _close(ps, pa)
        _close(s.steps(), a.steps())
        assert s.info["summary"]["epochs"] == 2
        assert s.info["seeds"] == list(POINTS[i].seeds)


def test_a_diverging_member_is_marked_diverged_and_leaves_the_others_training(trained):
    root, swept, _, _ = trained
    assert [r.status for r in swept] == ["completed", "completed", "diverged"]
    # What its run alone says: the overflow happens at step 2 whatever the rounding.
    message = "diverged at epoch 1, step 2: loss is inf; try a smaller learning rate (--lr, now 1e+300)"
    assert swept[2].message == message
    run = RunDir(root / "sweep-2")
    assert run.info["status"] == "diverged"
    assert run.info["message"] == message
    assert [r.get("diverged") for r in run.metrics()] == [True]
    # Its checkpoint is its last finite state (the initial one, epoch 0), as its run alone keeps.
    assert run.checkpoint_meta()["epoch"] == 0
    assert all(np.isfinite(p).all() for p in _params(run.path))


def test_a_sweep_compiles_one_epoch_program_for_all_its_members(trained):
    _, swept, _, engine = trained
    assert len(engine.seeds) == 4  # points x seeds: 2 + 1 + 1
    assert engine.traces == 1 + 1  # one epoch program, one evaluation program (the test set)
    assert [r.history.epochs[0]["lr"] for r in swept] == [0.05, 0.1, 1e300]


def test_the_members_folders_are_ordinary_runs_that_say_they_were_swept(trained):
    root, swept, _, _ = trained
    info = json.loads((root / "sweep-1" / "run.json").read_text())
    assert info["sweep"] == {"runs": 3, "index": 1}
    assert RunDir(root / "sweep-1").config.l1 == 1e-3
    assert "final_test_accuracy" in swept[1].summary


def test_an_interrupted_sweep_resumes_its_unfinished_members_together_leaving_the_diverged_one(
    trained, tmp_path, monkeypatch, cheap_compiles
):
    from mnistlab.train import Engine

    root, _, _, _ = trained
    real = Engine.run_epoch

    def interrupted_in_epoch_two(self, state, epoch, images, labels):
        if epoch == 1:
            raise KeyboardInterrupt
        return real(self, state, epoch, images, labels)

    outs = [tmp_path / f"m{i}" for i in range(3)]
    monkeypatch.setattr(Engine, "run_epoch", interrupted_in_epoch_two)
    first = train.train_sweep(POINTS, outs=outs, quiet=True)
    assert [r.status for r in first] == ["interrupted", "interrupted", "diverged"]
    assert "mnistlab train --resume" in first[0].message
    assert [RunDir(o).checkpoint_meta()["epoch"] for o in outs[:2]] == [1, 1]
    monkeypatch.setattr(Engine, "run_epoch", real)
    # Resumed in the batched form an accelerator uses (on a CPU the members run in a loop), so
    # both forms of the one program are checked against the same numbers.
    monkeypatch.setattr("mnistlab.train._points.MEMBER_LOOP", {})
    again = train.resume_sweep(outs, quiet=True)
    assert [r.status for r in again] == ["completed", "completed", "diverged"]
    for i in range(2):
        got, want = RunDir(outs[i]), RunDir(root / f"sweep-{i}")
        assert [r["epoch"] for r in got.metrics()] == [1, 2]
        assert got.info["resumed"][0]["from_epoch"] == 1
        for rs, rw in zip(got.metrics(), want.metrics(), strict=True):
            for key in NUMBERS:
                _close(rs[key], rw[key])
        for a, b in zip(_params(got.path), _params(want.path), strict=True):
            _close(a, b)


def test_configs_that_differ_in_more_than_hyperparameters_are_refused_and_grouped_apart():
    with pytest.raises(ConfigError, match="may differ only in") as err:
        train.train_sweep([BASE, BASE.replace(batch_size=50)], outs=["a", "b"])
    assert "batch_size" in str(err.value)
    configs = [BASE, BASE.replace(model="mlp"), BASE.replace(lr=0.5, l2=0.1), BASE.replace(devices="2")]
    assert train.sweep_groups(configs) == [[0, 2], [1], [3]]
    with pytest.raises(ConfigError, match="one out folder per config"):
        train.train_sweep([BASE, BASE.replace(lr=0.5)], outs=["a"])
