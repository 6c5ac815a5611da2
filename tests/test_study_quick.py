"""Every study of studies.md in ``--quick`` mode (tiny nets, one epoch, the bundled sample): each
runs end to end through the train API and leaves its folder, study.json and ONE self-contained
report with the figures its spec lists and a verdict table. All twelve run once, in one fixture."""

from __future__ import annotations

import json
import re

import pytest

from helpers import assert_user_error, run_cli
from mnistlab import ConfigError, studies

NAMES = (
    "softmax",
    "deep-mlp",
    "cnn-nchw",
    "tanh-mlp",
    "learning-rate",
    "capacity",
    "relu-vs-lenet",
    "binary-1v7",
    "backprop",
    "features-3v8",
    "denoise-cosine",
    "validation-split",
)

# The figure titles each report must hold: what the spec's "Figures" lines list.
FIGURES = {
    "softmax": [
        "Accuracy per epoch",
        "Class templates: L2, lambda 0.001",
        "Class templates: L1, lambda 0.001",
    ],
    "deep-mlp": ["Accuracy per epoch", "First-layer weights"],
    "cnn-nchw": ["Accuracy per epoch"],
    "tanh-mlp": ["Accuracy per epoch"],
    "learning-rate": ["Accuracy per epoch"],
    "capacity": ["Train vs test accuracy"],
    "relu-vs-lenet": ["Accuracy per epoch"],
    "binary-1v7": [
        "Loss and test accuracy",
        "Labelled samples",
        "Untrained logits",
        "random initialisations",
        "Gradients at initialisation",
        "Four rows of test images",
    ],
    "backprop": ["Learning curves"],
    "features-3v8": ["Reconstructions", "Features of the test 3s and 8s"],
    "denoise-cosine": ["Noisy signal, clean cosine and network output"],
    "validation-split": ["Train and validation accuracy"],
}


@pytest.fixture(scope="module")
def quick(tmp_path_factory, cheap_compiles):
    root = tmp_path_factory.mktemp("quick-studies")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MNISTLAB_DATA_DIR", str(root / "cache"))
        mp.setenv("MPLBACKEND", "Agg")
        results = {name: studies.run(name, quick=True, out=root / name, quiet=True) for name in NAMES}
    return root, results


def test_study_list_shows_the_twelve_studies_with_their_s_numbers(capsys):
    code, out, _ = run_cli(capsys, "study", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == list(NAMES)
    assert [r["number"] for r in rows] == [f"S{i}" for i in range(1, 13)]
    assert all(r["runs"] and r["estimate_seconds"] > 0 and r["shows"] for r in rows)
    assert next(r for r in rows if r["name"] == "tanh-mlp")["reference_datasets"] == ["mnist"]


def test_every_study_writes_its_folder_json_and_one_self_contained_report(quick):
    root, results = quick
    for name in NAMES:
        folder = root / name
        info = json.loads((folder / "study.json").read_text())
        assert info["study"] == name
        assert info["status"] == "completed"
        html = (folder / "report.html").read_text()
        assert "http://" not in html  # nothing fetched: the page opens offline
        assert "https://" not in html
        titles = re.findall(r"<figcaption><strong>([^<]*)</strong>", html)
        for wanted in FIGURES[name]:
            assert any(wanted in t for t in titles), (name, wanted, titles)
        assert html.count("data:image/png;base64,") == len(titles)
        assert "id='verdicts'" in html
        assert studies.find_study(name).question.split()[0] in html
        for member, run in results[name].runs.items():
            assert (folder / "runs" / member / "params.npz").is_file()
            assert run.info["status"] in ("completed", "diverged")


def test_reference_points_get_a_verdict_and_quick_runs_are_not_compared_with_mnist(quick):
    _, results = quick
    s4 = results["tanh-mlp"]
    by_epoch = {(v["metric"], v["epoch"]): v for v in s4.verdicts}
    first = by_epoch[("test_accuracy", 1)]
    assert first["ours"] is not None
    assert first["reference"] == 0.9377
    assert first["verdict"].startswith("not comparable (reference is for mnist")
    assert by_epoch[("test_accuracy", 10)]["verdict"].startswith("not reached")
    assert "reference points within noise" in repr(s4)
    assert len(repr(s4)) < 200
    s8 = results["binary-1v7"]
    # --quick scores every 20 steps: its epochs 1 and 4 are not the references' steps 200 and 800.
    assert [v["verdict"] for v in s8.verdicts][:2] == [
        "not measured (epoch 1 of this run is step 20, not 200)",
        "not reached (the run has 2 epochs)",
    ]
    s5 = results["learning-rate"].verdicts[-1]
    assert "stuck_at_chance" in s5  # lr 2's "stays at chance" is checked over the whole run


def test_s10_compares_raw_pixels_with_both_learned_features(quick):
    _, results = quick
    acc = results["features-3v8"].analysis["accuracy_3v8"]
    assert set(acc) == {"raw pixels", "autoencoder code", "classifier bottleneck"}
    assert all(0.5 < a <= 1.0 for a in acc.values())


def test_s12_keeps_the_best_validation_parameters_beside_the_last(quick):
    root, _ = quick
    run = root / "validation-split" / "runs" / "mlp"
    best = json.loads((run / "best-validation_accuracy.json").read_text())
    assert best["epoch"] == 1
    assert (run / "best-validation_accuracy.npz").is_file()


def test_rerunning_into_the_same_folder_skips_finished_runs_and_refuses_other_settings(quick):
    root, _ = quick
    again = studies.run("s4", quick=True, out=root / "tanh-mlp", quiet=True)
    assert again.runs["tanh"].action == "skipped (finished)"
    resumed = studies.run("tanh-mlp", resume=True, out=root / "tanh-mlp", quiet=True)
    assert resumed.runs["tanh"].action == "skipped (finished)"
    with pytest.raises(ConfigError, match=r"holds a tanh-mlp study with settings quick=True, not epochs=3"):
        studies.run("tanh-mlp", epochs=3, out=root / "tanh-mlp", quiet=True)
    with pytest.raises(ConfigError, match=r"holds study 'tanh-mlp', not 'softmax'"):
        studies.run("softmax", quick=True, out=root / "tanh-mlp", quiet=True)


def test_s11_is_seeded_and_its_output_is_a_fit_of_the_noisy_signal():
    a, b = studies.denoise(key=0), studies.denoise(key=0)
    assert (a["output"] == b["output"]).all()  # same key, same arithmetic: exactly equal
    assert a["costs"][-1] < a["costs"][0] / 100
    assert studies.denoise(key=1)["noisy"][0] != a["noisy"][0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["nope"], ["study must be one of softmax, deep-mlp", "'nope'"]),
        (["s4", "--epochs", "0"], ["epochs (--epochs) must be a positive integer <= 10000", "got 0"]),
        (["s4", "--epochs", "99999999999"], ["epochs (--epochs)", "<= 10000"]),
        (["s4", "--seeds", "100000"], ["seeds (--seeds) must be a positive integer <= 1024"]),
        (["s4", "--dataset", "mnist-samle"], ["dataset (--dataset)", "did you mean 'mnist-sample'?"]),
        (["s4", "--out", "/proc/x"], ["--out /proc/x cannot be written"]),
        (["backprop", "--seeds", "3"], ["--seeds: backprop compares implementations from one seed"]),
    ],
)
def test_study_run_user_errors_are_one_line_before_any_work(capsys, tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)  # a default --out would land here
    code, out, err = run_cli(capsys, "study", "run", *args)
    assert_user_error(code, err, *fragments)
    assert out == ""
    assert not (tmp_path / "studies").exists()


def test_an_interrupted_study_resumes_its_unfinished_run_where_it_stopped(
    tmp_path, monkeypatch, cheap_compiles, compilation_cache
):
    from mnistlab import train

    real_train = train.train

    def stopped_after_one_epoch(config, **kw):  # as if killed after epoch 1's checkpoint
        return real_train(config, **{**kw, "callbacks": [lambda record, history, state: True]})

    out = tmp_path / "s4"
    monkeypatch.setattr(train, "train", stopped_after_one_epoch)
    first = studies.run("tanh-mlp", quick=True, epochs=2, out=out, quiet=True)
    assert first.runs["tanh"].info["status"] == "stopped"
    assert len(first.runs["tanh"].records) == 1
    monkeypatch.setattr(train, "train", real_train)
    second = studies.run("tanh-mlp", resume=True, out=out, quiet=True)
    assert second.runs["tanh"].action == "resumed from epoch 1"
    assert [r["epoch"] for r in second.runs["tanh"].records] == [1, 2]
    assert second.info["settings"] == {"dataset": None, "seeds": None, "epochs": 2, "quick": True}
