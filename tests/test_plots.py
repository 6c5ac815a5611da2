"""Figures: every plot function writes a non-empty PNG of its documented size and an SVG that parses,
for every model kind where that matters; the Figures themselves are checked for titles, labels,
legends and colour scales; bad input is a one-line ConfigError naming the parameter."""

from __future__ import annotations

import itertools
import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from mnistlab import ConfigError, DataError, plots
from mnistlab.plots import _calibration, _curves, _diagnostics, _gradients, _samples, _weights
from mnistlab.train import TrainConfig, read_metrics, train

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DIGITS = [str(i) for i in range(10)]
RNG = np.random.default_rng(0)
INPUT_SHAPES = {"flat": (1, 784), "NHWC": (1, 28, 28, 1), "NCHW": (1, 1, 28, 28)}


# --- helpers ---------------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header (the IHDR chunk comes first)."""
    head = Path(path).read_bytes()[:24]
    assert head[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def check_files(tmp_path: Path, save, size: tuple[int, int], *, svg: bool = True) -> None:
    """``save(path)`` writes a non-empty PNG of ``size`` pixels at dpi=100 and an SVG that parses,
    and returns the Figure it drew."""
    from matplotlib.figure import Figure

    png = tmp_path / "figure.png"
    assert isinstance(save(png), Figure)
    assert png.stat().st_size > 2_000
    assert png_size(png) == size
    if svg:
        out = tmp_path / "figure.svg"
        assert isinstance(save(out), Figure)
        root = ET.parse(out).getroot()
        assert root.tag.endswith("svg")
        assert float(root.get("width").removesuffix("pt")) == pytest.approx(size[0] * 0.72, abs=0.1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def data_axes(fig):
    """Axes that show data (not colour bars, not image mosaics with their frame switched off)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison and ax.get_label() != "<colorbar>"]


def check_labelled(fig) -> None:
    """A title, and x and y labels on every axes that plots data; a legend wherever >1 line is labelled."""
    assert fig.get_suptitle().strip()
    for ax in data_axes(fig):
        if ax.images and not ax.lines and not ax.patches:
            continue  # image panels (tiles) are labelled by their titles and the figure's caption
        # Stacked panels that share an x axis label it once, at the bottom.
        xlabels = [a.get_xlabel().strip() for a in ax.get_shared_x_axes().get_siblings(ax)]
        assert any(xlabels), ax.get_title()
        assert ax.get_ylabel().strip(), ax.get_title()
        labelled = [h for h in ax.get_lines() if not h.get_label().startswith("_")]
        if len(labelled) > 1:
            assert ax.get_legend() is not None, ax.get_title()


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cheap_compiles) -> Path:
    """A real two-seed run with train, train_eval, validation and test metrics."""
    out = tmp_path_factory.mktemp("plots") / "run"
    with pytest.MonkeyPatch.context() as mp:  # the autouse fixtures are function-scoped: set their env
        mp.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("MNISTLAB_OFFLINE", "1")
        config = TrainConfig(
            dataset="mnist-sample", model="softmax", epochs=2, seeds=(0, 1), val_fraction=0.1, eval_train=True
        )
        train(config, out=out, quiet=True)
    return out


@pytest.fixture(scope="module")
def trees(cheap_compiles) -> dict:
    """The parameter tree of one seed of every named model, initialised as the engine does."""
    import jax

    from mnistlab.models import MODEL_NAMES, build_model

    out = {}
    for name in MODEL_NAMES:
        model = build_model(name)
        shape = INPUT_SHAPES[model.input_layout]
        # One compiled program per model: an eager Flax init compiles every op and takes seconds.
        params = jax.jit(model.init, static_argnums=1)(jax.random.PRNGKey(0), shape)
        out[name] = jax.tree.map(np.asarray, params)
    return out


# --- read_metrics ----------------------------------------------------------------------------------


def test_read_metrics_of_a_real_run(run_dir):
    records, steps = read_metrics(run_dir)
    assert [r["epoch"] for r in records] == [1, 2]
    for key in ("train", "train_eval", "validation", "test"):
        assert len(records[0][f"{key}_accuracy"]) == 2  # per seed
    info = json.loads((run_dir / "run.json").read_text())
    assert steps.shape == (2, 2 * info["steps_per_epoch"])
    means = np.loadtxt(run_dir / "steps.csv", delimiter=",", skiprows=1, usecols=2)
    np.testing.assert_allclose(steps.mean(axis=0), means, rtol=1e-6)


def test_read_metrics_one_seed_and_no_steps(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1, "train_loss": 0.5}\n\n')
    assert read_metrics(tmp_path) == ([{"epoch": 1, "train_loss": 0.5}], None)
    (tmp_path / "steps.csv").write_text("epoch,step,loss\n1,1,2.5\n1,2,nan\n")
    _records, steps = read_metrics(tmp_path)
    assert steps.shape == (1, 2)
    assert steps[0, 0] == 2.5
    assert np.isnan(steps[0, 1])
    (tmp_path / "steps.csv").write_text("epoch,step,loss\n")
    assert read_metrics(tmp_path)[1] is None


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({}, "metrics.jsonl does not exist"),
        # A whole damaged line (a torn last line, without its newline, is an unfinished append: ignored).
        ({"metrics.jsonl": '{"epoch": 1}\n{"epoch": 2,\n'}, "metrics.jsonl, line 2: not valid JSON"),
        ({"metrics.jsonl": "[1, 2]\n"}, "metrics.jsonl, line 1: expected a JSON object"),
        ({"metrics.jsonl": '{"epoch": 1}\n', "steps.csv": "epoch,step,loss\n1,1,x\n"}, "steps.csv is not"),
        ({"metrics.jsonl": '{"epoch": 1}\n', "steps.csv": "epoch,step\n1,1\n"}, "steps.csv is not"),
    ],
)
def test_read_metrics_errors_name_the_file(tmp_path, files, fragment):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(DataError, match=fragment) as info:
        read_metrics(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "\n" not in str(info.value)


# --- learning curves -------------------------------------------------------------------------------


def test_learning_curves_of_a_real_run(run_dir, tmp_path):
    records, steps = read_metrics(run_dir)
    fig = _curves._draw_learning_curves(records, title="softmax, 2 seeds", step_loss=steps)
    check_labelled(fig)
    acc, loss, per_step = data_axes(fig)
    assert "accuracy" in acc.get_title()
    assert "loss" in loss.get_title()
    assert "step" in per_step.get_title()
    assert len(legend_texts(acc)) == 4  # train, train_eval, validation, test
    assert "2 seeds" in acc.get_legend().get_title().get_text()
    assert len(acc.collections) == 4  # a mean ± std band per split
    assert 1 < np.nanmax(acc.get_lines()[-1].get_ydata()) <= 100  # percent
    assert per_step.get_yscale() == "log"
    check_files(
        tmp_path, lambda p: plots.learning_curves(records, p, title="softmax", step_loss=steps), (1380, 400)
    )


def test_learning_curves_of_a_diverged_run_with_nulls(tmp_path):
    ok = {"train_loss": [1.0, 1.1], "train_accuracy": [0.7, 0.72], "test_loss": [0.9, 1.0]}
    records = [
        {"epoch": 1, **ok, "test_accuracy": [0.75, 0.74]},
        {"epoch": 2, **ok, "test_accuracy": [0.8, 0.81]},
        {
            "epoch": 3,
            "train_loss": [None, 2.0],
            "train_accuracy": [0.1, 0.1],
            "test_loss": None,
            "diverged": True,
        },
    ]
    steps = np.array([[2.0, 1.5, np.inf, np.nan], [2.1, 1.6, 1.4, 1.2]])
    fig = _curves._draw_learning_curves(records, title="lr too large", step_loss=steps)
    check_labelled(fig)
    for ax in data_axes(fig)[:2]:
        assert "diverged" in legend_texts(ax)
    check_files(
        tmp_path, lambda p: plots.learning_curves(records, p, title="diverged", step_loss=steps), (1380, 400)
    )


def test_learning_curves_of_an_autoencoder_have_no_accuracy_panel(tmp_path):
    records = [{"epoch": e, "train_loss": 30 / e, "test_loss": 31 / e, "lr": 0.01} for e in range(1, 5)]
    fig = _curves._draw_learning_curves(records, title="autoencoder")
    check_labelled(fig)
    (ax,) = data_axes(fig)
    assert ax.get_title() == "loss per epoch"
    check_files(tmp_path, lambda p: plots.learning_curves(records, p, title="autoencoder"), (460, 400))
    steps = np.linspace(40, 5, 100)  # one seed may come as a plain vector
    check_files(
        tmp_path,
        lambda p: plots.learning_curves(records, p, title="ae", step_loss=steps),
        (920, 400),
        svg=False,
    )


def test_compare_curves_one_line_per_learning_rate(tmp_path):
    def run(accs, seeds=1):
        return [
            {"epoch": e, "test_accuracy": [a + 0.01 * s for s in range(seeds)] if seeds > 1 else a}
            for e, a in enumerate(accs, start=1)
        ]

    runs = {
        "lr 0.001": run(np.linspace(0.58, 0.87, 10), seeds=3),
        "lr 1.6": run([0.81, 0.845, 0.832, 0.918, 0.895, 0.845, 0.928, 0.928, 0.933, 0.948]),
        "lr 2": [{"epoch": 1, "test_accuracy": 0.1}, {"epoch": 2, "test_accuracy": None, "diverged": True}],
        "autoencoder": [{"epoch": 1, "test_loss": 3.0}],
    }
    fig = _curves._draw_compare_curves(runs, metric="test_accuracy", title="S5: learning rates")
    check_labelled(fig)
    (ax,) = data_axes(fig)
    assert legend_texts(ax) == ["lr 0.001", "lr 1.6", "lr 2 (diverged)"]
    assert "no test_accuracy: autoencoder" in ax.get_legend().get_title().get_text()
    assert ax.get_ylabel() == "test accuracy (%)"
    check_files(tmp_path, lambda p: plots.compare_curves(runs, p, title="S5"), (760, 480))
    with pytest.raises(ConfigError, match=r"metric must be one that the runs record.*got 'nope'"):
        plots.compare_curves(runs, tmp_path / "x.png", metric="nope", title="S5")


# --- weights ---------------------------------------------------------------------------------------


def test_class_templates_share_one_symmetric_scale(tmp_path):
    kernel = RNG.normal(size=(784, 10))
    kernel[3, 2] = -7.0  # the largest |w| is negative: the scale must still be symmetric
    fig = _weights._draw_class_templates(kernel, DIGITS, title="S1 templates")
    check_labelled(fig)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 10
    assert {im.get_clim() for im in images} == {(-7.0, 7.0)}
    assert [ax.get_title() for ax in fig.axes if ax.images] == DIGITS
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    check_files(tmp_path, lambda p: plots.class_templates(kernel, DIGITS, p, title="S1"), (940, 465))


def test_weight_tiles_each_on_its_own_symmetric_scale(tmp_path):
    kernel = RNG.normal(size=(784, 20)) * np.arange(1, 21)
    fig = _weights._draw_weight_tiles(kernel, title="first layer", n=12)
    check_labelled(fig)
    images = fig.axes[0].images
    assert len(images) == 12
    for i, im in enumerate(images):
        m = np.abs(kernel[:, i]).max()
        assert im.get_clim() == pytest.approx((-m, m))
    assert "the first 12 of 20 units" in fig.get_supxlabel()
    check_files(tmp_path, lambda p: plots.weight_tiles(kernel, p, title="tiles", n=12), (900, 360))


def test_conv_filters_one_scale(tmp_path):
    kernel = RNG.normal(size=(5, 5, 3, 12))
    fig = _weights._draw_conv_filters(kernel, title="conv")
    images = fig.axes[0].images
    m = np.abs(kernel[:, :, 0, :]).max()
    assert len(images) == 12
    assert {im.get_clim() for im in images} == {(-m, m)}
    assert "input channel 0 of 3" in fig.get_supxlabel()
    check_files(tmp_path, lambda p: plots.conv_filters(kernel, p, title="conv"), (960, 350))


# model -> (which figure, its size at dpi=100)
WEIGHT_FIGURES = {
    "softmax": ("templates", (940, 465)),
    "mlp": ("tiles", (900, 1110)),
    "binary-mlp": ("tiles", (900, 1110)),
    "cnn": ("filters", (960, 590)),
    "cnn-s3": ("filters", (960, 350)),
    "cnn-s7": ("filters", (960, 350)),
    "autoencoder": ("tiles", (900, 1110)),
}


@pytest.mark.parametrize("name", list(WEIGHT_FIGURES))
def test_weight_figure_for_every_model(trees, tmp_path, name):
    kind, size = WEIGHT_FIGURES[name]
    names = ["7", "1"] if name == "binary-mlp" else DIGITS
    params = trees[name]
    fig = _weights._draw_weight_figure(params, title=f"weights of {name}", class_names=names)
    check_labelled(fig)
    images = [im for ax in fig.axes for im in ax.images]
    first = {"softmax": "out", "cnn": "conv_0", "cnn-s3": "conv_0", "cnn-s7": "conv_0"}.get(name)
    if kind == "templates":
        assert len(images) == 10
    elif kind == "tiles":
        assert len(images) == 64
        layer = "encoder_0" if name == "autoencoder" else "hidden_0"
        m = np.abs(params["params"][layer]["kernel"][:, 0]).max()
        assert images[0].get_clim() == pytest.approx((-m, m))
    else:
        kernel = params["params"][first]["kernel"]
        assert len(images) == kernel.shape[-1]
        m = np.abs(kernel).max()
        assert images[0].get_clim() == pytest.approx((-m, m))
    check_files(
        tmp_path,
        lambda p: plots.weight_figure(params, p, title=name, class_names=names),
        size,
        svg=name in ("softmax", "cnn"),  # the SVG writer is the same for every kind; two keep it quick
    )


def test_weight_figure_binary_logistic_regression_and_nothing_to_draw(tmp_path):
    binary = {"params": {"out": {"kernel": RNG.normal(size=(784, 1)), "bias": np.zeros(1)}}}
    fig = _weights._draw_weight_figure(binary, title="logistic", class_names=["7", "1"])
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["1 (vs 7)"]
    odd = {"params": {"dense_0": {"kernel": np.ones((5, 3))}, "out": {"kernel": np.ones((3, 2))}}}
    assert plots.weight_figure(odd, tmp_path / "w.png", title="odd", class_names=DIGITS) is None
    stacked = {"params": {"out": {"kernel": np.ones((2, 784, 10))}}}  # two seeds: not one tree
    assert plots.weight_figure(stacked, tmp_path / "w.png", title="seeds", class_names=DIGITS) is None
    assert not list(tmp_path.iterdir())


def test_gradient_images_one_scale_per_matrix(trees, tmp_path):
    shapes = {k: v["kernel"].shape for k, v in trees["binary-mlp"]["params"].items()}
    grads = {k: RNG.normal(size=s) * 10.0**-i for i, (k, s) in enumerate(sorted(shapes.items()))}
    grads["conv_0"] = RNG.normal(size=(3, 3, 1, 8))  # shown as (9, 8)
    fig = _gradients._draw_gradient_images(grads, title="S8 gradients")
    check_labelled(fig)
    panels = [ax for ax in data_axes(fig) if ax.images]
    assert [ax.get_title() for ax in panels] == [
        "hidden_0  784 × 256",
        "hidden_1  256 × 64",
        "out  64 × 1",
        "conv_0  3 × 3 × 1 × 8",
    ]
    for ax, g in zip(panels, grads.values(), strict=True):
        m = np.abs(g).max()
        assert ax.images[0].get_clim() == pytest.approx((-m, m))
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 4
    check_files(tmp_path, lambda p: plots.gradient_images(grads, p, title="grads"), (1320, 800))


# --- diagnostics -----------------------------------------------------------------------------------


def test_confusion_heatmap(tmp_path):
    cm = RNG.integers(0, 30, size=(10, 10)) + np.diag(RNG.integers(500, 900, size=10))
    cm[4] = 0  # a class absent from the test set: its row is blank, not NaN
    fig = _diagnostics._draw_confusion_heatmap(cm, DIGITS, title="confusion")
    check_labelled(fig)
    (ax,) = data_axes(fig)
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("true class", "predicted class")
    assert len(ax.texts) == 100
    assert ax.texts[0].get_text() == f"{cm[0, 0]:,}"
    assert ax.images[0].get_clim() == (0, 1)
    check_files(tmp_path, lambda p: plots.confusion_heatmap(cm, DIGITS, p, title="cm"), (710, 660))
    big = RNG.integers(0, 9, size=(25, 25))
    fig = _diagnostics._draw_confusion_heatmap(big, [f"c{i}" for i in range(25)], title="25", normalize=False)
    assert not data_axes(fig)[0].texts
    assert data_axes(fig)[0].images[0].get_clim() == (0, big.max())


def reliability_bins(n=10):
    edges = np.linspace(0, 1, n + 1)
    bins = []
    for lo, hi in itertools.pairwise(edges):
        count = int(5 * np.exp(5 * lo)) if lo >= 0.3 else 0
        conf = (lo + hi) / 2 if count else None
        bins.append(
            {"lower": lo, "upper": hi, "count": count, "confidence": conf, "accuracy": conf and conf * 0.9}
        )
    return bins


def test_reliability_diagram(tmp_path):
    bins = reliability_bins()
    fig = _calibration._draw_reliability_diagram(bins, title="calibration", ece=0.0321)
    check_labelled(fig)
    top, bottom = data_axes(fig)
    assert "perfect calibration" in legend_texts(top)
    assert "ECE 3.21%" in legend_texts(top)
    assert bottom.get_xlabel().startswith("confidence")
    check_files(tmp_path, lambda p: plots.reliability_diagram(bins, p, title="rel", ece=0.03), (580, 660))


def test_accuracy_histogram(tmp_path):
    accs = np.clip(RNG.normal(0.5, 0.1, size=100), 0, 1)
    fig = _diagnostics._draw_accuracy_histogram(accs, title="100 initialisations", chance=0.5)
    check_labelled(fig)
    (ax,) = data_axes(fig)
    texts = legend_texts(ax)
    assert texts[0] == "100 initialisations"
    assert texts[1].startswith(f"mean {100 * accs.mean():.1f}%")
    assert texts[2] == "chance 50%"
    assert ax.get_xlim()[1] > 50  # percent
    check_files(tmp_path, lambda p: plots.accuracy_histogram(accs, p, title="inits", chance=0.5), (680, 440))


def test_roc_plot(tmp_path):
    fpr = np.concatenate([[0.0], np.sort(RNG.uniform(size=30)), [1.0]])
    tpr = fpr**0.2
    fig = _diagnostics._draw_roc_plot(fpr, tpr, title="ROC", auc=0.95)
    check_labelled(fig)
    assert legend_texts(data_axes(fig)[0]) == ["ROC curve (AUC 0.9500)", "chance (AUC 0.5)"]
    check_files(tmp_path, lambda p: plots.roc_plot(fpr, tpr, p, title="ROC"), (560, 580))


# --- image galleries -------------------------------------------------------------------------------


def test_example_rows_s8_gallery(tmp_path):
    images = RNG.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    rows = {
        "clear positives": (images, [f"{v:+.2f}" for v in range(5)]),
        "clear negatives": (images[:3], ["-9.1", "-8.0", "-7.7"]),
        "confusing positives": (images[:0], []),
        "confusing negatives": (images, ["+0.1"] * 5),
    }
    colors = {"confusing positives": plots.WRONG, "confusing negatives": plots.WRONG}
    fig = _samples._draw_example_rows(rows, title="S8 rows", colors=colors)
    assert fig.get_suptitle() == "S8 rows"
    (canvas,) = fig.axes  # every image and caption is drawn into one canvas axes
    texts = [t.get_text() for t in canvas.texts]
    labels = [t for t in texts if not t.startswith(("+", "-"))]
    assert labels == [
        "clear positives",
        "clear negatives",
        "confusing positives",
        "none",
        "confusing negatives",
    ]
    by_text = {t.get_text(): t for t in canvas.texts}
    assert by_text["confusing positives"].get_color() == plots.WRONG
    assert by_text["clear positives"].get_color() != plots.WRONG
    assert [t for t in texts if t.startswith("+")][:5] == ["+0.00", "+1.00", "+2.00", "+3.00", "+4.00"]
    assert len(canvas.images) == 13
    assert canvas.texts[-1].get_text() == "+0.1"
    assert canvas.texts[-1].get_color() == plots.WRONG
    # The coloured rows are framed, the plain ones not: 5 frames for "confusing negatives".
    assert len(canvas.patches) == 5
    check_files(tmp_path, lambda p: plots.example_rows(rows, p, title="S8", colors=colors), (655, 638))
    long = {"hardest": (np.repeat(images, 5, axis=0), ["x"] * 25)}  # wraps onto 3 lines of 10
    check_files(tmp_path, lambda p: plots.example_rows(long, p, title="long"), (1280, 502), svg=False)


def test_sample_grid_still_marks_right_and_wrong(tmp_path):
    images = RNG.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40) % 10
    preds = labels.copy()
    preds[::3] = (preds[::3] + 1) % 10
    fig = _samples._draw_sample_grid(
        images, labels, DIGITS, title="grid", predictions=preds, confidences=np.full(40, 0.875)
    )
    (canvas,) = fig.axes  # every image and caption is drawn into one canvas axes
    assert len(canvas.images) == 40
    titles = canvas.texts
    assert titles[0].get_text() == "0 → 1 88%"
    assert titles[0].get_color() == plots.WRONG
    assert titles[1].get_text() == "1 → 1 88%"
    assert titles[1].get_color() == plots.RIGHT
    check_files(tmp_path, lambda p: plots.sample_grid(images, labels, DIGITS, p, title="grid"), (1100, 570))
    plots.sample_grid(images[:5], labels[:5], DIGITS, tmp_path / "s.png", title="five", dpi=50)
    assert png_size(tmp_path / "s.png") == (275, 90)  # 5.5 x 1.8 in at 50 dpi


def test_dpi_scales_the_pixel_size(tmp_path):
    plots.roc_plot([0, 0.5, 1], [0, 0.9, 1], tmp_path / "roc.png", title="ROC", dpi=200)
    assert png_size(tmp_path / "roc.png") == (1120, 1160)


# --- errors ----------------------------------------------------------------------------------------

K10 = np.zeros((784, 10))


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda p: plots.class_templates(K10, DIGITS, p.with_suffix(".jpg"), title="t"), "path must end in"),
        (lambda p: plots.roc_plot([0, 1], [0, 1], p.parent / "no" / "r.png", title="t"), "does not exist"),
        (lambda p: plots.learning_curves([], p, title="t"), "epochs must hold at least one"),
        (lambda p: plots.learning_curves([{"epoch": 1, "lr": 0.1}], p, title="t"), "<split>_loss"),
        (
            lambda p: plots.learning_curves(
                [{"epoch": 1, "x_loss": 1}], p, title="t", step_loss=np.ones((1, 2, 3))
            ),
            r"step_loss must be an array of shape \(seeds, steps\); got shape \(1, 2, 3\)",
        ),
        (
            lambda p: plots.learning_curves([{"epoch": 1, "test_loss": "high"}], p, title="t"),
            r"epochs\[0\]\['test_loss'\] must be a number or a list of numbers",
        ),
        (lambda p: plots.compare_curves({}, p, title="t"), "runs must be a non-empty mapping"),
        (
            lambda p: plots.class_templates(np.zeros((100, 10)), DIGITS, p, title="t"),
            r"kernel must have one row per pixel, shape \(784, K\).*got shape \(100, 10\)",
        ),
        (
            lambda p: plots.class_templates(K10, DIGITS[:9], p, title="t"),
            "class_names must name the kernel's 10",
        ),
        (lambda p: plots.class_templates(K10, DIGITS, p, title=""), "title must be a non-empty string"),
        (
            lambda p: plots.weight_tiles(np.zeros((784,)), p, title="t"),
            r"kernel must be an array of shape \(H\*W, units\); got shape \(784,\)",
        ),
        (lambda p: plots.weight_tiles(np.zeros((784, 0)), p, title="t"), "kernel must not be empty"),
        (lambda p: plots.weight_tiles(K10, p, title="t", n=0), "n must be at least 1"),
        (
            lambda p: plots.conv_filters(np.zeros((3, 3, 8)), p, title="t"),
            r"kernel must be an array of shape \(kh",
        ),
        (lambda p: plots.weight_figure([1, 2], p, title="t", class_names=DIGITS), "params must be a Flax"),
        (lambda p: plots.gradient_images({}, p, title="t"), "grads must be a non-empty mapping"),
        (
            lambda p: plots.gradient_images({"out": np.ones(3)}, p, title="t"),
            r"grads\['out'\] must be an array",
        ),
        (lambda p: plots.confusion_heatmap(np.ones((3, 4)), DIGITS[:3], p, title="t"), "cm must be square"),
        (
            lambda p: plots.confusion_heatmap(np.ones((3, 3)), DIGITS, p, title="t"),
            "class_names must name the 3",
        ),
        (
            lambda p: plots.confusion_heatmap(-np.ones((3, 3)), DIGITS[:3], p, title="t"),
            "cm must hold counts",
        ),
        (lambda p: plots.reliability_diagram([], p, title="t"), "bins must be a non-empty list"),
        (
            lambda p: plots.reliability_diagram([{"lower": 0, "upper": 1}], p, title="t"),
            r"bins\[0\] must be a dict.*missing accuracy, confidence, count",
        ),
        (
            lambda p: plots.reliability_diagram(reliability_bins(), p, title="t", ece=3.2),
            "ece must be a fraction",
        ),
        (lambda p: plots.accuracy_histogram(np.array([]), p, title="t"), "accuracies must not be empty"),
        (
            lambda p: plots.accuracy_histogram([55.0, 60.0], p, title="t"),
            r"accuracies must be fractions in \[0, 1\]",
        ),
        (lambda p: plots.accuracy_histogram([0.5], p, title="t", bins=0), "bins must be at least 1"),
        (
            lambda p: plots.roc_plot([0, 0.5, 1], [0, 1], p, title="t"),
            "fpr and tpr must have the same length",
        ),
        (lambda p: plots.example_rows({}, p, title="t"), "rows must be a non-empty mapping"),
        (
            lambda p: plots.example_rows({"a": (np.zeros((2, 28, 28)), ["x"])}, p, title="t"),
            r"rows\['a'\] must have one caption per image: 2 images; got 1 captions",
        ),
        (
            lambda p: plots.example_rows(
                {"a": (np.zeros((1, 28, 28)), ["x"])}, p, title="t", colors={"b": "red"}
            ),
            "colors must name rows of rows",
        ),
        (lambda p: plots.sample_grid(np.zeros((0, 28, 28)), [], DIGITS, p, title="t"), "at least one image"),
        (
            lambda p: plots.sample_grid(np.zeros((2, 28, 28)), [1], DIGITS, p, title="t"),
            r"labels must have one",
        ),
        (lambda p: plots.roc_plot([0, 1], [0, 1], p, title="t", dpi=0), "dpi must be an integer"),
    ],
)
def test_bad_input_is_a_one_line_config_error(tmp_path, call, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        call(tmp_path / "figure.png")
    assert "\n" not in str(info.value)
    assert not list(tmp_path.iterdir())  # nothing written


def test_importing_plots_does_not_import_matplotlib():
    code = "import sys, mnistlab.plots; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
