"""``export``: check the arguments, convert, check the file against mnistlab, write it and its sidecar.

Order matters for the user: every argument (format, run folder, output path, optional packages)
is checked before any tracing or data loading, and nothing is written until the converted
model has been run back and agrees with mnistlab's own predictions on the run's test set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import Options, check
from .._compute import chunk_size, map_chunks, precision
from .._errors import ConfigError, DataError
from .._fs import atomic_write_bytes, temp_beside
from ..data import load, select_classes
from ..evaluate import LoadedRun, load_run, predict_proba
from ..models import get_model_spec
from ..runs import RunDir, now, versions, write_json
from . import _onnx, _stablehlo
from ._function import check_exportable, input_record, output_record, preprocessing

FORMATS = ("stablehlo", "onnx")
SUFFIXES = {"stablehlo": _stablehlo.SUFFIX, "onnx": _onnx.SUFFIX}
SIDECAR_SUFFIX = ".json"
EXPORT_DIR = "export"  # inside the run folder, where --out is not given
# Rows per call while checking: bounded memory for the larger CNNs' patch matrices.
_CHUNK = 1000


@dataclass(frozen=True)
class ExportResult:
    """Where the model and its sidecar were written, and the sidecar's content (``info``)."""

    path: Path
    sidecar: Path
    info: dict

    def __repr__(self) -> str:
        check = self.info.get("check")
        agreed = (
            f", argmax agreement {100 * check['argmax_agreement']:.2f}% on {check['examples']:,} "
            f"test images, max abs diff {check['max_abs_diff']:.2g}"
            if check
            else ""
        )
        return f"ExportResult({str(self.path)!r}, {self.info['format']}{agreed})"


def sidecar_path(path: Path) -> Path:
    """``model.onnx`` -> ``model.onnx.json``: beside the model, named after it."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def check_out(out, format: str, run_dir: Path) -> Path:
    """The file to write (default ``<run>/export/model<suffix>``), refused before any work if it
    has the wrong suffix or is a folder, or if its folder is missing or cannot be written."""
    suffix = SUFFIXES[format]
    if out is None:
        path = run_dir / EXPORT_DIR / f"model{suffix}"
    else:
        path = Path(out)
        if path.suffix.lower() != suffix:
            raise ConfigError(
                f"--out must name a {suffix} file for --format {format}; got {str(path)!r} "
                f"(e.g. --out model{suffix})"
            )
        if not path.parent.is_dir():
            missing = "is not a folder" if path.parent.exists() else "does not exist; create it first"
            raise ConfigError(f"--out: {str(path.parent)!r} {missing}")
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a folder; give a {suffix} file")
    # Try it rather than ask os.access: root passes every permission check, yet cannot write to
    # a read-only file system. The default export/ folder is made only on writing.
    folder = path.parent if path.parent.is_dir() else run_dir
    try:
        with temp_beside(folder / path.name) as probe:
            probe.write_bytes(b"")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _test_images(run: LoadedRun, data_dir) -> tuple[np.ndarray, str]:
    """The run's test split, its classes selected as in training."""
    ds = load(run.config.dataset, "test", data_dir=data_dir, progress=False)
    if run.config.classes:
        ds = select_classes(ds, run.config.classes)
    return np.asarray(ds.images), ds.title


def agreement(run: LoadedRun, predictor, images: np.ndarray) -> dict:
    """How the exported model's probabilities compare with :func:`~mnistlab.evaluate.predict_proba`."""
    ours = predict_proba(run, images)
    theirs = map_chunks(predictor, [images], chunk_size(len(images), _CHUNK))
    agree = theirs.argmax(axis=1) == ours.argmax(axis=1)
    return {
        "examples": len(images),
        "max_abs_diff": float(np.max(np.abs(theirs.astype(np.float64) - ours))),
        "argmax_agreement": float(np.mean(agree)),
        "argmax_disagreements": int(np.count_nonzero(~agree)),
        "reference": "mnistlab.evaluate.predict_proba",
    }


def export(
    run: str | os.PathLike | RunDir | LoadedRun,
    format: str = "stablehlo",
    out: str | os.PathLike | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    check_test: bool = True,
) -> ExportResult:
    """Export a trained classifier run as ``format`` (``"stablehlo"`` or ``"onnx"``); returns where.

    The exported function takes uint8 images ``(batch, 28, 28)`` and returns class
    probabilities ``(batch, K)``, the run's preprocessing and seed ensemble built in. Beside the
    file, ``<file>.json`` records its input, output, class names, preprocessing, run and
    versions. With ``check_test`` (the default) the file is first run back (JAX for StableHLO,
    onnxruntime for ONNX) on the run's test split, and written only if its argmax agrees with
    mnistlab's predictions on every image; the sidecar records the agreement and the largest
    probability difference.
    """
    check("format", format, [Options(FORMATS)], flag="--format")
    if format == "onnx":
        _onnx.require_onnx()
    if isinstance(run, LoadedRun):
        loaded, run_dir, kind = run, run.run_dir, run.kind
    else:
        run = run if isinstance(run, RunDir) else RunDir.open(run, trained=True)
        # The registry says what the model is: an autoencoder is refused before its parameters load.
        loaded, run_dir, kind = None, run.path, get_model_spec(run.config.model).kind
    check_exportable(run_dir, kind)
    path = check_out(out, format, Path(run_dir))
    loaded = loaded or load_run(run)
    # The test images before the conversion: data that is missing fails at once.
    test = _test_images(loaded, data_dir) if check_test else None

    with precision(loaded.config.dtype):
        if format == "stablehlo":
            blob, meta = _stablehlo.to_stablehlo(loaded)
            make_predictor = _stablehlo.stablehlo_predictor
        else:
            blob, meta = _onnx.to_onnx(loaded)
            make_predictor = _onnx.onnx_predictor
        result = None
        if test is not None:
            images, title = test
            result = {"dataset": title, "split": "test"} | agreement(loaded, make_predictor(blob), images)
            if result["argmax_disagreements"]:
                raise DataError(
                    f"the {format} model disagrees with mnistlab on {result['argmax_disagreements']} of "
                    f"{result['examples']} test images (max abs difference {result['max_abs_diff']:.3g}); "
                    "nothing written"
                )

    info = {
        "format": format,
        "file": path.name,
        "input": input_record(loaded),
        "output": output_record(loaded),
        "class_names": list(loaded.class_names),
        "preprocessing": preprocessing(loaded),
        "run": _run_record(loaded),
        **meta,
        "check": result,
        "exported": now(),
        "versions": versions() | (_onnx.onnx_versions() if format == "onnx" else {}),
    }
    try:
        atomic_write_bytes(path, blob)
        write_json(sidecar_path(path), info)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    return ExportResult(path, sidecar_path(path), info)


def _run_record(run: LoadedRun) -> dict:
    cfg = run.config
    return {
        "path": str(run.run_dir),
        "model": cfg.model,
        "kind": run.kind,
        "dataset": cfg.dataset,
        "classes": list(cfg.classes) if cfg.classes else None,
        "epoch": run.epoch,
        "seeds": list(cfg.seeds),
        "dtype": cfg.dtype,
    }
