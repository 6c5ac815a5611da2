"""Exporting runs: StableHLO reloaded by JAX alone, ONNX run in onnxruntime, the sidecar, the CLI
and its errors; on the full MNIST test set, a run trained briefly on the full training set.

Offline, on the bundled MNIST sample, with tiny models trained for one epoch. The ONNX tests
need the ``onnx`` extra and skip, saying so, without it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import DataError
from mnistlab.data import load, select_classes
from mnistlab.evaluate import LoadedRun, load_run, predict_proba
from mnistlab.export import OPSET, PLATFORMS, SUFFIXES, ExportResult, export, sidecar_path
from mnistlab.train import TrainConfig, to_toml, train

# Tiny programs compiled once or twice each: XLA's optimisations would cost more than they save.
pytestmark = pytest.mark.usefixtures("cheap_compiles")

# How far an exported file's probabilities may be from predict_proba's. Both compute the same
# function in float32 (probabilities <= 1, so one ulp is <= 1.2e-7), but not the same program:
# StableHLO holds the parameters as constants, which XLA folds and fuses differently from
# parameters passed as arguments (measured up to 6.6e-7, on cnn-s3); onnxruntime's Gemm and
# Einsum sum in another order than XLA's dot (measured up to 1.1e-6, binary-mlp). 1e-5 leaves a
# tenfold margin, while a preprocessing mistake (a missing normalisation, a swapped layout)
# moves some probabilities by orders of magnitude more.
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def env():
    """Offline, for the module-scoped runs (conftest's autouse fixture is per test)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_OFFLINE", "1")
        yield mp


@dataclass
class Trained:
    """A run trained here, loaded once (its compiled predictor is reused), with its test images
    and mnistlab's own probabilities for them: what every exported file is compared with."""

    path: Path
    run: LoadedRun
    images: np.ndarray
    ours: np.ndarray
    exports: dict = field(default_factory=dict)

    def export(self, fmt: str, tmp_path_factory) -> ExportResult:
        """This run exported as ``fmt`` (checked on the test set), once per module."""
        if fmt not in self.exports:
            out = tmp_path_factory.mktemp(f"export-{fmt}") / f"model{SUFFIXES[fmt]}"
            self.exports[fmt] = export(self.run, fmt, out)
        return self.exports[fmt]


def _train(tmp_path_factory, name: str, data_dir=None, **config) -> Trained:
    path = tmp_path_factory.mktemp(name) / "run"
    config = TrainConfig(**{"dataset": "mnist-sample", "epochs": 1, **config})
    train(config, out=path, quiet=True, data_dir=data_dir)
    run = load_run(path)
    ds = load(config.dataset, "test", data_dir=data_dir, progress=False)
    images = np.asarray((select_classes(ds, config.classes) if config.classes else ds).images)
    return Trained(path, run, images, predict_proba(run, images))


@pytest.fixture(scope="module")
def mlp(env, cheap_compiles, tmp_path_factory) -> Trained:
    """A 32-unit MLP with two seeds: the export holds their ensemble."""
    return _train(tmp_path_factory, "mlp", model="mlp", widths=(32,), seeds=(0, 1))


@pytest.fixture(scope="module")
def cnn(env, cheap_compiles, tmp_path_factory) -> Trained:
    """A tiny NHWC CNN on globally normalised pixels: the CPU's matmul convolutions and max-pooling."""
    return _train(tmp_path_factory, "cnn", model="cnn", layers="conv4k3,pool2,dense16", preprocess="global")


@pytest.fixture(scope="module")
def binary(env, cheap_compiles, tmp_path_factory) -> Trained:
    """Study S8's task: 7 -> label 0, 1 -> label 1, each image standardised, one sigmoid output."""
    return _train(
        tmp_path_factory, "binary", model="binary-mlp", widths=(16,), classes=(7, 1), preprocess="per-image"
    )


@pytest.fixture(scope="module")
def onnx_extra():
    missing = [p for p in ("jax2onnx", "onnx", "onnxruntime") if importlib.util.find_spec(p) is None]
    if missing:
        pytest.skip(f"the onnx extra is not installed ({', '.join(missing)}): pip install 'mnistlab[onnx]'")


def max_diff(trained: Trained, probs: np.ndarray) -> float:
    """Max abs difference from predict_proba's probabilities; fails unless every argmax agrees."""
    assert probs.shape == trained.ours.shape
    agree = probs.argmax(axis=1) == trained.ours.argmax(axis=1)
    assert agree.all(), f"argmax differs on {np.count_nonzero(~agree)} of {len(agree)} images"
    return float(np.abs(probs.astype(np.float64) - trained.ours).max())


def check_record_agrees(res: ExportResult, trained: Trained) -> None:
    """The check export ran before writing says what the test found."""
    assert res.info["check"]["examples"] == len(trained.images)
    assert res.info["check"]["argmax_agreement"] == 1.0
    assert res.info["check"]["max_abs_diff"] <= TOLERANCE


# --- StableHLO ------------------------------------------------------------------------------------


def test_stablehlo_runs_in_a_process_that_never_imports_mnistlab(mlp, tmp_path, tmp_path_factory):
    res = mlp.export("stablehlo", tmp_path_factory)
    np.save(tmp_path / "images.npy", mlp.images)
    script = textwrap.dedent(
        f"""
        import sys
        import jax, numpy as np
        exported = jax.export.deserialize(bytearray(open({str(res.path)!r}, "rb").read()))
        probs = exported.call(np.load("images.npy"))
        np.save("probs.npy", np.asarray(probs))
        assert not any(m.split(".")[0] == "mnistlab" for m in sys.modules), "mnistlab was imported"
        """
    )
    # No PYTHONPATH to the source tree: the child could not import mnistlab even by accident.
    child_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=child_env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert max_diff(mlp, np.load(tmp_path / "probs.npy")) <= TOLERANCE
    check_record_agrees(res, mlp)


@pytest.mark.parametrize("name", ["cnn", "binary"])
def test_stablehlo_reloaded_by_jax_gives_mnistlabs_probabilities(name, request, tmp_path_factory):
    import jax

    trained = request.getfixturevalue(name)
    res = trained.export("stablehlo", tmp_path_factory)
    exported = jax.export.deserialize(bytearray(res.path.read_bytes()))
    assert max_diff(trained, np.asarray(exported.call(trained.images))) <= TOLERANCE
    check_record_agrees(res, trained)


def test_stablehlo_takes_any_batch_size(mlp, tmp_path_factory):
    import jax

    res = mlp.export("stablehlo", tmp_path_factory)
    exported = jax.export.deserialize(bytearray(res.path.read_bytes()))
    assert [str(d) for d in exported.in_avals[0].shape] == ["batch", "28", "28"]
    assert set(PLATFORMS) <= set(exported.platforms)  # exported here, runnable on a GPU too
    for n in (1, 3):
        assert exported.call(mlp.images[:n]).shape == (n, 10)


def test_the_sidecar_records_input_output_classes_and_preprocessing(binary, tmp_path_factory):
    res = binary.export("stablehlo", tmp_path_factory)
    assert res.sidecar == sidecar_path(res.path) == res.path.with_name("model.stablehlo.json")
    info = json.loads(res.sidecar.read_text())
    assert info == json.loads(json.dumps(res.info))
    assert info["input"]["shape"] == ["batch", 28, 28]
    assert info["input"]["dtype"] == "uint8"
    assert info["output"]["shape"] == ["batch", 2]
    assert "sigmoid" in info["output"]["what"]
    assert info["class_names"] == list(binary.run.class_names) == ["7", "1"]
    assert (info["preprocessing"]["method"], info["preprocessing"]["layout"]) == ("per-image", "flat")
    assert info["run"]["classes"] == [7, 1]
    assert {"jax", "mnistlab"} <= set(info["versions"])


def test_the_sidecar_names_the_runs_normalisation_statistics(cnn, tmp_path_factory):
    info = cnn.export("stablehlo", tmp_path_factory).info["preprocessing"]
    stats = cnn.run.info["dataset"]["normalization"]
    assert (info["method"], info["layout"]) == ("global", "NHWC")
    assert (info["mean"], info["std"]) == (stats["mean"], stats["std"])


def test_a_file_that_disagrees_with_mnistlab_is_not_written(mlp, tmp_path, monkeypatch):
    from mnistlab.export import _stablehlo

    real = _stablehlo.stablehlo_predictor

    def swapped(blob):  # the right numbers for the wrong classes
        predict = real(blob)
        return lambda images: predict(images)[:, ::-1]

    monkeypatch.setattr(_stablehlo, "stablehlo_predictor", swapped)
    with pytest.raises(DataError, match=r"disagrees with mnistlab on \d+ of 1000 .* nothing written"):
        export(mlp.run, "stablehlo", tmp_path / "model.stablehlo")
    assert list(tmp_path.iterdir()) == []


# --- ONNX -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_onnx_in_onnxruntime_agrees_with_mnistlab(name, request, tmp_path_factory, onnx_extra):
    import onnx
    import onnxruntime as ort

    trained = request.getfixturevalue(name)
    res = trained.export("onnx", tmp_path_factory)
    model = onnx.load(str(res.path))
    assert [o.version for o in model.opset_import if o.domain == ""] == [OPSET] == [res.info["opset"]]
    session = ort.InferenceSession(str(res.path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [("images", "tensor(uint8)")]
    probs = session.run(["probabilities"], {"images": trained.images})[0]
    assert max_diff(trained, probs) <= TOLERANCE
    check_record_agrees(res, trained)
    assert {"jax2onnx", "onnx", "onnxruntime"} <= set(res.info["versions"])


def test_onnx_without_the_extra_names_the_install_command(mlp, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jax2onnx", None)  # as if not installed: find_spec is None
    code, _, err = run_cli(capsys, "export", mlp.path, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert_user_error(code, err, "jax2onnx", "pip install 'mnistlab[onnx]'", exit=1)


# --- the command ----------------------------------------------------------------------------------


def test_export_command_writes_into_the_run_and_prints_the_sidecar_as_json(cnn, tmp_path, capsys):
    code, stdout, err = run_cli(capsys, "export", cnn.path, "--format", "stablehlo", "--json")
    assert code == 0, err
    info = json.loads(stdout)
    default = cnn.path / "export" / "model.stablehlo"
    assert info["path"] == str(default)
    assert default.is_file()
    assert info["sidecar"] == str(default.with_name("model.stablehlo.json"))
    assert info["class_names"] == [str(d) for d in range(10)]
    assert info["check"]["argmax_agreement"] == 1.0
    out = tmp_path / "cnn.stablehlo"
    code, stdout, err = run_cli(capsys, "export", cnn.path, "--out", out, "--no-check")
    assert code == 0, err
    assert stdout.strip() == f"wrote {out} and cnn.stablehlo.json"
    assert json.loads(sidecar_path(out).read_text())["check"] is None


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--format", "onix"], ["--format", "stablehlo, onnx", "did you mean 'onnx'"]),
        (["--out", "{tmp}/model.onnx"], ["--out must name a .stablehlo file"]),
        (["--out", "{tmp}/missing/model.stablehlo"], ["does not exist"]),
        (["--out", "{tmp}/folder.stablehlo"], ["is a folder"]),
    ],
)
def test_export_refuses_bad_options_in_one_line(mlp, tmp_path, capsys, args, fragments):
    (tmp_path / "folder.stablehlo").mkdir()
    args = [a.format(tmp=tmp_path) for a in args]
    code, _, err = run_cli(capsys, "export", mlp.path, *args)
    assert_user_error(code, err, *fragments, exit=2)


def test_export_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    code, _, err = run_cli(capsys, "export", tmp_path)
    assert_user_error(code, err, "is not an mnistlab run")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's read-only /proc")
def test_export_refuses_an_unwritable_out_before_any_work(mlp, capsys, monkeypatch):
    # Even root cannot create a file in /proc. Loading the run would come after this check.
    monkeypatch.setattr("mnistlab.export._export.load_run", lambda run: pytest.fail("loaded the run"))
    code, _, err = run_cli(capsys, "export", mlp.path, "--out", "/proc/model.stablehlo")
    assert_user_error(code, err, "cannot write /proc/model.stablehlo", exit=1)


def test_export_refuses_an_autoencoder_before_loading_it(mlp, tmp_path, capsys):
    # The refusal comes from the config (the registry's kind), so a config is all it needs.
    run_dir = tmp_path / "ae"
    run_dir.mkdir()
    (run_dir / "run.json").write_text((mlp.path / "run.json").read_text())
    (run_dir / "config.toml").write_text(to_toml(TrainConfig(model="autoencoder", dataset="mnist-sample")))
    code, _, err = run_cli(capsys, "export", run_dir)
    assert_user_error(code, err, "is an autoencoder", "class probabilities")


# --- the full MNIST test set ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def full(env, cheap_compiles, shared_data, tmp_path_factory) -> Trained:
    """A 64-unit MLP after one epoch on all 60,000 MNIST training images (about 4 s)."""
    return _train(tmp_path_factory, "full", data_dir=shared_data, dataset="mnist", model="mlp", widths=(64,))


@pytest.mark.full_data
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["stablehlo", "onnx"])
def test_each_format_agrees_with_mnistlab_on_the_full_mnist_test_set(
    fmt, full, shared_data, request, tmp_path
):
    if fmt == "onnx":
        request.getfixturevalue("onnx_extra")
    assert len(full.images) == 10_000
    res = export(full.run, fmt, tmp_path / f"model{SUFFIXES[fmt]}", data_dir=shared_data)
    if fmt == "stablehlo":
        import jax

        exported = jax.export.deserialize(bytearray(res.path.read_bytes()))
        probs = np.asarray(exported.call(full.images))
    else:
        import onnxruntime as ort

        session = ort.InferenceSession(str(res.path), providers=["CPUExecutionProvider"])
        probs = session.run(["probabilities"], {"images": full.images})[0]
    assert max_diff(full, probs) <= TOLERANCE
    check_record_agrees(res, full)
