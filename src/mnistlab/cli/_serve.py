"""``mnistlab serve``: the local web app over run and study folders (:mod:`mnistlab.serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._errors import ConfigError
from ._app import DataDir, app, user_errors

DEFAULT_DIRS = ("runs", "studies")


@app.command("serve")
@user_errors
def serve_cmd(
    dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Folders holding run and study folders (default: runs and studies, those that exist).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; any but 127.0.0.1 is reachable from outside."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: a free one).")] = 8000,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in the web browser.")] = False,
    data_dir: DataDir = None,
):
    """A local web app: browse, sort and compare runs and studies, read each run's report, and draw
    a digit to watch a model answer. Serves only files inside the given folders."""
    if not dirs:
        dirs = [Path(d) for d in DEFAULT_DIRS if Path(d).is_dir()]
        if not dirs:
            raise ConfigError(
                "no DIR given and neither runs/ nor studies/ exists here; give the folder holding your "
                "runs (e.g. mnistlab serve runs) or train one first (mnistlab train)"
            )
    try:
        from ..serve import serve
    except ImportError as exc:  # pragma: no cover - starlette and uvicorn are dependencies
        hint = "pip install mnistlab again to bring them"
        raise ConfigError(f"mnistlab serve needs starlette and uvicorn ({exc}); {hint}") from None
    serve(dirs, host=host, port=port, open_browser=open_browser, data_dir=data_dir)
