"""One process of tests/test_distributed.py: real ``mnistlab train`` runs (``RUNS``), one after the
other, in the same JAX distributed session (joining it costs more than a tiny run). Arguments: the
output folder, then (optionally) the ``--coordinator``, ``--num-processes`` and ``--process-id``
options."""

from __future__ import annotations

import sys

from mnistlab.cli import main

COMMON = [
    "train", "--dataset", "mnist-sample", "--model", "mlp", "--widths", "8", "--epochs", "1",
    "--batch-size", "500", "--devices", "all", "--quiet", "--json",
]  # fmt: skip
RUNS = {
    # Both axes: a member per process, its batches split over that process's two devices.
    "both": ["--seeds", "2", "--mesh", "2x2", "--dtype", "float64"],
}


if __name__ == "__main__":
    out, processes = sys.argv[1], sys.argv[2:]
    for name, args in RUNS.items():
        code = main([*COMMON, *args, "--out", f"{out}/{name}", *processes])
        if code:
            sys.exit(code)
