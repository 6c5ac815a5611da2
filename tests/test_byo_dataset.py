"""Bring your own dataset: a 12x10, 4-class IDX dataset made here, imported, then used by every command.

Neither 28x28 nor 10 classes, and not square, so that a hard-coded MNIST size or a transposed
height and width anywhere shows up. The images are learnable (a bright band whose position is the
class) but nothing here depends on how well a model learns them: the tests check that each command
runs, on the right shapes, and that every refusal is one clear line with nothing left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import ConfigError, DataError
from mnistlab import data as D

H, W, K = 12, 10, 4
NAME = "stripes"
CLASSES = ("north", "east", "south", "west")
SIZES = {"train": 160, "test": 48}

pytestmark = pytest.mark.usefixtures("cheap_compiles")


def _images_and_labels(n: int, seed: int, h: int = H, w: int = W) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % K).astype(np.uint8)
    rng.shuffle(labels)
    images = rng.integers(0, 40, (n, h, w), dtype=np.uint8)
    for i, c in enumerate(labels):
        images[i, :, c * w // K : (c + 1) * w // K] = 220
    return images, labels


def write_dataset(
    folder: Path, *, h: int = H, w: int = W, test_h: int | None = None
) -> dict[str, np.ndarray]:
    """The four standard IDX files in ``folder`` (train gzip, test raw: both must import)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, prefix, suffix, seed in (("train", "train", ".gz", 0), ("test", "t10k", "", 1)):
        x, y = _images_and_labels(SIZES[split], seed, test_h if split == "test" and test_h else h, w)
        D.write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x)
        D.write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)
        arrays[f"{split}-images"], arrays[f"{split}-labels"] = x, y
    return arrays


def listing(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    folder = tmp_path_factory.mktemp("mine")
    return folder, write_dataset(folder)


@pytest.fixture(scope="module")
def cache(tmp_path_factory, source) -> Path:
    """A cache holding ``stripes``, imported once for the module."""
    root = tmp_path_factory.mktemp("byo-cache")
    D.import_dir(source[0], NAME, data_dir=root, classes=CLASSES)
    return root


@pytest.fixture
def in_cache(cache, monkeypatch) -> Path:
    monkeypatch.setenv("MNISTLAB_DATA_DIR", str(cache))
    return cache


# --------------------------------------------------------------------------------------- import


def test_import_records_shape_classes_sizes_and_content_checksums(cache, source):
    manifest = json.loads((cache / NAME / "manifest.json").read_text())
    entry = manifest["dataset"]
    assert entry["image_shape"] == [H, W]
    assert entry["class_names"] == list(CLASSES)
    assert entry["split_sizes"] == SIZES
    assert entry["source"] == str(source[0].resolve())
    files = manifest["files"]
    assert set(files) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    }
    for name, rec in files.items():
        content = D.read_idx_content(cache / NAME / name)
        assert rec["content_sha256"] == content.content_sha256


def test_an_imported_dataset_loads_like_a_built_in_one(cache, source):
    _, arrays = source
    for split in ("train", "test"):
        ds = D.load(NAME, split, data_dir=cache)
        np.testing.assert_array_equal(ds.images, arrays[f"{split}-images"])
        np.testing.assert_array_equal(ds.labels, arrays[f"{split}-labels"])
        assert ds.image_shape == (H, W)
        assert ds.class_names == CLASSES
        assert ds.title == NAME
        assert {r.verified_by for r in ds.provenance.files} == {"sha256-at-import"}


def test_it_is_a_known_name_everywhere_names_are_checked(cache, in_cache):
    from mnistlab.train import TrainConfig

    assert D.dataset_names(cache)[-1] == NAME
    assert NAME in D.dataset_names()  # the default cache ($MNISTLAB_DATA_DIR) is this one here
    assert TrainConfig(dataset=NAME).dataset == NAME
    assert D.get_info(NAME).imported_from


def test_data_list_and_info_show_it(in_cache, capsys):
    code, out, _ = run_cli(capsys, "data", "list", "--json")
    assert code == 0
    row = next(r for r in json.loads(out)["datasets"] if r["name"] == NAME)
    assert (row["classes"], row["train"], row["test"], row["image"]) == (K, 160, 48, f"{H}x{W}")
    assert row["available"] == "yes"
    code, out, _ = run_cli(capsys, "data", "info", NAME, "--json")
    assert code == 0
    summaries = json.loads(out)
    assert [s["split"] for s in summaries] == ["train", "test"]
    assert summaries[1]["image_shape"] == [H, W]
    assert list(summaries[1]["classes"]) == list(CLASSES)


def test_a_dataset_in_another_data_dir_is_known_to_train_given_data_dir(cache, capsys, tmp_path):
    # Not the default cache: only --data-dir names it. The config's name check must see it.
    code, _, err = run_cli(
        capsys, "train", "--dataset", NAME, "--model", "cnn-s7", "--data-dir", cache, "--out", tmp_path / "r"
    )
    assert "must be one of" not in err
    assert_user_error(code, err, "shrink a 12x10 image to nothing", "conv16k5")


def test_cli_import_without_class_names_numbers_the_classes(source, capsys, tmp_path):
    cache = tmp_path / "cache"
    code, out, err = run_cli(capsys, "data", "import", source[0], "--name", "numbered", "--data-dir", cache)
    assert code == 0, err
    assert f"4 classes (0, 1, 2, 3), {H}x{W} images, 160 train / 48 test" in " ".join(out.split())
    assert D.load("numbered", "test", data_dir=cache).class_names == ("0", "1", "2", "3")


# ------------------------------------------------------------------------------ refused imports


@pytest.mark.parametrize(
    ("name", "extra", "fragments"),
    [
        ("mnist", ["--classes", "a,b"], ["--classes", "'mnist' is built in"]),
        ("auto", [], ["--name 'auto' is taken by mnistlab"]),
        ("../escape", [], ["--name must be", "'../escape'"]),
        ("Upper", [], ["--name must be", "lower-case"]),
        (".hidden", [], ["--name must be"]),
        (NAME, ["--classes", "a,b,a,c"], ["--classes must be", "distinct"]),
        (NAME, ["--classes", "a,,b"], ["--classes must be", "non-empty"]),
        (NAME, ["--classes", "only"], ["--classes must be 2 to"]),
    ],
)
def test_bad_names_and_classes_are_refused_and_nothing_is_written(
    source, capsys, tmp_path, name, extra, fragments
):
    cache = tmp_path / "cache"
    code, _, err = run_cli(capsys, "data", "import", source[0], "--name", name, *extra, "--data-dir", cache)
    assert_user_error(code, err, *fragments)
    assert listing(cache) == {}


def test_a_label_beyond_the_named_classes_imports_nothing(source, capsys, tmp_path):
    cache = tmp_path / "cache"
    code, _, err = run_cli(
        capsys, "data", "import", source[0], "--name", "three", "--classes", "a,b,c", "--data-dir", cache
    )
    assert_user_error(code, err, "labels-idx1-ubyte", "(--classes names 3)", "[0, 2]", exit=1)
    assert listing(cache) == {}


def test_a_missing_file_or_two_image_sizes_import_nothing(capsys, tmp_path):
    folder = tmp_path / "two-sizes"
    write_dataset(folder, test_h=H + 1)
    cache = tmp_path / "cache"
    code, _, err = run_cli(capsys, "data", "import", folder, "--name", "mixed", "--data-dir", cache)
    assert_user_error(code, err, f"training images are {H}x{W} but test images {H + 1}x{W}", exit=1)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    code, _, err = run_cli(capsys, "data", "import", folder, "--name", "mixed", "--data-dir", cache)
    assert_user_error(code, err, "needs all four IDX files", "t10k-labels-idx1-ubyte[.gz]", exit=1)
    assert listing(cache) == {}


def test_a_file_changed_after_import_is_refused_on_load(source, tmp_path, capsys):
    cache = tmp_path / "cache"
    D.import_dir(source[0], "tampered", data_dir=cache)
    path = cache / "tampered" / "t10k-labels-idx1-ubyte"
    labels = D.read_idx(path)
    D.write_idx(path, np.roll(labels, 1))  # a valid file, same size and range: only the checksum tells
    with pytest.raises(DataError, match="has changed since: import it again"):
        D.load("tampered", "test", data_dir=cache)
    code, _, err = run_cli(capsys, "data", "info", "tampered", "--data-dir", cache)
    assert_user_error(code, err, str(path), "recorded when 'tampered' was imported", exit=1)


def test_an_unknown_name_lists_built_in_and_imported_ones(cache):
    with pytest.raises(ConfigError) as err:
        D.get_info("strips", data_dir=cache)
    assert "'mnist-sample' (built in)" in str(err.value)
    assert f"imported into {cache}: '{NAME}'" in str(err.value)


# ------------------------------------------------------------------------- every command, end to end


def _train(capsys, out: Path, model: str, *extra) -> None:
    code, _, err = run_cli(
        capsys, "train", "--dataset", NAME, "--model", model, "--epochs", "1", "--batch-size", "32",
        "--out", out, "-q", *extra,
    )  # fmt: skip
    assert code == 0, err


@pytest.fixture(scope="module")
def runs(cache, tmp_path_factory) -> dict[str, Path]:
    """One run per model kind that fits 12x10 images (cnn-s3, cnn-s7 and lenet5 do not: see below)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MNISTLAB_DATA_DIR", str(cache))
    capsys = _Capture()
    folder = tmp_path_factory.mktemp("byo-runs")
    plans = {  # softmax is left out: its one dense layer from the pixels is mlp's first layer
        "mlp": ["--widths", "16"],
        "binary-mlp": ["--widths", "8", "--classes", "0,3"],
        "cnn": ["--layers", "conv4k3,pool2,dense8"],
        "autoencoder": ["--widths", "8"],
    }
    try:
        for model, extra in plans.items():
            _train(capsys, folder / model, model, *extra)
    finally:
        mp.undo()
    return {m: folder / m for m in plans}


class _Capture:
    """capsys for a module-scoped fixture: main() writes to the real streams, nothing to read back."""

    def readouterr(self):
        return "", ""


@pytest.mark.parametrize("model", ["mlp", "binary-mlp", "cnn", "autoencoder"])
def test_every_model_kind_trains_and_evaluates_at_12x10(runs, in_cache, capsys, model):
    info = json.loads((runs[model] / "run.json").read_text())
    assert info["model"]["image_shape"] == [H, W]
    assert info["dataset"]["class_names"] == (["north", "west"] if model == "binary-mlp" else list(CLASSES))
    code, out, err = run_cli(capsys, "evaluate", runs[model], "--json", "--no-train")
    assert code == 0, err
    res = json.loads(out)
    assert res["examples"] == (24 if model == "binary-mlp" else 48)  # --classes 0,3 keeps 2 of 4
    if model != "autoencoder":
        k = 2 if model == "binary-mlp" else K
        assert np.asarray(res["confusion_matrix"]).shape == (k, k)


@pytest.mark.parametrize("model", ["cnn-s3", "cnn-s7", "lenet5"])
def test_cnns_that_shrink_12x10_to_nothing_are_refused_before_any_work(in_cache, capsys, tmp_path, model):
    code, _, err = run_cli(capsys, "train", "--dataset", NAME, "--model", model, "--out", tmp_path / "run")
    assert_user_error(code, err, "shrink a 12x10 image to nothing", "use fewer or smaller layers")
    assert not (tmp_path / "run").exists()


def test_predict_resizes_an_image_of_another_size_to_the_datasets(runs, in_cache, capsys, tmp_path):
    from PIL import Image

    picture = np.zeros((37, 53), np.uint8)
    picture[:, 40:] = 255  # a band on the right: "west", though no test depends on the answer
    Image.fromarray(picture).save(tmp_path / "big.png")
    code, out, err = run_cli(capsys, "predict", runs["cnn"], tmp_path / "big.png", "--json", "--no-center")
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["resized_to"] == [H, W]
    assert set(result["probabilities"]) == set(CLASSES)
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)  # float32 softmax


def test_the_report_draws_galleries_and_weight_images_at_12x10(runs, in_cache, capsys, tmp_path):
    out = tmp_path / "report.html"
    code, _, err = run_cli(capsys, "report", runs["mlp"], "--out", out, "--examples", "2")
    assert code == 0, err
    html = out.read_text()
    assert "not drawn" not in html  # a figure the data did not allow would say so instead
    # The first layer's weights as 12x10 tiles (not 784 rows reshaped to 28x28), and the galleries.
    for title in ("Weights", "Test images with predictions", "The most confident mistakes"):
        assert f'alt="{title}"' in html, title
