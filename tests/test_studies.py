"""The study runner's shared parts: the registry of studies, options declared as data and checked
by the one validator, and results that work in a notebook. Small and offline: random pixels, one
epoch of logistic regression."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from mnistlab import ConfigError, studies
from mnistlab._checks import Interval, NoneOK

STUDIES_DIR = Path(studies.__file__).parent


@pytest.fixture(scope="module")
def random_data():
    rng = np.random.default_rng(0)
    return studies.StudyData(
        rng.uniform(0, 1, (120, 784)).astype(np.float32),
        rng.integers(0, 10, 120).astype(np.int32),
        rng.uniform(0, 1, (40, 784)).astype(np.float32),
        rng.integers(0, 10, 40).astype(np.int32),
        name="random",
        title="random pixels",
    )


# --- the registry ------------------------------------------------------------------------------


def test_every_study_is_listed_with_its_question_config_and_run_function():
    assert studies.study_names() == ("backprop", "logistic", "optimizers")
    for name in studies.study_names():
        study = studies.get_study(name)
        assert study.name == name
        assert study.question.endswith("?")
        assert "\n" not in study.question
        assert study.config().as_dict()["dataset"] == "auto"  # the defaults are valid
        assert callable(study.run)
        assert study.comparison.name == name  # results.json's "study" finds its presentation again
    assert studies.get_study("backprop").run is studies.run_backprop
    assert studies.get_study("optimizers").config is studies.OptimizersConfig


def test_a_study_is_found_by_alias_in_any_case_and_a_typo_gets_a_suggestion():
    assert studies.get_study("S9") is studies.get_study("backprop")
    assert studies.get_study(" Logistic ") is studies.get_study("logistic")
    with pytest.raises(
        ConfigError,
        match=r"study must be one of backprop, logistic, optimizers; got 'backprp' "
        r"\(did you mean 'backprop'\?\)",
    ):
        studies.get_study("backprp")


def test_each_study_module_holds_one_config_and_stays_small():
    """One module per study, none over ~400 lines, and none (nor any of mnistlab.scratch) reaching
    into another package's private modules (the shared top-level ``mnistlab._x`` layer excepted)."""
    for path in [*STUDIES_DIR.glob("*.py"), *(STUDIES_DIR.parent / "scratch").glob("*.py")]:
        assert len(path.read_text().splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                package, _, rest = node.module.partition(".")
                private = rest.startswith("_") or (
                    not package.startswith("_") and any(a.name.startswith("_") for a in node.names)
                )
                assert not private, f"{path.name} imports from ..{node.module}"
    for module in ("_backprop", "_logistic", "_optimizers"):
        source = (STUDIES_DIR / f"{module}.py").read_text()
        assert source.count("@dataclass(frozen=True)\nclass ") == 1, module


# --- options as data ---------------------------------------------------------------------------


def test_every_option_is_declared_with_constraints_and_every_size_has_an_upper_bound():
    for study in studies.STUDIES:
        declared = studies.constraints(study.config)
        assert set(declared) == {f.name for f in fields(study.config)}, study.name
        for name in ("epochs", "batch_size", "einsum_steps"):
            if name in declared:
                bounds = [c for c in declared[name] if isinstance(c, Interval)]
                assert bounds, (study.name, name)
                assert all(c.high is not None for c in bounds), (study.name, name)
                assert all(isinstance(c, Interval | NoneOK) for c in declared[name])
    assert studies.MAX_EPOCHS == 1_000
    assert studies.MAX_BATCH_SIZE == 60_000
    assert studies.MAX_EINSUM_STEPS == 1_000


@pytest.mark.parametrize(
    ("config", "options", "message"),
    [
        (
            studies.LogisticConfig,
            {"epochs": 1.5},
            "epochs (--epochs) must be a positive integer <= 1000; got 1.5",
        ),
        (studies.LogisticConfig, {"epochs": True}, "got True"),  # a bool is not an epoch count
        (studies.LogisticConfig, {"lr": float("nan")}, "lr (--lr) must be a number > 0; got nan"),
        (studies.LogisticConfig, {"skip": "numpy,jax-grad"}, "leaves nothing to run"),
        (studies.LogisticConfig, {"skip": "jax"}, "skip (--skip) must be one of numpy, jax-grad; got 'jax'"),
        (studies.OptimizersConfig, {"adam_lr": -1}, "adam_lr (--adam-lr) must be a number > 0; got -1"),
        (
            studies.OptimizersConfig,
            {"batch_size": 60_001},
            "batch_size (--batch-size) must be a positive integer <= 60000",
        ),
        (studies.OptimizersConfig, {"dataset": "fashion"}, "did you mean 'fashion-mnist'?"),
        (studies.BackpropConfig, {"full": "yes"}, "full (--full) must be true or false; got 'yes'"),
    ],
)
def test_bad_options_fail_in_one_line_naming_the_option_and_its_flag(config, options, message):
    with pytest.raises(ConfigError) as caught:
        config(**options)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


def test_options_come_out_normalised():
    c = studies.BackpropConfig(epochs=np.int64(2), skip=["einsum", " sklearn", "einsum"])
    assert c.epochs == 2
    assert type(c.epochs) is int
    assert c.skip == ("einsum", "sklearn")
    assert c.implementations == ("numpy", "jax", "jax-grad")
    # The einsum row's memory bound applies only while it runs.
    assert studies.BackpropConfig(batch_size=5_000, skip="einsum").recipe("jax").batch_size == 5_000
    assert studies.parse_skip(" sklearn, ,einsum", studies.IMPLEMENTATIONS) == ("sklearn", "einsum")


# --- results in a notebook -----------------------------------------------------------------------


def test_a_result_has_a_short_repr_an_html_table_and_a_figure_without_pyplot(random_data, tmp_path):
    import matplotlib

    backend = matplotlib.get_backend()
    config = studies.LogisticConfig(epochs=1, batch_size=40, skip="jax-grad")
    result = studies.get_study("logistic").run(config, data=random_data, save=False, quiet=True)
    assert repr(result) == "StudyResult('logistic', rows=[numpy], out_dir=None)"
    html = result._repr_html_()
    assert "numpy (hand-written)" in html
    assert "predict s" in html
    fig = studies.plot_curves(result.info)
    assert type(fig).__name__ == "Figure"
    assert [ax.get_ylabel() for ax in fig.axes] == ["training accuracy", "training cross-entropy"]
    path = tmp_path / "curves.svg"
    assert studies.plot_curves(result.info, path) is not None
    assert "training cross-entropy" in path.read_text()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it
    assert matplotlib.get_backend() == backend  # the user's backend is left alone


def test_a_study_run_on_the_auto_dataset_resumes_against_the_dataset_it_resolved_to():
    # The study asks for dataset "auto"; its runs saved the dataset it became ("mnist"). Resume
    # once refused such a run as "another config", so a full-MNIST study could never resume.
    from mnistlab.runs import TrainConfig
    from mnistlab.studies._execute import _same

    wanted = TrainConfig(dataset="auto", model="mlp", lr=0.1)
    assert _same(TrainConfig(dataset="mnist", model="mlp", lr=0.1), wanted)
    assert not _same(TrainConfig(dataset="mnist", model="mlp", lr=0.2), wanted)
