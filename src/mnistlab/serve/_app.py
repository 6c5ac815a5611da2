"""The Starlette app of ``mnistlab serve``: routes, limits and how every refusal is answered.

Every refusal is a 4xx with ONE line saying what was wrong: JSON ``{"error": ...}`` under
``/api/``, a small HTML page elsewhere. A bug is a 500 without a traceback (the traceback goes to
the server's log, not to the browser). Slow work (loading a model, building a report) runs in
Starlette's thread pool, so one page being built never stalls the draw page's predictions.
"""

from __future__ import annotations

import base64
import binascii
import json
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from .._errors import MnistlabError
from . import _catalog, _pages, _reports
from ._paths import NotFound, Roots
from ._predict import MAX_BYTES, Models, Refused

# The JSON of a predict request: the image as base64 (4 bytes per 3) plus a little for the rest.
MAX_BODY = MAX_BYTES * 4 // 3 + 64 * 1024
MAX_COMPARED = 12
STATIC = {"app.css": "text/css", "runs.js": "text/javascript", "draw.js": "text/javascript"}
INVERT = {"auto": "auto", "yes": True, "no": False, True: True, False: False}
# Pages may use only what the app itself serves (and data: images): no CDN, no beacon.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'"
)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]


class _Headers:
    """ASGI middleware adding the security headers to every response (cheaper than Starlette's
    BaseHTTPMiddleware, which would sit on the draw page's latency)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(dirs, *, data_dir=None, allowed_hosts: list[str] | None = None):
    """The app serving the run and study folders under ``dirs``.

    ``allowed_hosts``: the Host headers accepted (the server's own names when it listens on
    127.0.0.1, so that a web page elsewhere cannot reach it through DNS rebinding); None: any.
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    roots = Roots(dirs)
    models = Models()
    reports = _reports.Reports(data_dir=data_dir)

    def refusal(request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return HTMLResponse(_pages.error_page(status, message), status_code=status)

    def run_folder(item: str) -> Path:
        path = roots.resolve(item)
        if not (path / "config.toml").is_file():
            raise NotFound(f"{item} is not a run folder (it has no config.toml)")
        return path

    def entries() -> list[_catalog.Entry]:
        return _catalog.scan(roots)

    def home(request):
        return HTMLResponse(_pages.runs_page(entries(), [roots.label(i) for i in range(len(roots))]))

    def api_runs(request):
        roots_json = [roots.label(i) for i in range(len(roots))]
        return JSONResponse({"roots": roots_json, "entries": [e.as_dict() for e in entries()]})

    def run_page(request):
        item = request.path_params["item"]
        path = run_folder(item)
        entry = _catalog.read_run(item, path, roots.label(int(item.split("/")[0])))
        bar = _pages.nav() + _run_bar(entry)
        if not (path / "run.json").is_file():
            body = f"<h1>Run {_pages.esc(entry.name)}</h1>{_run_bar(entry)}"
            return HTMLResponse(_pages.layout(entry.name, body))
        try:
            page = reports.report([path])
        except MnistlabError as exc:
            body = f"<h1>Run {_pages.esc(entry.name)}</h1>{_run_bar(entry)}"
            body += f'<p class="warn">{_pages.esc(exc)}</p>'
            return HTMLResponse(_pages.layout(entry.name, body))
        return HTMLResponse(_reports.with_nav(page, bar))

    def compared(request) -> dict[str, Path]:
        ids = request.query_params.getlist("run")
        if not 1 <= len(ids) <= MAX_COMPARED:
            raise Refused(422, f"pick 2 to {MAX_COMPARED} runs to compare (run=...); got {len(ids)}")
        named: dict[str, Path] = {}
        for item in ids:
            path = run_folder(item)
            label = path.name if path.name not in named else item
            named[label] = path
        return named

    def compare_page(request):
        named = compared(request)
        differ, figures, problems = _reports.comparison(named)
        query = "&".join(f"run={quote(i)}" for i in request.query_params.getlist("run"))
        links = ", ".join(
            f'<a href="{_pages.url("/run", roots.id_of(_root_of(p), p))}">{_pages.esc(n)}</a>'
            for n, p in named.items()
        )
        body = (
            f"<h1>Comparing {len(named)} runs</h1><p>{links}"
            + f' &middot; <a href="/compare/report?{query}">the full comparison report</a> '
            "(<code>mnistlab report</code> on these runs: evaluates each, takes a while)</p>"
            + _reports.comparison_html(list(named), differ, figures, problems)
        )
        return HTMLResponse(_pages.layout("mnistlab compare", body, active="Runs"))

    def _root_of(path: Path) -> int:
        return next(i for i, r in enumerate(roots.real) if r == path or r in path.parents)

    def compare_report(request):
        named = compared(request)
        try:
            page = reports.report(list(named.values()))
        except MnistlabError as exc:
            raise Refused(422, str(exc)) from None
        return HTMLResponse(_reports.with_nav(page, _pages.nav("Runs")))

    def study_page(request):
        item = request.path_params["item"]
        path = roots.resolve(item)
        if not any((path / f).is_file() for f in _catalog.STUDY_FILES):
            raise NotFound(f"{item} is not a study folder (no study.json or results.json)")
        all_entries = entries()
        entry = _catalog.find(all_entries, item) or _catalog.read_study(item, path, "")
        info = {}
        for name in _catalog.STUDY_FILES[::-1]:
            try:
                info = json.loads((path / name).read_text())
                break
            except (OSError, ValueError):
                continue
        files = sorted(
            f.name
            for f in path.iterdir()
            if f.is_file() and not f.is_symlink() and not f.name.startswith(".")
        )
        runs = [e for e in all_entries if e.study == item]
        return HTMLResponse(_pages.study_page(entry, info if isinstance(info, dict) else {}, files, runs))

    def draw(request):
        return HTMLResponse(_pages.draw_page(entries(), request.query_params.get("run")))

    async def api_predict(request):
        body = await _read_limited(request)
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Refused(400, f"the request body is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise Refused(400, 'expected a JSON object {"run": ..., "image": ...}')
        run, image, invert = data.get("run"), data.get("image"), data.get("invert", "auto")
        if not isinstance(run, str) or not run:
            raise Refused(422, '"run" must be the id of a run folder, e.g. "0/mlp" (see /api/runs)')
        if not isinstance(image, str) or not image:
            raise Refused(422, '"image" must be an image file as base64 or a data: URL')
        if not isinstance(invert, str | bool) or invert not in INVERT:
            raise Refused(422, f'"invert" must be "auto", "yes" or "no"; got {invert!r}')
        payload = _decode(image)
        path = run_folder(run)
        result = await run_in_threadpool(models.predict, path, payload, invert=INVERT[invert])
        return JSONResponse(result.as_dict(run))

    def files(request):
        path = roots.resolve(request.path_params["item"])
        if not path.is_file():
            raise NotFound("not a file")
        return FileResponse(path)

    def static(request):
        name = request.path_params["name"]
        if name not in STATIC:
            raise NotFound(f"no static file {name!r}")
        text = (resources.files(__package__) / "static" / name).read_bytes()
        return Response(text, media_type=STATIC[name])

    async def on_refused(request, exc: Refused):
        return refusal(request, exc.status, str(exc))

    async def on_not_found(request, exc: NotFound):
        return refusal(request, 404, str(exc))

    async def on_user_error(request, exc: MnistlabError):
        return refusal(request, 422, str(exc))

    async def on_http(request, exc: HTTPException):
        return refusal(request, exc.status_code, str(exc.detail))

    async def on_bug(request, exc: Exception):
        return refusal(request, 500, f"internal error ({type(exc).__name__}); see the server's log")

    middleware = [Middleware(_Headers)]
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/api/runs", api_runs),
            Route("/api/predict", api_predict, methods=["POST"]),
            Route("/run/{item:path}", run_page),
            Route("/study/{item:path}", study_page),
            Route("/compare", compare_page),
            Route("/compare/report", compare_report),
            Route("/draw", draw),
            Route("/files/{item:path}", files),
            Route("/static/{name}", static),
        ],
        middleware=middleware,
        exception_handlers={
            Refused: on_refused,
            NotFound: on_not_found,
            MnistlabError: on_user_error,
            HTTPException: on_http,
            Exception: on_bug,
        },
    )
    app.state.models, app.state.roots = models, roots
    return app


def _run_bar(entry: _catalog.Entry) -> str:
    esc = _pages.esc
    parts = [f'<div class="note" id="run-status">Run <strong>{esc(entry.name)}</strong>: {esc(entry.status)}']
    if entry.epochs:
        parts.append(f", epoch {esc(entry.epochs)}")
    if entry.status == _catalog.IN_PROGRESS:
        parts.append(" (still being written: reload for the latest)")
    elif entry.message:
        parts.append(f" ({esc(entry.message)})")
    if entry.predictable:
        parts.append(f' &middot; <a href="/draw?run={quote(entry.id)}">draw a digit for it</a>')
    return "".join(parts) + "</div>"


async def _read_limited(request) -> bytes:
    """The body, refused (413) past :data:`MAX_BODY` before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise Refused(413, f"the request is {int(declared):,} bytes; the limit is {MAX_BODY:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, f"the request is over the limit of {MAX_BODY:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(image: str) -> bytes:
    """The bytes of a ``data:image/...;base64,...`` URL or of plain base64."""
    if image.startswith("data:"):
        head, sep, image = image.partition(",")
        if not sep or not head.endswith(";base64"):
            raise Refused(422, '"image" must be a base64 data: URL (data:image/png;base64,...)')
    if len(image) > MAX_BODY:
        raise Refused(413, f"the image is over the limit of {MAX_BYTES:,} bytes")
    try:
        return base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(422, '"image" is not valid base64') from None
