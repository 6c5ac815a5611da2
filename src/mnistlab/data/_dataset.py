"""The in-memory dataset: images, labels and where they came from."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .._errors import DataError
from .._reprs import html_rows

if TYPE_CHECKING:  # annotations only: jaxtyping's import costs half of `import mnistlab`
    from jaxtyping import Int, UInt8

# The notebook view shows the first few images as one inline PNG strip; beyond this size per image
# (far above MNIST's 28x28) the strip is left out rather than embedding megabytes in the notebook.
_STRIP_IMAGES = 8
_STRIP_MAX_PIXELS = 128 * 128


@dataclass(frozen=True)
class FileRecord:
    """One file a dataset was read from, and how it was verified."""

    path: str
    source: str  # the URL it came from, the local path it was imported from, or (bundled) its origin
    sha256: str  # of the file as stored
    content_sha256: str  # of the decompressed content
    verified_by: str  # "content-sha256", "gz-md5" or "size-and-header"

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Provenance:
    """Where a dataset came from and what was done to it since."""

    title: str  # human name, e.g. "MNIST sample (5,000 images)"; every output shows it
    origin: str  # "cache", "system", "download", "bundled", "memory"
    files: tuple[FileRecord, ...] = ()
    transforms: tuple[str, ...] = ()  # derived-ness: each transform applied, in order

    def derived(self, step: str) -> Provenance:
        return replace(self, transforms=(*self.transforms, step))

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "origin": self.origin,
            "files": [f.as_dict() for f in self.files],
            "transforms": list(self.transforms),
        }


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of an image-classification dataset.

    ``images`` are uint8 ``(N, H, W)``; ``labels`` int32 ``(N,)`` in ``[0, len(class_names))``.
    Both arrays are read-only: transforms return new datasets.
    """

    images: UInt8[np.ndarray, "n h w"]
    labels: Int[np.ndarray, " n"]
    class_names: tuple[str, ...]
    name: str
    split: str
    provenance: Provenance = field(default_factory=lambda: Provenance("in-memory data", "memory"))

    def __post_init__(self):
        images = np.asarray(self.images)
        labels = np.asarray(self.labels)
        where = f"dataset {self.name!r} ({self.split})"
        if images.dtype != np.uint8 or images.ndim != 3:
            raise DataError(
                f"{where}: images must be uint8 of shape (N, H, W); "
                f"got {images.dtype} of shape {images.shape}"
            )
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(
                f"{where}: labels must be integers of shape (N,); got {labels.dtype} of shape {labels.shape}"
            )
        if len(images) != len(labels):
            raise DataError(f"{where}: {len(images)} images but {len(labels)} labels; counts must match")
        k = len(self.class_names)
        if len(labels) and (labels.min() < 0 or labels.max() >= k):
            bad = labels[(labels < 0) | (labels >= k)]
            raise DataError(
                f"{where}: labels must lie in [0, {k - 1}] for {k} classes; "
                f"found {int(bad[0])} ({len(bad)} labels out of range)"
            )
        labels = labels.astype(np.int32, copy=False)
        # Views, so the caller's arrays stay writeable while ours are not.
        images = images.view()
        images.flags.writeable = False
        labels = labels.view()
        labels.flags.writeable = False
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", tuple(self.class_names))

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        # One line, whatever the size: a notebook cell or a log must never dump the arrays.
        h, w = self.image_shape
        return (
            f"Dataset({self.title!r}, name={self.name!r}, split={self.split!r}, n={len(self)}, "
            f"image_shape=({h}, {w}), classes={self.num_classes})"
        )

    def _repr_html_(self) -> str:
        """A small table for Jupyter, with the first few images as one inline PNG strip."""
        h, w = self.image_shape
        names = ", ".join(self.class_names[:10]) + (", …" if self.num_classes > 10 else "")
        counts = self.class_counts()
        lo, hi = (int(counts.min()), int(counts.max())) if len(counts) else (0, 0)
        per_class = f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"
        rows = [
            ("dataset", f"{self.title} ({self.name})"),
            ("split", self.split),
            ("images", f"{len(self):,} of {h}×{w}"),
            ("classes", f"{self.num_classes}: {names}"),
            ("per class", per_class),
            ("origin", self.provenance.origin),
            ("transforms", ", ".join(self.provenance.transforms) or "none"),
        ]
        return f"<div>{html_rows(rows, css_class='mnistlab-dataset')}{self._strip_html()}</div>"

    def _strip_html(self) -> str:
        k = min(_STRIP_IMAGES, len(self))
        h, w = self.image_shape
        if not k or h * w > _STRIP_MAX_PIXELS:
            return ""
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - pillow is a dependency; the table is enough
            return ""
        strip = np.concatenate(list(self.images[:k]), axis=1)
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(strip)).save(buf, format="PNG")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        labels = ", ".join(self.class_names[y] for y in self.labels[:k])
        return (
            f'<img src="data:image/png;base64,{data}" alt="first {k} images: {html.escape(labels)}" '
            f'title="first {k} images: {html.escape(labels)}" '
            f'style="height:{2 * h}px;image-rendering:pixelated">'
        )

    @property
    def title(self) -> str:
        return self.provenance.title

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:])

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.num_classes)

    def subset(self, indices, *, split: str | None = None, step: str | None = None) -> Dataset:
        """The examples at ``indices`` (in that order), as a new dataset."""
        indices = np.asarray(indices)
        prov = self.provenance.derived(step) if step else self.provenance
        return replace(
            self,
            images=self.images[indices],
            labels=self.labels[indices],
            split=split or self.split,
            provenance=prov,
        )
