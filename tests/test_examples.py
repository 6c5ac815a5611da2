"""The examples run as a user would run them, and reach their accuracy gates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_reaches_90_percent(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "MNISTLAB_OFFLINE": "1"},
        timeout=300,
    )
    # The script exits 1 when its final test accuracy is below 90%.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "epoch 6: test accuracy" in proc.stdout
