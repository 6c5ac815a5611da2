"""One self-contained HTML page per run (or comparing several): key numbers, provenance, learning
curves, evaluation, example galleries and weights, with every image embedded.

>>> from mnistlab.report import write_report
>>> write_report(["runs/a", "runs/b"], "compare.html")
"""

from ._build import REPORT_NAME, write_report

# The page's building blocks, for other self-contained pages (the studies' reports).
from ._html import esc as html_escape
from ._html import image as html_image
from ._html import key_values as html_key_values
from ._html import page as html_page
from ._html import table as html_table

__all__ = [
    "REPORT_NAME",
    "html_escape",
    "html_image",
    "html_key_values",
    "html_page",
    "html_table",
    "write_report",
]
