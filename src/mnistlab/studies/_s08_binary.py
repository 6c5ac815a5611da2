"""S8 binary classification, 1 vs 7: digits 1 (label 1) and 7 (label 0), each image standardised
on its own, float64, MLP (784, 256, 64, 1) ReLU with one logit, N(0, 0.1^2), the mean of
logaddexp(0, -z (2y - 1)) + 0.5 lambda ||theta||^2 (lambda 1e-12: our ``l2`` is lambda' sum
theta^2, so lambda' = 5e-13), SGD lr 1e-3, batch 25, batches drawn without replacement per pass
in an order fixed by the key.

Besides the run, the analysis step draws what the spec's "Figures" line lists: labelled samples,
the untrained net's logits on a test batch, the test accuracy of 100 random initialisations, the
gradient of each weight matrix at initialisation on a test batch, and the four rows of five test
images (clear and confusing positives and negatives) of the trained net.

Steps, as the spec counts them: 5,000 steps of batch 25 (``steps=5000``), scored every 200
(``eval_every=200``), so the run's "epoch" k is step 200 k: the references at steps 200, 800 and
5,000 are its epochs 1, 4 and 25 (each Reference names its step, and the verdict checks it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..runs import TrainConfig
from ._spec import Member, Reference, TrainStudy, quick_defaults

N_TEST = 2_163
INITS, QUICK_INITS = 100, 20  # the spec's 100; --quick draws fewer  # 1,135 ones + 1,028 sevens
STEPS, EVERY = 5_000, 200  # the spec's run and the spacing of its step-200/800 references


def analysis(ctx) -> dict:
    from .. import data, evaluate, plots
    from .._compute import precision

    run = ctx.runs["binary"]
    loaded = evaluate.load_run(run.path)
    test = data.load(run.config.dataset, "test", data_dir=ctx.data_dir, progress=False)
    test = data.select_classes(test, {7: 0, 1: 1})
    names = ["7", "1"]
    batch = min(128, len(test))
    figs = ctx.figures
    figs.append(
        (
            "Labelled samples",
            plots.sample_grid(
                test.images[:20], test.labels[:20], names, title="test images: 1 (label 1), 7 (label 0)"
            ),
            "",
        )
    )
    import jax

    with precision(run.config.dtype):
        # The run's own starting point: engine.init() draws the parameters the run started from.
        init_params = loaded.engine.init().params
        p0 = jax.tree.map(lambda a: a[0], init_params)
        x = loaded.engine.prepare(jax.numpy.asarray(test.images[:batch]))
        logits = np.asarray(loaded.engine.model.apply(p0, x)).reshape(-1)
    fig = plots.new_figure(6, 3.6)
    ax = fig.subplots()
    labels = np.asarray(test.labels[:batch])
    for value, name in ((1, "1s"), (0, "7s")):
        ax.hist(logits[labels == value], bins=20, alpha=0.6, label=name)
    ax.set_xlabel("logit of the untrained net")
    ax.set_ylabel("test images")
    ax.legend()
    figs.append(("Untrained logits", fig, f"The first {batch} test images, before any training step."))
    inits = QUICK_INITS if ctx.settings.quick else INITS
    accs = evaluate.init_accuracies(loaded, test, n=inits, key=0)
    figs.append(
        (
            f"Accuracy of {inits} random initialisations",
            plots.accuracy_histogram(accs, title="untrained nets on the test 1s and 7s", chance=0.5),
            "Bell-shaped around 50%: an untrained net guesses.",
        )
    )
    at_init = dataclasses.replace(loaded, params=init_params, _programs={})
    grads = evaluate.weight_gradients(at_init, test, batch=batch)
    figs.append(
        (
            "Gradients at initialisation",
            plots.gradient_images(grads, title=f"gradient of each weight matrix, {batch} test images"),
            "Each matrix on its own symmetric scale.",
        )
    )
    scores = evaluate.predict_proba(loaded, test.images)[:, 1]
    rows = evaluate.binary_extremes(scores, test.labels, 5)
    titles = {
        "clear_positives": "clear positives (largest output among 1s)",
        "clear_negatives": "clear negatives (smallest among 7s)",
        "confusing_positives": "confusing positives (smallest among 1s)",
        "confusing_negatives": "confusing negatives (largest among 7s)",
    }
    shown = {titles[k]: (test.images[idx], [f"p(1) {scores[i]:.3f}" for i in idx]) for k, idx in rows.items()}
    figs.append(("Four rows of test images", plots.example_rows(shown, title="trained net, test set"), ""))
    return {
        "init_accuracy_mean": float(np.mean(accs)),
        "init_accuracy_std": float(np.std(accs)),
        "test_images": len(test),
    }


STUDY = TrainStudy(
    name="binary-1v7",
    number="S8",
    question="How well, and how confidently, does a small MLP tell 1s from 7s, and what does an "
    "untrained one do?",
    shows="loss and test accuracy; init histogram; gradients at init; untrained logits; four rows",
    base=TrainConfig(
        model="binary-mlp",
        widths=(256, 64),
        activation="relu",
        classes=(7, 1),
        preprocess="per-image",
        dtype="float64",
        init="normal",
        init_scale=0.1,
        l2=5e-13,
        optimizer="sgd",
        lr=1e-3,
        batch_size=25,
        steps=STEPS,
        eval_every=EVERY,
        epochs=STEPS // EVERY,
    ),
    members=(Member("binary", "MLP (784, 256, 64, 1), 1 vs 7", quick={"widths": (32, 16)}),),
    references=(
        Reference("binary", "test_accuracy", 200 // EVERY, 0.965, "96.5% at step 200", n=N_TEST, step=200),
        Reference("binary", "test_accuracy", 800 // EVERY, 0.980, "98.0% at step 800", n=N_TEST, step=800),
        Reference(
            "binary", "test_accuracy", STEPS // EVERY, 0.9903, "99.03% at step 5,000", n=N_TEST, step=STEPS
        ),
    ),
    figures=("loss", "analysis"),
    # 40 steps scored every 20 on the sample's 800 ones and sevens (32 steps a pass): the chunks
    # cut a pass, as the full run's do.
    quick=quick_defaults(steps=40, eval_every=20, epochs=2),
    analysis=analysis,
    estimate=STEPS / 200 * 1.2 + 15.0,
    init="normal, sigma 0.1 (weights and biases)",
)
