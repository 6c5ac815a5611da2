"""The metric functions and example finders of mnistlab.evaluate, against cases worked out by hand."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from mnistlab import ConfigError
from mnistlab.evaluate import (
    averaged_metrics,
    binary_extremes,
    calibration,
    confident_examples,
    confusion_matrix,
    highest_loss,
    per_class_metrics,
    roc_auc,
    roc_curve,
    thresholded_accuracy,
    top_k_accuracy,
)

nan = np.nan


def assert_one_line_error(exc_info, *fragments: str) -> None:
    msg = str(exc_info.value)
    assert "\n" not in msg, msg
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"


# --- confusion matrix, precision, recall ---------------------------------------------------------


def test_confusion_matrix_rows_are_true_classes_and_an_absent_class_keeps_its_row():
    labels = [0, 0, 1, 2, 2, 2]
    preds = [0, 1, 1, 2, 0, 2]
    cm = confusion_matrix(labels, preds, 4)  # class 3 never occurs and is never predicted
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])


def test_precision_and_recall_with_a_class_that_never_appears_and_one_never_predicted():
    # Class 1 occurs twice and is never predicted; class 2 never occurs and is predicted once.
    labels = [0, 0, 1, 1, 0]
    preds = [0, 2, 0, 0, 0]
    m = per_class_metrics(confusion_matrix(labels, preds, 4))
    np.testing.assert_array_equal(m["support"], [3, 2, 0, 0])
    np.testing.assert_array_equal(m["predicted"], [4, 0, 1, 0])
    np.testing.assert_array_equal(m["correct"], [2, 0, 0, 0])
    # precision = correct / predicted, NaN when never predicted; recall = correct / support, NaN when absent
    np.testing.assert_allclose(m["precision"], [2 / 4, nan, 0 / 1, nan])
    np.testing.assert_allclose(m["recall"], [2 / 3, 0 / 2, nan, nan])


def test_f1_by_hand_with_a_class_that_never_appears_and_one_never_predicted():
    # The case above: F1 = 2 correct / (support + predicted). Class 1 occurs but is never
    # predicted: F1 0 (badly predicted), though its precision is undefined. Class 3 neither
    # occurs nor is predicted: F1 undefined too.
    m = per_class_metrics(confusion_matrix([0, 0, 1, 1, 0], [0, 2, 0, 0, 0], 4))
    np.testing.assert_allclose(m["f1"], [2 * 2 / (3 + 4), 0.0, 0.0, nan])
    avg = averaged_metrics(confusion_matrix([0, 0, 1, 1, 0], [0, 2, 0, 0, 0], 4))
    # Undefined values are left out of the averages, not counted as 0.
    assert avg["macro"]["precision"] == pytest.approx((2 / 4 + 0) / 2)
    assert avg["macro"]["recall"] == pytest.approx((2 / 3 + 0) / 2)
    assert avg["macro"]["f1"] == pytest.approx((4 / 7 + 0 + 0) / 3)
    assert avg["weighted"]["precision"] == pytest.approx(2 / 4)  # class 2's weight (support) is 0
    assert avg["weighted"]["recall"] == pytest.approx((3 * 2 / 3 + 2 * 0) / 5)
    assert avg["weighted"]["f1"] == pytest.approx((3 * 4 / 7 + 2 * 0 + 0 * 0) / 5)
    assert avg["macro"]["examples"] == avg["weighted"]["examples"] == 5


def _sklearn_rows(labels, preds, k, zero_division):
    """scikit-learn's per-class precision, recall, F1, support and its macro / weighted averages."""
    from sklearn.metrics import classification_report, precision_recall_fscore_support

    classes = list(range(k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UndefinedMetricWarning: the cases are chosen to have them
        per_class = precision_recall_fscore_support(
            labels, preds, labels=classes, zero_division=zero_division
        )
        report = classification_report(
            labels, preds, labels=classes, output_dict=True, zero_division=zero_division
        )
    return per_class, report


def _random_case(seed: int):
    """Labels and predictions over ``k`` classes, some never occurring, some never predicted."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 8))
    n = int(rng.integers(1, 60))
    labels = rng.choice(rng.permutation(k)[: rng.integers(1, k + 1)], size=n)
    preds = np.where(
        rng.random(n) < 0.5, labels, rng.choice(rng.permutation(k)[: rng.integers(1, k + 1)], size=n)
    )
    return labels, preds, k


EDGE_CASES = [
    ([0, 1, 2, 2], [0, 1, 2, 2], 3),  # perfect
    ([0, 0, 0], [1, 1, 1], 2),  # class 0 never predicted, class 1 never occurs: nothing right
    ([0, 0, 1], [0, 0, 0], 3),  # class 1 never predicted, class 2 neither occurs nor is predicted
    ([2], [2], 4),  # one example
]


@pytest.mark.parametrize("case", [*EDGE_CASES, *range(20)])
def test_per_class_and_averaged_metrics_match_sklearn_with_zero_division_nan(case):
    labels, preds, k = _random_case(case) if isinstance(case, int) else case
    m = per_class_metrics(confusion_matrix(labels, preds, k))
    avg = averaged_metrics(confusion_matrix(labels, preds, k))
    (p, r, f, support), report = _sklearn_rows(labels, preds, k, np.nan)
    np.testing.assert_allclose(m["precision"], p, rtol=1e-12)  # NaN where sklearn has NaN, too
    np.testing.assert_allclose(m["recall"], r, rtol=1e-12)
    np.testing.assert_allclose(m["f1"], f, rtol=1e-12)
    np.testing.assert_array_equal(m["support"], support)
    for ours, theirs in (("macro", "macro avg"), ("weighted", "weighted avg")):
        row = report[theirs]
        if ours == "weighted" and not (support[~np.isnan(p)] > 0).any():
            # No class with a precision has support: sklearn falls back to the unweighted mean,
            # here the weighted average is undefined.
            assert np.isnan(avg[ours]["precision"])
            continue
        assert avg[ours]["precision"] == pytest.approx(row["precision"], rel=1e-12, nan_ok=True)
        assert avg[ours]["recall"] == pytest.approx(row["recall"], rel=1e-12, nan_ok=True)
        assert avg[ours]["f1"] == pytest.approx(row["f1-score"], rel=1e-12, nan_ok=True)
        assert avg[ours]["examples"] == row["support"] == len(labels)


def test_sklearns_default_zero_division_counts_the_undefined_values_as_zero():
    # Where ours are NaN, sklearn's default puts 0 and averages it in: lower averages. F1 is the
    # same either way except for a class that neither occurs nor is predicted.
    labels, preds, k = [0, 0, 1, 1, 0], [0, 2, 0, 0, 0], 4
    m = per_class_metrics(confusion_matrix(labels, preds, k))
    (p, r, f, _), report = _sklearn_rows(labels, preds, k, 0.0)
    np.testing.assert_allclose(np.nan_to_num(m["precision"]), p)
    np.testing.assert_allclose(np.nan_to_num(m["recall"]), r)
    np.testing.assert_allclose(np.nan_to_num(m["f1"]), f)
    assert report["macro avg"]["precision"] == pytest.approx(np.nan_to_num(m["precision"]).mean())
    assert (
        report["macro avg"]["precision"]
        < averaged_metrics(confusion_matrix(labels, preds, k))["macro"]["precision"]
    )


def test_per_class_metrics_rejects_a_non_square_matrix():
    with pytest.raises(ConfigError) as e:
        per_class_metrics(np.zeros((2, 3), np.int64))
    assert_one_line_error(e, "cm", "square", "(2, 3)")


# --- top-k ---------------------------------------------------------------------------------------

PROBS = np.array(
    [
        [0.1, 0.2, 0.3, 0.4],  # label 3: the most probable
        [0.5, 0.2, 0.2, 0.1],  # label 2: tied with class 1, which argmax would prefer: third
        [0.25, 0.25, 0.25, 0.25],  # label 3: a four-way tie, the label last: fourth
    ]
)
PROBS_LABELS = np.array([3, 2, 3])


@pytest.mark.parametrize(("k", "expected"), [(1, 1 / 3), (2, 1 / 3), (3, 2 / 3), (4, 1.0)])
def test_top_k_accuracy_by_hand(k, expected):
    assert top_k_accuracy(PROBS, PROBS_LABELS, k) == pytest.approx(expected)


def test_top_1_is_the_argmax_accuracy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=200)
    p[:20] = 0.2  # ties: argmax takes the first class
    y = rng.integers(0, 5, 200)
    assert top_k_accuracy(p, y, 1) == pytest.approx((p.argmax(1) == y).mean())


# --- calibration ---------------------------------------------------------------------------------

# Six binary predictions; with 5 bins (0, .2] (.2, .4] (.4, .6] (.6, .8] (.8, 1]:
#   (.8, 1]:  .9 right, .85 wrong, .95 right -> count 3, confidence .9, accuracy 2/3
#   (.6, .8]: .7 right, .65 wrong            -> count 2, confidence .675, accuracy 1/2
#   (.4, .6]: .55 right                      -> count 1, confidence .55, accuracy 1
# ECE = 3/6 |2/3 - .9| + 2/6 |.5 - .675| + 1/6 |1 - .55| = .11667 + .05833 + .075 = .25
CAL_PROBS = np.array([[0.9, 0.1], [0.85, 0.15], [0.3, 0.7], [0.35, 0.65], [0.55, 0.45], [0.05, 0.95]])
CAL_LABELS = np.array([0, 1, 1, 0, 0, 1])


def test_calibration_by_hand():
    cal = calibration(CAL_PROBS, CAL_LABELS, bins=5)
    assert cal["ece"] == pytest.approx(0.25)
    b = cal["bins"]
    assert [x["count"] for x in b] == [0, 0, 1, 2, 3]
    assert [x["lower"] for x in b] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    assert [x["upper"] for x in b] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert b[0]["confidence"] is None
    assert b[0]["accuracy"] is None
    assert b[1]["confidence"] is None
    assert b[1]["accuracy"] is None
    assert [x["confidence"] for x in b[2:]] == pytest.approx([0.55, 0.675, 0.9])
    assert [x["accuracy"] for x in b[2:]] == pytest.approx([1.0, 0.5, 2 / 3])


def test_calibration_bins_include_their_upper_edge():
    # Confidences exactly 0.8 and 1.0 fall in the bins that end there: (0.6, 0.8] and (0.8, 1].
    cal = calibration(np.array([[0.2, 0.8], [0.0, 1.0]]), np.array([1, 1]), bins=5)
    assert [x["count"] for x in cal["bins"]] == [0, 0, 0, 1, 1]
    assert cal["ece"] == pytest.approx(0.5 * 0.2)


def test_a_perfectly_calibrated_case_has_zero_ece():
    # Confidence 0.75 in one bin, right 3 times out of 4.
    probs = np.array([[0.75, 0.25]] * 4)
    assert calibration(probs, np.array([0, 0, 0, 1]), bins=10)["ece"] == pytest.approx(0.0)


# --- ROC -----------------------------------------------------------------------------------------

# Positives score .4, .4, .8; negatives .1, .4, .8. Pairs (pos, neg) ordered right count 1, ties 1/2:
#   each .4 positive: 1 (vs .1) + 1/2 (vs .4) + 0 (vs .8) = 1.5, twice = 3
#   the .8 positive:  1 + 1 + 1/2 = 2.5          -> AUC = 5.5 / 9
TIE_SCORES = np.array([0.1, 0.4, 0.4, 0.4, 0.8, 0.8])
TIE_LABELS = np.array([0, 0, 1, 1, 0, 1])


def test_roc_auc_with_ties_by_hand_and_as_sklearn():
    from sklearn.metrics import roc_auc_score

    assert roc_auc(TIE_SCORES, TIE_LABELS) == pytest.approx(5.5 / 9, abs=1e-15)
    assert roc_auc(TIE_SCORES, TIE_LABELS) == pytest.approx(roc_auc_score(TIE_LABELS, TIE_SCORES))


def test_roc_curve_by_hand_and_as_sklearn():
    from sklearn.metrics import roc_curve as sk_roc_curve

    fpr, tpr, thr = roc_curve(TIE_SCORES, TIE_LABELS)
    np.testing.assert_allclose(fpr, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1, 1])
    np.testing.assert_array_equal(thr, [np.inf, 0.8, 0.4, 0.1])
    sk_fpr, sk_tpr, _ = sk_roc_curve(TIE_LABELS, TIE_SCORES, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(TIE_SCORES, TIE_LABELS))


def test_roc_auc_is_the_mann_whitney_count_on_heavily_tied_scores():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, 300).astype(float)  # four distinct values: ties everywhere
    labels = (rng.random(300) < 0.4 + 0.1 * scores).astype(int)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = sum((p > q) + 0.5 * (p == q) for p, q in itertools.product(pos, neg))
    assert roc_auc(scores, labels) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-15)
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_roc_needs_both_classes():
    for fn in (roc_auc, roc_curve):
        with pytest.raises(ConfigError) as e:
            fn([0.2, 0.9, 0.4], [1, 1, 1])
        assert_one_line_error(e, "labels", "both classes", "only label 1 (3 examples)")


# --- thresholded accuracy ------------------------------------------------------------------------


def test_thresholded_accuracy_by_hand():
    p = [0.2, 0.5, 0.51, 0.9]
    y = [0, 0, 1, 0]
    assert thresholded_accuracy(p, y) == 0.75  # 0.5 is not above 0.5: called negative, as logit 0 is
    assert thresholded_accuracy(p, y, threshold=0.85) == 0.5
    assert thresholded_accuracy(p, np.array(y, bool), threshold=0.0) == 0.25


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda: confusion_matrix([0, 1], [0], 2), ["labels and predictions", "same length", "2 and 1"]),
        (lambda: confusion_matrix([0, 3], [0, 1], 3), ["labels", "[0, 2]", "[3]"]),
        (lambda: confusion_matrix([[0, 1]], [0, 1], 2), ["labels", "1-D", "(1, 2)"]),
        (lambda: confusion_matrix([0.5], [0], 2), ["labels", "integers", "float64"]),
        (lambda: confusion_matrix([0], [0], 0), ["num_classes", "a positive integer", "0"]),
        (lambda: top_k_accuracy(PROBS, PROBS_LABELS, 5), ["k", "a positive integer <= 4", "5"]),
        (lambda: top_k_accuracy([[0.5, 0.5, 0.0]] * 3, [0, 3, 0], 1), ["labels", "[0, 2]", "[3]"]),
        (lambda: top_k_accuracy([[1.5, -0.5]], [0], 1), ["probs", "[0, 1]", "-0.5 to 1.5"]),
        (lambda: top_k_accuracy(PROBS * 0.5, PROBS_LABELS, 1), ["probs", "sum to 1", "row 0", "0.5"]),
        (lambda: top_k_accuracy(PROBS[0], PROBS_LABELS, 1), ["probs", "2-D", "(4,)"]),
        (lambda: calibration(CAL_PROBS, CAL_LABELS, bins=0), ["bins", "a positive integer", "0"]),
        (lambda: calibration(CAL_PROBS[:0], CAL_LABELS[:0]), ["probs", "at least one example"]),
        (lambda: roc_auc([0.1, np.nan], [0, 1]), ["scores", "finite", "1 NaN"]),
        (lambda: roc_auc([0.1, 0.2], [0, 2]), ["labels", "0 or 1", "[2]"]),
        (lambda: thresholded_accuracy([0.1, 1.2], [0, 1]), ["p_positive", "[0, 1]", "1.2"]),
        (lambda: thresholded_accuracy([0.1], [0], threshold="high"), ["threshold", "[0, 1]", "'high'"]),
    ],
)
def test_bad_inputs_are_one_line_config_errors(call, fragments):
    with pytest.raises(ConfigError) as e:
        call()
    assert_one_line_error(e, *fragments)


# --- example finders -----------------------------------------------------------------------------

# Three classes; class 2 never occurs as a label.
EX_PROBS = np.array(
    [
        [0.9, 0.05, 0.05],  # 0: label 0, right, .9
        [0.6, 0.3, 0.1],  # 1: label 0, right, .6
        [0.9, 0.05, 0.05],  # 2: label 0, right, .9 (tied with 0: the lower index first)
        [0.2, 0.7, 0.1],  # 3: label 0, wrong (1), .7
        [0.1, 0.1, 0.8],  # 4: label 0, wrong (2), .8
        [0.1, 0.8, 0.1],  # 5: label 1, right, .8
        [0.5, 0.4, 0.1],  # 6: label 1, wrong (0), .5
        [0.3, 0.3, 0.4],  # 7: label 1, wrong (2), .4
        [0.4, 0.4, 0.2],  # 8: label 1, a tie that argmax gives to class 0: wrong, .4 (tied with 7)
    ]
)
EX_LABELS = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])


def test_confident_examples_by_hand():
    got = confident_examples(EX_PROBS, EX_LABELS, k=2)
    assert got == {
        "correct": {0: [0, 2], 1: [5], 2: []},
        "wrong": {0: [4, 3], 1: [6, 7], 2: []},
    }
    got = confident_examples(EX_PROBS, EX_LABELS, k=8)  # more than any class has
    assert got["correct"] == {0: [0, 2, 1], 1: [5], 2: []}
    assert got["wrong"] == {0: [4, 3], 1: [6, 7, 8], 2: []}


def test_binary_extremes_by_hand():
    scores = np.array([3.0, -1.0, 2.0, -4.0, 0.5, -1.0, 2.0, 5.0])
    labels = np.array([1, 0, 1, 0, 0, 0, 1, 1])
    assert binary_extremes(scores, labels, n=2) == {
        "clear_positives": [7, 0],  # largest among the 1s
        "clear_negatives": [3, 1],  # smallest among the 0s; 1 and 5 tie at -1: the lower index
        "confusing_positives": [2, 6],  # smallest among the 1s (a tie at 2)
        "confusing_negatives": [4, 1],  # largest among the 0s
    }
    five = binary_extremes(scores, labels, n=5)  # only four of each
    assert five["clear_positives"] == [7, 0, 2, 6]
    assert five["confusing_positives"] == [2, 6, 0, 7]
    assert five["clear_negatives"] == [3, 1, 5, 4]
    assert five["confusing_negatives"] == [4, 1, 5, 3]


def test_highest_loss_with_and_without_a_mask():
    losses = np.array([0.1, 2.0, 0.5, 3.0, 2.0, 0.2])
    mask = np.array([False, True, False, True, False, False])
    got = highest_loss(losses, 3, mask)
    assert got["indices"] == [3, 1, 4]  # 1 and 4 tie: the lower index first
    assert got["losses"] == [3.0, 2.0, 2.0]
    assert got["mislabelled_fraction"] == pytest.approx(2 / 3)
    assert got["base_rate"] == pytest.approx(2 / 6)
    plain = highest_loss(losses, 10)
    assert plain["indices"] == [3, 1, 4, 2, 5, 0]
    assert plain["mislabelled_fraction"] is None
    assert plain["base_rate"] is None


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda: confident_examples(EX_PROBS, EX_LABELS, k=0), ["k", "a positive integer", "0"]),
        (lambda: confident_examples(EX_PROBS, EX_LABELS[:3]), ["probs and labels", "9 and 3"]),
        (lambda: binary_extremes([1.0, 2.0], [0, 3]), ["labels", "0 or 1"]),
        (lambda: highest_loss([1.0, 2.0], 1, np.array([True])), ["losses and mislabelled", "2 and 1"]),
        (lambda: highest_loss([1.0, 2.0], 1, np.array([1, 0])), ["mislabelled", "boolean", "int64"]),
    ],
)
def test_finders_reject_bad_inputs(call, fragments):
    with pytest.raises(ConfigError) as e:
        call()
    assert_one_line_error(e, *fragments)
