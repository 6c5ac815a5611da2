"""S10 learned features for 3 vs 8: an autoencoder trained on every training image without labels
(reconstruction loss), and a classifier with a narrow last hidden layer trained on all ten
labels; each one's features of the 3s and 8s feed a logistic regression (scikit-learn, fit on
the training 3s and 8s, scored on the test 3s and 8s), compared with raw pixels.

Both nets run through the train API as ordinary runs: the autoencoder with its natural loss
(``loss auto`` is the squared reconstruction error for the ``autoencoder`` kind, labels unused),
the classifier as an ``mlp`` whose ``encode`` is its last hidden layer. Both bottlenecks have
:data:`CODE` units, so the comparison is feature against feature at equal size. Every
representation is standardised (fitted on the training 3s and 8s) before the regression, so
the regression's regularisation treats them alike.
"""

from __future__ import annotations

import numpy as np

from ..runs import TrainConfig
from ._spec import Member, TrainStudy, quick_defaults

CODE = 32
PAIR = {3: 0, 8: 1}


def _features(loaded, images) -> np.ndarray:
    import jax

    from .._compute import precision

    model, engine = loaded.engine.model, loaded.engine
    with precision(loaded.config.dtype):
        params = jax.tree.map(lambda a: a[0], loaded.params)
        x = engine.prepare(jax.numpy.asarray(images))
        return np.asarray(model.module.apply(params, x, method="encode"), np.float64)


def _score(train_x, train_y, test_x, test_y) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    clf.fit(train_x, train_y)
    return float(clf.score(test_x, test_y))


def _pca2(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def analysis(ctx) -> dict:
    import jax

    from .. import data, evaluate, plots
    from .._compute import precision

    ae = evaluate.load_run(ctx.runs["autoencoder"].path)
    clf = evaluate.load_run(ctx.runs["bottleneck"].path)
    name = ae.config.dataset
    train = data.select_classes(data.load(name, "train", data_dir=ctx.data_dir, progress=False), PAIR)
    test = data.select_classes(data.load(name, "test", data_dir=ctx.data_dir, progress=False), PAIR)
    reps = {
        "raw pixels": (
            train.images.reshape(len(train), -1) / 255.0,
            test.images.reshape(len(test), -1) / 255.0,
        ),
        "autoencoder code": (_features(ae, train.images), _features(ae, test.images)),
        "classifier bottleneck": (_features(clf, train.images), _features(clf, test.images)),
    }
    scores = {k: _score(tr, train.labels, te, test.labels) for k, (tr, te) in reps.items()}
    rows = [[k, str(reps[k][0].shape[1]), f"{100 * v:.2f}%"] for k, v in scores.items()]
    # Reconstructions of the first ten test 3s and 8s.
    with precision(ae.config.dtype):
        p0 = jax.tree.map(lambda a: a[0], ae.params)
        recon = np.asarray(ae.engine.model.apply(p0, ae.engine.prepare(jax.numpy.asarray(test.images[:10]))))
    fig = plots.new_figure(10, 2.4)
    axes = fig.subplots(2, 10)
    for i in range(10):
        axes[0, i].imshow(test.images[i], cmap="gray_r")
        axes[1, i].imshow(recon[i].reshape(test.images.shape[1:]), cmap="gray_r")
        for ax in axes[:, i]:
            ax.set_axis_off()
    ctx.figures.append(("Reconstructions", fig, "Top: test images; bottom: the autoencoder's output."))
    fig = plots.new_figure(10, 4.2)
    for ax, key in zip(fig.subplots(1, 2), ("autoencoder code", "classifier bottleneck"), strict=True):
        xy = _pca2(reps[key][1])
        for label, digit in ((0, "3"), (1, "8")):
            sel = test.labels == label
            ax.scatter(xy[sel, 0], xy[sel, 1], s=4, alpha=0.5, label=digit)
        ax.set_title(f"{key} ({reps[key][1].shape[1]} units): first two principal components", fontsize=9)
        ax.legend()
    ctx.figures.append(
        ("Features of the test 3s and 8s", fig, "Projected on their first two principal components.")
    )
    return {
        "table": (["features", "dimensions", "test accuracy, 3 vs 8"], rows),
        "accuracy_3v8": scores,
        "train_images": len(train),
        "test_images": len(test),
    }


STUDY = TrainStudy(
    name="features-3v8",
    number="S10",
    question="Do features learned without labels (an autoencoder) separate 3s from 8s as well as a "
    "classifier's bottleneck features, or as raw pixels?",
    shows="logistic-regression accuracy on 3 vs 8 for raw pixels, autoencoder and bottleneck features",
    base=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, epochs=10),
    members=(
        Member("autoencoder", f"autoencoder 784-256-{CODE}", {"model": "autoencoder", "widths": (256, CODE)}),
        Member(
            "bottleneck",
            f"classifier 784-256-{CODE}-10",
            {"model": "mlp", "widths": (256, CODE), "activation": "relu"},
        ),
    ),
    figures=("curves", "analysis"),
    quick=quick_defaults(),
    analysis=analysis,
    estimate=2 * 10 * 4.0 + 20.0,
    init="default (LeCun-normal weights, zero biases)",
)
