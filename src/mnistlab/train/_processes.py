"""What a run does in processes other than 0: everything process 0 does, written nowhere that counts.

Why: with several processes every one of them runs the same compiled programs in the same order
(each drives its own devices), so every one runs :func:`~mnistlab.train.train` in full. Only
process 0 may write the run folder and print. Rather than guard each write, a follower gets a
private temporary folder (for a resumed run: a private copy of it) and a quiet console, and the
folder is removed when the run ends.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from ..parallel import is_primary
from ..runs import RunDir


@contextlib.contextmanager
def as_follower(out, resume_from: RunDir | None, quiet: bool):
    """``(out, resume_from, quiet)`` as given in process 0; elsewhere a throwaway folder, quiet."""
    if is_primary():
        yield out, resume_from, quiet
        return
    with tempfile.TemporaryDirectory(prefix="mnistlab-follower-") as tmp:
        if resume_from is not None:
            copy = Path(tmp) / "run"
            shutil.copytree(resume_from.path, copy)
            yield None, RunDir.open(copy), True
        else:
            yield Path(tmp) / "run", None, True
