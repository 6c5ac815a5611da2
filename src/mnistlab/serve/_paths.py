"""The served folders and the ONE function that turns a URL's path into a file inside them.

Every item the app shows is named by an id ``<root>/<path>``: the index of one of the folders given
to ``mnistlab serve`` and a relative path inside it. :meth:`Roots.resolve` is the only way from an
id to a file, so the rules live in one place: no absolute paths, no ``..`` (already decoded from
``%2e%2e`` by the time it gets here), and after following symlinks the file must still be inside
its root, so a link that points out of the tree is refused like any other escape.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .._errors import ConfigError


class NotFound(LookupError):
    """A path that is not (or may not be shown as) a file inside the served folders: a 404."""


class Roots:
    """The folders given to ``mnistlab serve``, each resolved once (symlinks followed) at start."""

    def __init__(self, dirs):
        dirs = [Path(d) for d in dirs]
        if not dirs:
            raise ConfigError("give at least one folder to serve (e.g. mnistlab serve runs)")
        for d in dirs:
            if not d.is_dir():
                what = "does not exist" if not d.exists() else "is not a folder"
                raise ConfigError(
                    f"DIR {str(d)!r} {what}; give folders holding run or study folders (e.g. runs)"
                )
        self.given = dirs
        self.real = [d.resolve() for d in dirs]

    def __len__(self) -> int:
        return len(self.real)

    def label(self, index: int) -> str:
        return str(self.given[index])

    def id_of(self, index: int, path: Path) -> str:
        """The id of ``path`` (a real path inside root ``index``)."""
        rel = path.relative_to(self.real[index]).as_posix()
        return f"{index}/{rel}" if rel != "." else f"{index}"

    def resolve(self, item_id: str) -> Path:
        """The real path named by ``<root>/<relative path>``, or :class:`NotFound`.

        Refused: an unknown root, an absolute or drive path, any ``..`` or empty segment, NUL and
        backslashes (a Windows separator), and anything whose real path (symlinks followed) is
        outside its root.
        """
        head, _, rest = item_id.partition("/")
        if not head.isdigit() or int(head) >= len(self.real):
            raise NotFound(f"no served folder number {head!r}")
        root = self.real[int(head)]
        if "\x00" in rest or "\\" in rest or rest.startswith("/"):
            raise NotFound("the path must be relative to a served folder")
        parts = PurePosixPath(rest).parts if rest else ()
        if any(p in ("..", ".", "") for p in rest.split("/")) and rest:
            raise NotFound("the path may not contain '..', '.' or empty segments")
        target = Path(os.path.realpath(root.joinpath(*parts)))
        if target != root and root not in target.parents:
            raise NotFound("the path leads outside the served folders")
        if not target.exists():
            raise NotFound("no such file or folder in the served folders")
        return target
