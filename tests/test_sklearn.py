"""``mnistlab.sklearn.MnistlabClassifier``: scikit-learn's estimator checks, cross-validation and grid
search on 600 images of the offline sample, determinism, equality with the engine, input forms.

Every test here compiles small programs used briefly (the estimator checks train on dozens of
shapes), so XLA's optimisation is skipped and a private persistent cache shares identical
programs between engines (the initialisation of equally-shaped models, a refit after the engine
cache is cleared).
"""

from __future__ import annotations

import dataclasses
import pickle
import re

import jax
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from mnistlab import data
from mnistlab._errors import ConfigError, DataError
from mnistlab.sklearn import CONFIG_PARAMS, NOT_PARAMS, MnistlabClassifier, clear_engine_cache
from mnistlab.train import Engine, TrainConfig, build_model_for, fit, resolve

pytestmark = pytest.mark.usefixtures("cheap_compiles", "compilation_cache")

N = 600
# The estimator checks feed small tabular sets (make_blobs, 2-10 features) to 17 differently shaped
# fits, each compiling its programs: the mlp without hidden layers (logistic regression) and plain
# SGD, the smallest programs, which learn the blobs in 20 short epochs (check_classifiers_train
# wants accuracy > 0.83). The wrapper is the same code whatever the model.
CHECKED = MnistlabClassifier(widths=(), optimizer="sgd", lr=0.5, epochs=20, batch_size=32)
# Checks that do not pass, with the reason (none today: a new failure must be looked at).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(600 training images, their labels, the 1,000 test images, their labels) of the MNIST sample."""
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse conftest fixture is not active yet
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
        train = data.load("mnist-sample", "train")
        test = data.load("mnist-sample", "test")
    return train.images[:N], train.labels[:N], test.images, test.labels


def small(**overrides) -> MnistlabClassifier:
    """A classifier that learns 600 MNIST images in two epochs (about 85% on the test set)."""
    return MnistlabClassifier(**{"widths": (32,), "epochs": 2, "batch_size": 32, "lr": 3e-3, **overrides})


# --- scikit-learn's own checks -------------------------------------------------------------------


@parametrize_with_checks([CHECKED], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_the_classifier_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_the_estimator_checks_include_the_training_and_invariance_checks():
    """The list checked above is scikit-learn's full one for a classifier, not a trimmed one."""
    from sklearn.utils.estimator_checks import _yield_all_checks

    names = {getattr(c, "func", c).__name__ for c in _yield_all_checks(CHECKED, legacy=True)}
    assert {
        "check_classifiers_train",
        "check_classifiers_classes",
        "check_fit_idempotent",
        "check_methods_subset_invariance",
        "check_methods_sample_order_invariance",
        "check_estimators_pickle",
        "check_n_features_in_after_fitting",
        "check_dict_unchanged",
    } <= names


# --- model selection ---------------------------------------------------------------------------


def test_cross_val_score_scores_each_fold_well_above_chance(sample):
    X, y, _, _ = sample
    scores = cross_val_score(small(), X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.6, scores  # chance is 0.1; 400 images, 2 epochs reach about 0.8


def test_grid_search_tries_each_value_and_refits_the_best_on_all_the_data(sample):
    X, y, X_test, y_test = sample
    # Over the epochs, whose values share one compiled program (a grid over lr or widths compiles
    # each point: more time, the same code path here).
    search = GridSearchCV(small(), {"epochs": [1, 3]}, cv=2).fit(X, y)
    assert [p["epochs"] for p in search.cv_results_["params"]] == [1, 3]
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0] > 0.5
    best = search.best_estimator_
    assert best.epochs == best.config_.epochs == search.best_params_["epochs"] == 3
    assert best.history_[-1]["step"] == 3 * (N // 32 + 1)  # refitted on all 600: 19 batches per epoch
    assert best.score(X_test, y_test) > 0.7


# --- the same engine, deterministic ---------------------------------------------------------------


def test_the_estimator_trains_exactly_what_the_engine_trains_with_the_same_config(sample):
    X, y, _, _ = sample
    clf = small(epochs=1).fit(X, y)
    config = resolve(TrainConfig(model="mlp", widths=(32,), epochs=1, batch_size=32, lr=3e-3))
    assert clf.config_ == config
    engine = Engine(
        build_model_for(config, 10, (28, 28)), config, n_train=N, image_shape=(28, 28), num_classes=10
    )
    result = fit(engine, data.Dataset(X, y, tuple("0123456789"), "sample", "train"))
    for ours, theirs in zip(jax.tree.leaves(clf.params_), jax.tree.leaves(result.state.params), strict=True):
        np.testing.assert_array_equal(ours, np.asarray(theirs))


def test_the_same_seed_gives_bit_identical_predictions_even_after_recompiling(sample):
    X, y, X_test, _ = sample
    first = small(seed=3).fit(X, y).predict_proba(X_test)
    clear_engine_cache()  # a fresh engine and a fresh initial state: the seed alone decides
    second = small(seed=3).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)
    other = small(seed=4).fit(X, y).predict_proba(X_test)
    assert not np.array_equal(first, other)


def test_several_seeds_train_an_ensemble_whose_probabilities_are_the_average(sample):
    X, y, X_test, _ = sample
    both = small(seed=(3, 4)).fit(X, y)
    assert jax.tree.leaves(both.params_)[0].shape[0] == 2
    singles = [small(seed=s).fit(X, y).predict_proba(X_test) for s in (3, 4)]
    # The ensemble is one vmapped program, the singles two plain ones: equal up to float32 rounding.
    np.testing.assert_allclose(both.predict_proba(X_test), (singles[0] + singles[1]) / 2, atol=1e-5)


def test_a_pickled_classifier_predicts_the_same_after_the_engine_cache_is_gone(sample):
    X, y, X_test, _ = sample
    clf = small().fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    clear_engine_cache()
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))


# --- inputs and labels ---------------------------------------------------------------------------


def test_images_flattened_rows_and_float_pixels_in_a_given_range_train_identically(sample):
    X, y, X_test, _ = sample
    images = small().fit(X, y)
    flat = small().fit(X.reshape(N, -1), y)
    floats = small(pixel_range=(0, 1)).fit(X.astype(np.float32) / 255, y)
    assert images.image_shape_ == flat.image_shape_ == floats.image_shape_ == (28, 28)
    assert images.n_features_in_ == flat.n_features_in_ == 784
    expected = images.predict_proba(X_test)
    np.testing.assert_array_equal(flat.predict_proba(X_test.reshape(len(X_test), -1)), expected)
    np.testing.assert_array_equal(floats.predict_proba(X_test.astype(np.float32) / 255), expected)


def test_auto_pixel_range_is_0_255_for_uint8_and_the_training_range_for_floats(sample):
    X, y, _, _ = sample
    assert small(epochs=1).fit(X, y).pixel_range_ == (0.0, 255.0)
    floats = (X.astype(np.float64) - 100) / 10
    assert small(epochs=1).fit(floats, y).pixel_range_ == (-10.0, 15.5)


def test_any_labels_map_to_classes_in_sorted_order_and_come_back_from_predict(sample):
    X, y, X_test, y_test = sample
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = small().fit(X, names[y])
    assert list(clf.classes_) == sorted(names)
    assert set(clf.predict(X_test)) <= set(names)
    assert clf.score(X_test, names[y_test]) > 0.7


def test_binary_mlp_takes_two_classes_with_the_second_one_positive(sample):
    X, y, X_test, y_test = sample
    keep, keep_test = np.isin(y, (3, 8)), np.isin(y_test, (3, 8))
    # (The softmax model on two classes is scikit-learn's check_classifiers_train's binary case.)
    binary = small(model="binary-mlp").fit(X[keep], y[keep])
    assert list(binary.classes_) == [3, 8]
    assert binary.predict_proba(X_test[keep_test]).shape == (keep_test.sum(), 2)
    assert binary.score(X_test[keep_test], y_test[keep_test]) > 0.85
    assert jax.tree.leaves(binary.params_["params"])[-1].shape[-1] == 1  # one output: the logit of 8


def test_a_cnn_takes_images_and_refuses_rows_that_are_not_square(sample):
    X, y, X_test, _ = sample
    cnn = small(model="cnn", widths=None, layers="conv4k5s2,dense16", epochs=1).fit(X[:200], y[:200])
    assert cnn.predict(X_test[:5]).shape == (5,)
    with pytest.raises(DataError, match=r"model 'cnn' takes images: .* got 10 features per row"):
        small(model="cnn").fit(np.zeros((20, 10)), np.arange(20) % 2)


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer <= 100000; got 0"),
        ({"model": "mpl"}, "model must be one of .*; got 'mpl' (did you mean 'mlp'?)"),
        ({"seed": -1}, "seed must be .*; got -1"),
        ({"seed": (1, 1)}, "seed must be distinct; got (1, 1)"),
        ({"pixel_range": (1, 0)}, "pixel_range must be (low, high) with low < high; got (1, 0)"),
        ({"pixel_range": "full"}, "pixel_range must be .*; got 'full'"),
        ({"optimizer": "sgd", "momentum": 0.9}, "momentum (--momentum) must be unset or 0 for the sgd"),
    ],
)
def test_bad_hyperparameters_are_accepted_by_the_constructor_and_refused_by_fit(params, message):
    clf = MnistlabClassifier(**params)  # scikit-learn's convention: no checks before fit
    assert clf.get_params()[next(iter(params))] == params[next(iter(params))]
    pattern = ".*".join(map(re.escape, message.split(".*")))
    with pytest.raises(ConfigError, match=pattern):
        clf.fit(np.zeros((4, 4), np.uint8), [0, 1, 0, 1])


def test_data_the_model_cannot_take_is_refused_in_one_line(sample):
    X, y, _, _ = sample
    with pytest.raises(DataError, match="y holds one class"):
        small().fit(X[:10], np.zeros(10, int))
    with pytest.raises(DataError, match="model 'binary-mlp' needs exactly two classes; y holds 10"):
        small(model="binary-mlp").fit(X, y)
    with pytest.raises(DataError, match="model 'autoencoder' is an autoencoder"):
        small(model="autoencoder", widths=None).fit(X, y)
    clf = small(epochs=1).fit(X, y)
    with pytest.raises(DataError, match="X has images of 14 x 56; this classifier was fitted on 28 x 28"):
        clf.predict(X.reshape(N, 14, 56))


def test_a_diverged_fit_warns_and_keeps_the_last_finite_parameters(sample):
    X, y, _, _ = sample
    with pytest.warns(ConvergenceWarning, match=r"diverged at epoch 1, .*keeping the last finite parameters"):
        clf = small(lr=1e30).fit(X, y)
    assert clf.history_[-1]["diverged"]
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(clf.params_))  # the initial ones


# --- the parameters ------------------------------------------------------------------------------


def test_every_config_field_is_a_parameter_or_left_out_for_a_stated_reason():
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(CONFIG_PARAMS) | set(NOT_PARAMS) == fields
    assert not set(CONFIG_PARAMS) & set(NOT_PARAMS)
    assert set(MnistlabClassifier().get_params()) == {*CONFIG_PARAMS, "seed", "pixel_range"}


def test_the_defaults_are_the_configs_except_the_model():
    params = MnistlabClassifier().get_params()
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    different = {name for name in CONFIG_PARAMS if params[name] != defaults[name]}
    assert different == {"model"}
    assert params["model"] == "mlp"
