"""One self-contained HTML page per run (or comparing several): key numbers, provenance, learning
curves, evaluation, example galleries and weights, with every image embedded.

>>> from mnistlab.report import write_report
>>> write_report(["runs/a", "runs/b"], "compare.html")
"""

from ._build import REPORT_NAME, write_report

__all__ = ["REPORT_NAME", "write_report"]
