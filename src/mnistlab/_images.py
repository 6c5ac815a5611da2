"""User images -> MNIST-style inputs (white strokes on black, 28x28, floats in [0, 1]).

A model trained on MNIST only means something on inputs that look like MNIST, so this repeats
LeCun's preprocessing: the digit's bounding box is scaled so its longer side is 20 px (aspect
ratio kept) and pasted into a 28x28 field with its centre of mass at the centre. Photos and
drawings are usually dark ink on white paper, the opposite of MNIST, so they are inverted.

Every problem with a file is a :class:`DataError` naming the file, what was expected and what was
found, so ``mnistlab predict`` can print it on one line.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._errors import ConfigError, DataError, check_int

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Float

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
ARRAY_SUFFIXES = (".npy",)
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES + ARRAY_SUFFIXES

INK_THRESHOLD = 0.1
# MNIST's digits fill a 20x20 box inside the 28x28 field; other canvas sizes keep that proportion.
_BOX_FRACTION = 20 / 28

_ACCEPTED_SHAPES = "(H, W), (H, W, 1), (H, W, 3), (H, W, 4) or (1, H, W)"
_ACCEPTED_DTYPES = "uint8 (0–255), bool, or float (0–1, or 0–255)"


def load_image(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] = (28, 28),
    invert: bool | Literal["auto"] = "auto",
    center: bool = True,
) -> tuple[Float[np.ndarray, "h w"], dict[str, Any]]:
    """One image file as a float32 ``size`` array in [0, 1], white ink on black, plus what was done.

    ``path`` is a PNG, JPEG, BMP or GIF (any size or mode; transparency counts as white) or a
    ``.npy`` array. ``invert="auto"`` inverts images whose 1-pixel border is mostly light.
    ``center=True`` crops to the ink, scales it to fit 20/28 of the canvas and centres it by mass;
    ``center=False`` only resizes the whole image to ``size``.

    The info dict holds ``path``, ``format``, ``mode`` (Pillow mode or array dtype), ``shape``
    (of the source, H x W), ``inverted``, ``border_mean`` (before inversion), ``ink_box``
    (top, left, bottom, right, exclusive; None when not centring or when there is no ink) and
    ``offset`` (top, left of the pasted digit on the canvas, or None).
    """
    height, width = _check_size(size)
    if not (invert == "auto" or isinstance(invert, bool | np.bool_)):
        raise ConfigError(f"invert must be 'auto', True or False; got {invert!r}")
    path = Path(path)
    gray, info = _read_gray(path)
    if gray.shape[0] == 0 or gray.shape[1] == 0:
        raise DataError(f"{path}: empty image (shape {gray.shape}); expected at least one pixel")

    border_mean = float(_border(gray).mean())
    inverted = bool(border_mean > 0.5) if invert == "auto" else bool(invert)
    if inverted:
        gray = 1 - gray
    info.update(inverted=inverted, border_mean=border_mean, ink_box=None, offset=None)

    out = _center(gray, (height, width), info) if center else _resize(gray, (height, width))
    # Lanczos overshoots at sharp edges; the model was trained on [0, 1].
    return np.clip(out, 0, 1).astype(np.float32, copy=False), info


def load_images(
    paths: Iterable[str | os.PathLike], **kwargs: Any
) -> tuple[Float[np.ndarray, "n h w"], list[dict[str, Any]]]:
    """:func:`load_image` on each path, stacked into one float32 array."""
    if isinstance(paths, str | bytes | os.PathLike):
        # A lone string would be iterated character by character into baffling "no such file" errors.
        raise ConfigError(f"load_images expects a list of paths, got the single path {paths!r}")
    images, infos = [], []
    for p in paths:
        image, info = load_image(p, **kwargs)
        images.append(image)
        infos.append(info)
    if not images:
        return np.zeros((0, *_check_size(kwargs.get("size", (28, 28)))), np.float32), infos
    return np.stack(images), infos


def _check_size(size) -> tuple[int, int]:
    try:
        height, width = size
    except (TypeError, ValueError):
        raise ConfigError(f"size must be (height, width); got {size!r}") from None
    height, width = check_int("size height", height), check_int("size width", width)
    if height < 1 or width < 1:
        raise ConfigError(f"size must be positive; got {size!r}")
    return height, width


def _read_gray(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Grayscale float32 in [0, 1] (0 black), not yet inverted, and the info about the source."""
    suffix = path.suffix.lower()
    if path.is_dir():
        raise DataError(f"{path}: expected an image file, found a directory")
    if not path.exists():
        raise DataError(f"{path}: no such file; expected an image file ({', '.join(SUPPORTED_SUFFIXES)})")
    if suffix not in SUPPORTED_SUFFIXES:
        found = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise DataError(
            f"{path}: unsupported file type ({found}); expected one of {', '.join(SUPPORTED_SUFFIXES)} "
            f"(save the image as PNG, or a NumPy array with numpy.save)"
        )
    if suffix in ARRAY_SUFFIXES:
        return _read_npy(path)
    return _read_pil(path)


def _read_pil(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            img.load()
            fmt = img.format
            # Phone cameras store pixels sideways and an EXIF tag saying how to turn them.
            img = ImageOps.exif_transpose(img)
    except PermissionError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    except Image.UnidentifiedImageError:
        raise DataError(
            f"{path}: not a readable image (Pillow cannot identify its format); expected a "
            f"PNG, JPEG, BMP or GIF file, is it misnamed or corrupt?"
        ) from None
    # Pillow's decoders signal damaged data with whichever exception the failing step raises.
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise DataError(
            f"{path}: corrupt or truncated image ({_summary(exc)}); expected a complete "
            f"PNG, JPEG, BMP or GIF file"
        ) from None
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: image too large to load safely ({_summary(exc)})") from None

    info: dict[str, Any] = {
        "path": str(path),
        "format": fmt or path.suffix.lstrip(".").upper(),
        "mode": img.mode,
        "shape": (img.height, img.width),
    }
    if img.width == 0 or img.height == 0:
        return np.zeros((img.height, img.width), np.float32), info
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        # Transparent pixels show as white in drawing apps, so that is what the user meant.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        gray = np.asarray(Image.alpha_composite(white, rgba).convert("L"), np.float32) / np.float32(255)
    elif img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit PNGs; Pillow's convert("L") would clip them to 0-255 rather than scale.
        gray = np.asarray(img, np.float32) / np.float32(65535)
    elif img.mode == "F":
        gray = _float_values(path, np.asarray(img, np.float32))
    else:
        gray = np.asarray(img.convert("L"), np.float32) / np.float32(255)
    return gray, info


def _read_npy(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    try:
        arr = np.load(path, allow_pickle=False)
    except PermissionError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(
            f"{path}: cannot read as a .npy array ({_summary(exc)}); expected a file written by numpy.save"
        ) from None
    if not isinstance(arr, np.ndarray):  # an .npz archive saved under a .npy name
        arr.close()
        raise DataError(f"{path}: found an .npz archive; expected a single array written by numpy.save")

    shape = arr.shape
    if arr.ndim == 3 and shape[2] in (1, 3, 4):
        pass
    elif arr.ndim == 3 and shape[0] == 1:
        arr = arr[0][..., None]
    elif arr.ndim == 2:
        arr = arr[..., None]
    else:
        hint = ""
        if arr.ndim == 3 and shape[0] in (3, 4):
            hint = " (for channels-first data, save arr.transpose(1, 2, 0))"
        raise DataError(f"{path}: array of shape {shape} is not an image; expected {_ACCEPTED_SHAPES}{hint}")
    info: dict[str, Any] = {
        "path": str(path),
        "format": "NPY",
        "mode": str(arr.dtype),
        "shape": arr.shape[:2],
    }
    if arr.size == 0:
        return np.zeros(arr.shape[:2], np.float32), info

    if arr.dtype == np.bool_:
        values = arr.astype(np.float32)
    elif arr.dtype == np.uint8:
        values = arr.astype(np.float32) / np.float32(255)
    elif arr.dtype.kind in "iu":
        # np.save of an int64 array that holds 0-255 pixels is common; only the values matter.
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high > 255:
            raise DataError(
                f"{path}: {arr.dtype} values range from {low} to {high}; expected {_ACCEPTED_DTYPES}"
            )
        values = arr.astype(np.float32) / np.float32(255)
    elif arr.dtype.kind == "f":
        values = _float_values(path, arr.astype(np.float32))
    else:
        raise DataError(f"{path}: array dtype {arr.dtype} is not supported; expected {_ACCEPTED_DTYPES}")

    channels = values.shape[2]
    if channels == 1:
        gray = values[..., 0]
    else:
        # ITU-R 601-2 luma, the weights Pillow's convert("L") uses, so .npy and PNG agree.
        gray = values[..., 0] * 0.299 + values[..., 1] * 0.587 + values[..., 2] * 0.114
        if channels == 4:
            alpha = values[..., 3]
            gray = gray * alpha + (1 - alpha)  # transparent means white, as for PNGs
    return gray.astype(np.float32, copy=False), info


def _float_values(path: Path, values: np.ndarray) -> np.ndarray:
    """Float pixels in [0, 1]; a maximum above 1 means the data is on the 0-255 scale."""
    if not np.isfinite(values).all():
        raise DataError(f"{path}: found NaN or infinite values; expected {_ACCEPTED_DTYPES}")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        raise DataError(f"{path}: float values range from {low:g} to {high:g}; expected {_ACCEPTED_DTYPES}")
    return values / np.float32(255) if high > 1 else values


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _border(gray: np.ndarray) -> np.ndarray:
    if gray.shape[0] <= 2 or gray.shape[1] <= 2:
        return gray.ravel()
    return np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])


def _resize(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if gray.shape == size:
        return gray  # no resampling, so an image already the right size passes through exactly
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(gray, np.float32), mode="F")
    return np.asarray(img.resize((size[1], size[0]), Image.Resampling.LANCZOS), np.float32)


def _center(gray: np.ndarray, size: tuple[int, int], info: dict[str, Any]) -> np.ndarray:
    height, width = size
    rows = np.flatnonzero((gray > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((gray > INK_THRESHOLD).any(axis=0))
    if rows.size:
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        gray = gray[top:bottom, left:right]
        info["ink_box"] = (int(top), int(left), int(bottom), int(right))

    box_h, box_w = max(1, round(height * _BOX_FRACTION)), max(1, round(width * _BOX_FRACTION))
    scale = min(box_h / gray.shape[0], box_w / gray.shape[1])
    new_h = min(box_h, max(1, round(gray.shape[0] * scale)))
    new_w = min(box_w, max(1, round(gray.shape[1] * scale)))
    digit = np.clip(_resize(gray, (new_h, new_w)), 0, 1)

    mass = float(digit.sum())
    if mass > 0:
        com_r = float((digit.sum(axis=1) * np.arange(new_h)).sum()) / mass
        com_c = float((digit.sum(axis=0) * np.arange(new_w)).sum()) / mass
    else:
        com_r, com_c = (new_h - 1) / 2, (new_w - 1) / 2
    # MNIST's centres of mass sit at pixel index (14, 14), not the geometric 13.5, scattered by
    # +-0.29 px: LeCun shifted by whole pixels towards size / 2. Doing the same keeps a centred MNIST
    # digit where it was. Ink is never pushed off the canvas, though: a lopsided digit (a 7, say)
    # slightly off centre is closer to MNIST than one with its tip cut off.
    top = min(max(round(height / 2 - com_r), 0), height - new_h)
    left = min(max(round(width / 2 - com_c), 0), width - new_w)
    canvas = np.zeros((height, width), np.float32)
    canvas[top : top + new_h, left : left + new_w] = digit
    info["offset"] = (int(top), int(left))
    return canvas
