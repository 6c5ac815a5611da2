"""Predicting for the draw page: uploaded bytes checked before they are decoded, then the very
preprocessing and model of ``mnistlab predict``, with each run loaded and compiled once.

Limits come first because a PNG of a few kilobytes can declare a 100,000 x 100,000 image: the
header is read without decoding (Pillow's ``Image.open`` is lazy), and an image over
:data:`MAX_PIXELS` is refused before a pixel is decompressed. The preprocessing is
``mnistlab._images.load_images`` (bounding box, 20 px box, centre of mass), the model's
``mnistlab.evaluate.predict_proba``: the same code as ``mnistlab predict``, not a second copy.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import MnistlabError

MAX_BYTES = 5 * 1024 * 1024  # an uploaded image file, after base64 decoding
MAX_PIXELS = 4096 * 4096  # width x height as the file's header declares it
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "GIF": ".gif"}
CACHED_RUNS = 4  # loaded runs (model, parameters, compiled predictor) kept at once


class Refused(Exception):
    """A request the app will not serve, with its HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def check_image(payload: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> str:
    """The image's format after checking its size in bytes and (from the header alone) in pixels;
    :class:`Refused` with 413 for too large, 422 for anything that is not a supported image."""
    if len(payload) > max_bytes:
        raise Refused(413, f"the image is {len(payload):,} bytes; the limit is {max_bytes:,} bytes")
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its own limit refuses) on huge images: both mean "bomb".
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload)) as img:  # reads the header, decodes nothing
                fmt, (width, height) = img.format, img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused(413, f"the image is too large to decode safely ({exc})") from None
    except Exception:  # Pillow's header parsers fail with whatever the bad byte provokes
        raise Refused(
            422, "the upload is not a readable image; expected a PNG, JPEG, BMP or GIF file"
        ) from None
    if fmt not in FORMATS:
        raise Refused(422, f"the upload is a {fmt} image; expected PNG, JPEG, BMP or GIF")
    if width * height > max_pixels:
        raise Refused(
            413,
            f"the image is {width} x {height} = {width * height:,} pixels; the limit is {max_pixels:,} "
            "(scale it down first)",
        )
    return fmt


def preprocess(payload: bytes, *, invert="auto", **limits) -> tuple[np.ndarray, dict]:
    """The 28x28 float image in [0, 1] that the model sees, and what was done (``load_image``'s info)."""
    from .._images import load_images

    fmt = check_image(payload, **limits)
    # load_images reads files: the bytes go to a private temporary file named like the format.
    fd, name = tempfile.mkstemp(suffix=FORMATS[fmt], prefix="mnistlab-serve-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        images, infos = load_images([name], invert=invert, center=True)
    except MnistlabError as exc:
        # The message names the temporary file; the user knows it as "the image".
        raise Refused(422, str(exc).replace(name, "the image")) from None
    finally:
        os.unlink(name)
    return images[0], infos[0]


@dataclass
class Prediction:
    probabilities: list[float]
    class_names: list[str]
    image: np.ndarray  # (28, 28) float32, what the model saw
    inverted: bool
    seconds: float

    def as_dict(self, run_id: str) -> dict:
        p = self.probabilities
        top = int(np.argmax(p))
        return {
            "run": run_id,
            "prediction": self.class_names[top],
            "class_index": top,
            "confidence": p[top],
            "probabilities": p,
            "class_names": self.class_names,
            # 0-255 integers: all the page draws, and a fifth of the cost of JSON floats.
            "input": np.round(self.image * 255).astype(np.uint8).tolist(),
            "inverted": self.inverted,
            "server_ms": round(1000 * self.seconds, 2),
        }


class Models:
    """Loaded runs, at most ``size`` of them, least recently used dropped first.

    A run is loaded and its predictor compiled once, under that run's own lock (two first requests
    do not compile twice, and runs already loaded keep answering meanwhile); it is loaded again
    only when its parameters file changes (a run still training writes a checkpoint each epoch).
    """

    def __init__(self, size: int = CACHED_RUNS):
        self.size = size
        self._runs: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()  # the bookkeeping above, held only for moments
        self._loading: dict[tuple, threading.Lock] = {}
        self.loads = 0  # how many times a run was loaded and compiled (tests read it)

    @staticmethod
    def _key(path: Path) -> tuple:
        stamps = []
        for name in ("params.npz", "checkpoint.npz"):
            try:
                stamps.append((path / name).stat().st_mtime_ns)
            except FileNotFoundError:
                stamps.append(None)
        return (str(path), *stamps)

    def get(self, path: Path):
        key = self._key(path)
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._runs:  # loaded by the request this one waited for
                    return self._runs[key]
            try:
                run = self._load(path)
                with self._lock:
                    for old in [k for k in self._runs if k[0] == key[0]]:
                        del self._runs[old]  # an older version of this run's parameters
                    self._runs[key] = run
                    self.loads += 1
                    while len(self._runs) > self.size:
                        self._runs.popitem(last=False)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            return run

    @staticmethod
    def _load(path: Path):
        from ..evaluate import load_run, predict_proba

        try:
            run = load_run(path)
        except MnistlabError as exc:
            raise Refused(422, str(exc)) from None
        if run.kind == "autoencoder":
            raise Refused(422, f"{path.name} is an autoencoder; the draw page needs a classifier run")
        predict_proba(run, np.zeros((1, 28, 28), np.float32))  # compile now, once
        return run

    def predict(self, path: Path, payload: bytes, *, invert="auto") -> Prediction:
        from ..evaluate import predict_proba

        run = self.get(path)
        t0 = time.perf_counter()
        image, info = preprocess(payload, invert=invert)
        # As in mnistlab predict: the engine's preprocessing starts from 0-255 pixels.
        probs = predict_proba(run, (image[None] * 255).astype(np.float32))[0]
        return Prediction(
            [float(p) for p in probs],
            list(run.class_names),
            image,
            bool(info["inverted"]),
            time.perf_counter() - t0,
        )
