"""Evaluating trained runs: `evaluate`, `evaluate_run`, `mnistlab evaluate`, the highest-loss
training examples on a corrupted-label run, untrained-network accuracies and weight gradients.

Offline, on the bundled MNIST sample, with small models trained for one or two epochs.
"""

from __future__ import annotations

import contextlib
import io
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab.cli import main
from mnistlab.evaluate import (
    Evaluation,
    Metrics,
    calibration,
    evaluate,
    evaluate_run,
    init_accuracies,
    load_run,
    predict_proba,
    weight_gradients,
)
from mnistlab.train import TrainConfig, l2_penalty, prepare_data, softmax_cross_entropy, train

# Tiny programs compiled once or twice each: XLA's optimisations would cost more than they save.
pytestmark = pytest.mark.usefixtures("cheap_compiles")


@pytest.fixture(scope="module")
def env():
    """Offline with a private cache, for the module-scoped runs (conftest's autouse one is per test)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MPLBACKEND", "Agg")
        yield mp


def quiet_main(*args) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in args])


@pytest.fixture(scope="module")
def classifier_run(env, cheap_compiles, tmp_path_factory):
    """A 32-unit MLP, two seeds in one program (so the metrics are of the ensemble), with an L2 term."""
    run_dir = tmp_path_factory.mktemp("classifier") / "run"
    args = ["--dataset", "mnist-sample", "--model", "mlp", "--widths", "32", "--epochs", "1"]
    assert quiet_main("train", *args, "--seeds", "0,1", "--l2", "1e-4", "--out", run_dir, "--quiet") == 0
    return run_dir


@pytest.fixture(scope="module")
def binary_run(env, cheap_compiles, tmp_path_factory):
    """Study S8's task (7 -> label 0, 1 -> label 1, each image standardised) with a small binary MLP."""
    run_dir = tmp_path_factory.mktemp("binary") / "run"
    args = ["--dataset", "mnist-sample", "--model", "binary-mlp", "--classes", "7,1", "--widths", "32"]
    assert quiet_main("train", *args, "--preprocess", "per-image", "--epochs", "1", "--out", run_dir) == 0
    return run_dir


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"JSON holds {name}")

    return json.loads(text, parse_constant=refuse)


# --- a classifier ---------------------------------------------------------------------------------


def test_evaluate_prints_the_metrics(classifier_run, capsys):
    code, out, err = run_cli(capsys, "evaluate", classifier_run)
    assert code == 0, err
    text = " ".join(out.split())
    assert "1,000 examples, epoch 1" in text
    assert "class examples predicted accuracy precision recall" in text
    assert "top-k accuracy: top-1" in text
    assert "top-3" in text
    assert "top-5" in text
    assert "expected calibration error" in text
    assert "(15 bins)" in text
    assert "ensemble of the 2 seeds" in text
    assert "the 20 training examples with the highest loss (of 4,000): loss" in text
    assert "ROC AUC" not in text


def test_evaluate_json_agrees_with_the_library(classifier_run, capsys):
    code, out, err = run_cli(capsys, "evaluate", classifier_run, "--json", "--bins", "10", "--examples", "3")
    assert code == 0, err
    res = strict_json(out)

    run = load_run(classifier_run)
    data = prepare_data(run.config, progress=False)
    test = data.evals["test"]
    ev = evaluate(run, test, bins=10, examples=3, train_losses=data.train, mislabelled=data.mislabelled)
    assert res == ev.metrics  # the CLI's JSON is the library's dict, every key

    # ... and the library's numbers are right.
    info = json.loads((classifier_run / "run.json").read_text())
    assert res["accuracy_per_seed"] == pytest.approx(
        info["summary"]["final_test_accuracy_per_seed"], abs=1e-12
    )
    assert res["ensemble"] is True
    assert res["seeds"] == [0, 1]
    assert res["class_names"] == [str(d) for d in range(10)]
    np.testing.assert_allclose(ev.probs, predict_proba(run, test.images), atol=1e-6)
    assert res["loss"] == pytest.approx(ev.per_example_loss.mean(), rel=1e-9)
    pred = ev.probs.argmax(axis=1)
    assert res["ensemble_accuracy"] == pytest.approx((pred == test.labels).mean())
    assert res["top_k_accuracy"]["1"] == res["ensemble_accuracy"]
    assert list(res["top_k_accuracy"]) == ["1", "3", "5"]
    assert res["top_k_accuracy"]["1"] <= res["top_k_accuracy"]["3"] <= res["top_k_accuracy"]["5"]
    cm = np.array(res["confusion_matrix"])
    assert cm.sum() == 1000
    for k, name in enumerate(res["class_names"]):
        pc = res["per_class"][name]
        assert pc["examples"] == cm[k].sum() == (test.labels == k).sum()
        assert pc["predicted"] == cm[:, k].sum() == (pred == k).sum()
        assert pc["recall"] == pc["accuracy"] == pytest.approx(cm[k, k] / cm[k].sum())
        assert pc["precision"] == pytest.approx(cm[k, k] / cm[:, k].sum())
    cal = res["calibration"]
    assert len(cal["bins"]) == 10
    assert sum(b["count"] for b in cal["bins"]) == 1000
    assert cal["ece"] == pytest.approx(calibration(ev.probs, test.labels, 10)["ece"])

    ex = res["notable_examples"]
    assert set(ex) == {"confident_correct", "confident_wrong"}
    for k, name in enumerate(res["class_names"]):
        right = ex["confident_correct"][name]
        assert len(right) == 3
        assert all(test.labels[i] == k and pred[i] == k for i in right)
        assert list(ev.probs[right, k]) == sorted(ev.probs[right, k], reverse=True)
        for item in ex["confident_wrong"][name]:
            i = item["index"]
            assert test.labels[i] == k
            assert pred[i] != k
            assert item["predicted"] == name_of(res, pred[i])
            assert item["predicted_index"] == pred[i]
            assert item["confidence"] == pytest.approx(ev.probs[i].max())

    hl = res["highest_loss_train"]
    assert hl["k"] == 20
    assert hl["examples"] == 4000
    assert hl["mislabelled_fraction"] is None
    assert hl["base_rate"] is None
    assert hl["mislabelled"] is None
    assert hl["losses"] == sorted(hl["losses"], reverse=True)
    np.testing.assert_allclose(hl["losses"], ev.train_loss[hl["indices"]])
    assert hl["losses"][-1] >= np.sort(ev.train_loss)[-20]
    assert hl["labels"] == data.train.labels[hl["indices"]].tolist()


def name_of(res, k) -> str:
    return res["class_names"][int(k)]


def test_evaluation_compiles_one_program_for_every_set(classifier_run):
    run = load_run(classifier_run)
    data = prepare_data(run.config, progress=False)
    evaluate(run, data.evals["test"], train_losses=data.train)  # 1,000 and 4,000 examples
    evaluate(run, data.evals["test"].subset(np.arange(1500)[::-1] % 1000))
    assert run._programs["score_traces"] == 1


def test_evaluate_run_without_the_training_set(classifier_run):
    res = evaluate_run(classifier_run, train=False).metrics
    assert "highest_loss_train" not in res
    assert res["examples"] == 1000


def test_evaluate_run_returns_an_evaluation_that_prints_short(classifier_run):
    import warnings

    from sklearn.metrics import classification_report

    ev = evaluate_run(classifier_run, train=False)
    assert isinstance(ev, Evaluation)
    assert isinstance(ev.metrics, Metrics)
    # One line in a notebook or a REPL, not every array: what was scored, how many, how well.
    text = repr(ev)
    assert "\n" not in text
    assert len(text) < 200, text
    for fragment in ("MNIST", "test", "1,000 examples", "epoch 1", "accuracy", "loss", "2 seeds"):
        assert fragment in text, (fragment, text)
    assert f"{100 * ev.metrics.accuracy:.2f}%" in text
    assert repr(ev.metrics).startswith("Metrics(")
    assert len(repr(ev.metrics)) < 200
    page = ev._repr_html_()
    assert page.count("<table") == 2  # the headline numbers, then one row per class
    assert page.split("mnistlab-per-class")[1].count("<tr>") == 1 + 10  # a header, ten classes
    assert len(page) < 5000

    # Typed fields, the JSON form and the old dict-style access agree.
    m, js = ev.metrics, ev.metrics.to_json()
    assert js == m  # a Metrics reads like its JSON dict
    assert m["accuracy"] == m.accuracy == js["accuracy"]
    assert m.per_class["3"].recall == m.per_class["3"].accuracy == js["per_class"]["3"]["recall"]
    assert m.get("binary") is None
    assert "highest_loss_train" not in m
    head = "run dataset title split examples epoch seeds class_names ensemble loss loss_per_seed"
    assert list(js)[:11] == head.split()  # in today's order; additions come later

    # Per-class F1 and the averages are classification_report's rows.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = classification_report(
            ev.dataset.labels, ev.predictions, labels=range(10), output_dict=True, zero_division=np.nan
        )
    for k, name in enumerate(m.class_names):
        row, c = report[str(k)], m.per_class[name]
        assert (c.precision, c.recall, c.f1, c.examples) == pytest.approx(
            (row["precision"], row["recall"], row["f1-score"], row["support"]), rel=1e-12
        )
    for avg, key in ((m.macro_avg, "macro avg"), (m.weighted_avg, "weighted avg")):
        row = report[key]
        assert (avg.precision, avg.recall, avg.f1, avg.examples) == pytest.approx(
            (row["precision"], row["recall"], row["f1-score"], row["support"]), rel=1e-12
        )
    assert js["averages"]["macro"]["f1"] == pytest.approx(report["macro avg"]["f1-score"], rel=1e-12)
    assert report["accuracy"] == pytest.approx(m.ensemble_accuracy, abs=1e-12)


def test_evaluate_option_errors_are_one_line(classifier_run, capsys):
    code, _, err = run_cli(capsys, "evaluate", classifier_run, "--bins", "0")
    assert_user_error(code, err, "--bins", ">= 1", "got 0")
    code, _, err = run_cli(capsys, "evaluate", classifier_run, "--examples", "-2")
    assert_user_error(code, err, "--examples", ">= 1", "got -2")


# --- a binary model -------------------------------------------------------------------------------


def test_evaluate_a_binary_run(binary_run, capsys):
    from sklearn.metrics import roc_auc_score

    code, out, err = run_cli(capsys, "evaluate", binary_run)
    assert code == 0, err
    text = " ".join(out.split())
    assert "positive class 1: accuracy at threshold 0.5" in text
    assert "ROC AUC 0.9" in text
    assert "top-k accuracy: top-1" in text
    assert "top-3" not in text

    code, out, err = run_cli(capsys, "evaluate", binary_run, "--json", "--examples", "5", "--no-train")
    assert code == 0, err
    res = strict_json(out)
    assert res["class_names"] == ["7", "1"]
    assert res["ensemble"] is False
    assert list(res["top_k_accuracy"]) == ["1"]  # only k below the number of classes
    assert "highest_loss_train" not in res

    run = load_run(binary_run)
    test = prepare_data(run.config, progress=False).evals["test"]
    ev = evaluate(run, test, examples=5)
    labels = test.labels
    b = res["binary"]
    assert b["threshold"] == 0.5
    assert b["score"] == "logit"
    assert b["positive_class"] == "1"
    assert b["negative_class"] == "7"
    # logit > 0 is sigmoid > 0.5 but for float rounding right at 0.5: at most one example apart
    assert b["accuracy"] == pytest.approx(res["accuracy"], abs=1 / len(test))
    assert b["roc_auc"] == pytest.approx(roc_auc_score(labels, ev.scores), abs=1e-12)
    assert b["roc_auc"] > 0.9
    fpr, tpr = np.array(b["roc"]["fpr"]), np.array(b["roc"]["tpr"])
    assert 2 < len(fpr) <= 200
    assert len(fpr) == len(tpr)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert (np.diff(fpr) >= 0).all()
    assert (np.diff(tpr) >= 0).all()
    assert np.trapezoid(tpr, fpr) == pytest.approx(b["roc_auc"], abs=0.01)

    ex = res["notable_examples"]
    rows = {"clear_positives", "clear_negatives", "confusing_positives", "confusing_negatives"}
    assert set(ex) == {"confident_correct", "confident_wrong"} | rows
    pos_scores = np.sort(ev.scores[labels == 1])
    neg_scores = np.sort(ev.scores[labels == 0])
    expected = {
        "clear_positives": (1, pos_scores[::-1][:5]),
        "confusing_positives": (1, pos_scores[:5]),
        "clear_negatives": (0, neg_scores[:5]),
        "confusing_negatives": (0, neg_scores[::-1][:5]),
    }
    for row, (label, scores) in expected.items():
        items = ex[row]
        assert [labels[it["index"]] for it in items] == [label] * 5
        np.testing.assert_allclose([it["score"] for it in items], scores)
        np.testing.assert_allclose([it["score"] for it in items], ev.scores[[it["index"] for it in items]])


def test_init_accuracies_of_a_binary_model_centre_on_chance(binary_run):
    run = load_run(binary_run)
    test = prepare_data(run.config, progress=False).evals["test"]
    accs = init_accuracies(run, test, n=100, key=jax.random.key(0))
    assert accs.shape == (100,)
    assert accs.dtype == np.float64
    assert ((accs >= 0) & (accs <= 1)).all()
    assert 0.4 < accs.mean() < 0.6  # untrained: chance, spread widely around it
    assert accs.std() > 0.03
    assert len(np.unique(accs)) > 10


def test_init_accuracies_are_separate_initialisations_in_one_program(classifier_run):
    run = load_run(classifier_run)
    test = prepare_data(run.config, progress=False).evals["test"]
    key = jax.random.key(7)
    accs = init_accuracies(run, test, n=3, key=key, chunk=300)  # 4 chunks, the last one padded
    engine = run.engine
    apply = jax.jit(engine.model.apply)
    x = engine.prepare(jnp.asarray(test.images))
    init = jax.jit(engine.model.init, static_argnums=1)
    expected = []
    for k in jax.random.split(key, 3):
        params = init(k, engine.input_shape)
        expected.append(float((np.asarray(apply(params, x)).argmax(axis=1) == test.labels).mean()))
    # A vmapped matmul may round differently from a plain one: allow one example's argmax to flip.
    np.testing.assert_allclose(accs, expected, atol=1.01 / len(test))
    assert not np.array_equal(accs, init_accuracies(run, test, n=3, key=jax.random.key(8)))
    np.testing.assert_array_equal(accs, init_accuracies(run, test, n=3, key=key))  # chunking changes nothing
    assert run._programs["init_traces"] == 2  # one per chunk size, however many calls


# --- gradients ------------------------------------------------------------------------------------


def test_weight_gradients_are_the_training_objectives(classifier_run):
    run = load_run(classifier_run)
    train_set = prepare_data(run.config, progress=False).train
    engine = run.engine
    assert run.config.l2 == 1e-4

    def objective(params, images, labels):  # written out: mean cross-entropy + l2 * sum(theta^2)
        logits = engine.model.apply(params, engine.prepare(jnp.asarray(images)))
        return softmax_cross_entropy(logits, jnp.asarray(labels)).mean() + 1e-4 * l2_penalty(params)

    for seed_index, m in ((1, 25), (0, 1500)):  # one chunk; two chunks of at most 1,000
        params = jax.tree.map(lambda a, i=seed_index: a[i], run.params)
        grads = weight_gradients(run, train_set, batch=m, seed_index=seed_index)
        assert set(grads) == {"hidden_0/kernel", "out/kernel"}
        direct = jax.jit(jax.grad(objective))(params, train_set.images[:m], train_set.labels[:m])["params"]
        for name, g in grads.items():
            layer = name.split("/")[0]
            assert g.shape == direct[layer]["kernel"].shape
            np.testing.assert_allclose(g, direct[layer]["kernel"], rtol=1e-4, atol=1e-7)
    assert np.abs(grads["out/kernel"]).max() > 0


# --- study S6: the highest-loss training examples are the mislabelled ones -----------------------


def test_highest_loss_training_examples_of_a_corrupted_run_are_mostly_mislabelled(env, tmp_path):
    # Half the training images (2,000 of 4,000) permuted: about 45% of the labels wrong. Two epochs
    # of a 256-unit MLP fit the clean majority without memorising the rest, so the wrong labels
    # carry the highest losses.
    config = TrainConfig(dataset="mnist-sample", model="mlp", widths=(256,), epochs=2, corrupt=2000)
    result = train(config, out=tmp_path / "s6", quiet=True)
    assert result.status == "completed"
    res = evaluate_run(tmp_path / "s6", highest_loss=500).metrics
    hl = res["highest_loss_train"]
    assert hl["k"] == 500
    assert hl["base_rate"] == pytest.approx(0.45, abs=0.02)
    assert hl["mislabelled_fraction"] > 0.9 > 2 * hl["base_rate"]
    assert sum(hl["mislabelled"]) == round(500 * hl["mislabelled_fraction"])
    data = prepare_data(load_run(tmp_path / "s6").config, progress=False)
    assert hl["base_rate"] == pytest.approx(data.mislabelled.mean())
    assert hl["mislabelled"] == data.mislabelled[hl["indices"]].tolist()
