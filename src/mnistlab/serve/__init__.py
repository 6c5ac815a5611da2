"""``mnistlab serve``: a local web app over run and study folders: browse and compare runs, read
each run's report, draw a digit and watch a model answer.

>>> from mnistlab import serve
>>> serve.serve(["runs"])                       # http://127.0.0.1:8000/ until Ctrl-C
>>> app = serve.create_app(["runs"])            # the Starlette app, for any ASGI server
>>> with serve.Background(["runs"]) as s:       # in a thread, on a free port
...     print(s.url)

Starlette and uvicorn are the stack: small, well kept, and enough for a handful of pages, a JSON
API and files. Everything the pages use (scripts, styles, figures) comes from the app itself.
"""

from ._app import MAX_BODY, create_app
from ._catalog import Entry, scan
from ._paths import NotFound, Roots
from ._predict import MAX_BYTES, MAX_PIXELS, Models, Refused, check_image, preprocess
from ._server import Background, bind, serve

__all__ = [
    "MAX_BODY",
    "MAX_BYTES",
    "MAX_PIXELS",
    "Background",
    "Entry",
    "Models",
    "NotFound",
    "Refused",
    "Roots",
    "bind",
    "check_image",
    "create_app",
    "preprocess",
    "scan",
    "serve",
]
