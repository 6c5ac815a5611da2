"""`mnistlab serve` over plain HTTP: the pages and the JSON API, and every way of asking for what
it must refuse (paths out of the served folders, oversized and malformed uploads, foreign Host
headers). One tiny run is trained once; the server runs in a thread of this process on a free
port of 127.0.0.1, and requests are sent with http.client so that paths go out exactly as written
(an HTTP library would tidy ``..`` away before the server ever saw it)."""

from __future__ import annotations

import base64
import http.client
import io
import json
import shutil
import socket
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import data
from mnistlab.serve import MAX_BODY, Background, Refused, check_image

pytestmark = pytest.mark.usefixtures("cheap_compiles")


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _bomb(side: int) -> bytes:
    """A real PNG of ``side`` x ``side`` black pixels: tens of kilobytes that decode to side**2 bytes."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + one grayscale byte per pixel
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def served(tmp_path_factory, cheap_compiles):
    """root/runs: a trained run, a copy with another lr, a run starting (config.toml only), a run
    running (run.json says so, no parameters yet), one interrupted before saving parameters, a
    study holding a run, and symlinks out of the tree; root/../outside/secret.txt is what no
    request may read."""
    from mnistlab.cli import main

    base = tmp_path_factory.mktemp("serve")
    root, outside = base / "root", base / "outside"
    runs = root / "runs"
    runs.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET")
    mlp = runs / "mlp"
    args = ["--dataset", "mnist-sample", "--model", "mlp", "--widths", "16", "--epochs", "1", "--quiet"]
    assert main(["train", *args, "--out", str(mlp)]) == 0
    other = runs / "mlp-lr"
    shutil.copytree(mlp, other)
    config = (other / "config.toml").read_text()
    (other / "config.toml").write_text(config.replace("lr = ", "lr = 0.5 #", 1))
    (runs / "starting").mkdir()
    shutil.copy(mlp / "config.toml", runs / "starting" / "config.toml")
    (runs / "running").mkdir()
    shutil.copy(mlp / "config.toml", runs / "running" / "config.toml")
    info = json.loads((mlp / "run.json").read_text())
    info.update(status="running")
    info.pop("summary", None)
    (runs / "running" / "run.json").write_text(json.dumps(info))
    # Stopped before its parameters were saved: its page shows the curves and says why not more.
    stopped = runs / "interrupted"
    shutil.copytree(mlp, stopped, ignore=shutil.ignore_patterns("*.npz"))
    info = json.loads((mlp / "run.json").read_text())
    info.update(status="interrupted", message="interrupted by the user")
    (stopped / "run.json").write_text(json.dumps(info))
    study = runs / "study-lr"
    (study / "a").mkdir(parents=True)
    shutil.copy(mlp / "config.toml", study / "a" / "config.toml")
    (study / "results.json").write_text(json.dumps({"study": "lr", "title": "Two rates", "rows": []}))
    (study / "curves.png").write_bytes(_png(np.zeros((8, 8))))
    # The same network under Fashion-MNIST's class names (what a Fashion-MNIST run's run.json says).
    fashion = runs / "fashion"
    shutil.copytree(mlp, fashion)
    info = json.loads((mlp / "run.json").read_text())
    info["dataset"]["class_names"] = list(data.load("mnist-sample", "test").class_names)
    info["dataset"]["class_names"][0] = "T-shirt/top"
    (fashion / "run.json").write_text(json.dumps(info))
    (runs / "escape").symlink_to(outside, target_is_directory=True)
    (runs / "leak.txt").symlink_to(outside / "secret.txt")
    with Background([root]) as server:
        port = int(server.url.rstrip("/").rsplit(":", 1)[1])
        yield {"server": server, "root": root, "mlp": mlp, "port": port}


def _request(served, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", served["port"], timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"127.0.0.1:{served['port']}", **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Length", str(len(body)))
        for k, v in sent.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _predict(served, payload: dict | bytes):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, _, raw = _request(served, "POST", "/api/predict", body, {"Content-Type": "application/json"})
    return status, json.loads(raw)


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_the_runs_page_lists_runs_and_studies_and_shows_runs_being_written_as_in_progress(served):
    status, headers, page = _request(served, "GET", "/")
    assert status == 200
    assert "default-src 'self'" in headers["content-security-policy"]
    html = page.decode()
    for name in ("mlp", "mlp-lr", "starting", "running", "study-lr"):
        assert f">{name}</a>" in html
    status, _, raw = _request(served, "GET", "/api/runs")
    entries = {e["id"]: e for e in json.loads(raw)["entries"]}
    assert entries["0/runs/mlp"]["status"] == "completed"
    assert entries["0/runs/mlp"]["predictable"]
    assert entries["0/runs/starting"]["status"] == "in progress"
    assert entries["0/runs/running"]["status"] == "in progress"
    assert not entries["0/runs/running"]["predictable"]
    assert (entries["0/runs/interrupted"]["status"], entries["0/runs/interrupted"]["predictable"]) == (
        "interrupted",
        False,
    )
    assert entries["0/runs/study-lr"]["kind"] == "study"
    assert entries["0/runs/study-lr/a"]["study"] == "0/runs/study-lr"
    assert not any("escape" in i for i in entries)  # a symlink out of the tree is not walked


@pytest.mark.parametrize("run", ["starting", "running"])
def test_a_run_page_of_a_run_being_written_says_in_progress_rather_than_failing(served, run):
    status, _, page = _request(served, "GET", f"/run/0/runs/{run}")
    assert status == 200
    assert "in progress" in page.decode()


def test_a_prediction_is_what_mnistlab_predict_says_for_the_same_image_file(served, tmp_path, capsys):
    digit = data.load("mnist-sample", "test").images[0]
    png = _png(255 - np.kron(digit, np.ones((3, 3), np.uint8)))  # dark ink on white, 84 x 84
    status, res = _predict(served, {"run": "0/runs/mlp", "image": _data_url(png)})
    assert status == 200, res
    (tmp_path / "digit.png").write_bytes(png)
    code, out, _ = run_cli(capsys, "predict", served["mlp"], tmp_path / "digit.png", "--json")
    assert code == 0
    cli = json.loads(out)[0]
    assert res["prediction"] == cli["prediction"]
    assert res["inverted"] is cli["inverted"] is True
    # The same preprocessing and compiled program on the same file, in float32: equal up to XLA
    # possibly splitting the work differently, far below the page's 0.1% display.
    np.testing.assert_allclose(res["probabilities"], list(cli["probabilities"].values()), atol=1e-6)
    assert np.asarray(res["input"]).shape == (28, 28)


def test_the_class_names_shown_are_the_runs_own(served):
    png = _png(np.pad(np.full((12, 4), 255), 8))
    status, res = _predict(served, {"run": "0/runs/fashion", "image": _data_url(png)})
    assert status == 200
    assert res["class_names"][0] == "T-shirt/top"
    assert len(res["class_names"]) == len(res["probabilities"]) == 10


def test_each_run_is_loaded_and_compiled_once_however_often_it_predicts(served):
    png = _png(np.pad(np.full((12, 4), 255), 8))
    models = served["server"].app.state.models
    assert _predict(served, {"run": "0/runs/mlp", "image": _data_url(png)})[0] == 200
    loads = models.loads
    for _ in range(3):
        status, _ = _predict(served, {"run": "0/runs/mlp", "image": base64.b64encode(png).decode()})
        assert status == 200
    assert models.loads == loads


def test_requests_arriving_together_for_a_new_run_load_it_once(served):
    from concurrent.futures import ThreadPoolExecutor

    png = _png(np.pad(np.full((12, 4), 255), 8))
    models = served["server"].app.state.models
    before = models.loads
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: _predict(served, {"run": "0/runs/mlp-lr", "image": _data_url(png)}), range(4))
        )
    assert [status for status, _ in answers] == [200] * 4
    assert models.loads == before + 1
    assert len({tuple(res["probabilities"]) for _, res in answers}) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/files/0/../outside/secret.txt",
        "/files/0/runs/../../outside/secret.txt",
        "/files/0/%2e%2e/outside/secret.txt",
        "/files/0/runs/%2E%2E/%2e%2e/outside/secret.txt",
        "/files/0/..%2f..%2foutside%2fsecret.txt",
        "/files/0/runs/escape/secret.txt",
        "/files/0/runs/leak.txt",
        "/files//etc/passwd",
        "/files/0//etc/passwd",
        "/files/0/%2fetc%2fpasswd",
        "/files/1/secret.txt",
        "/files/-1/secret.txt",
        "/run/0/runs/escape",
        "/study/0/../outside",
    ],
)
def test_no_request_reads_a_file_outside_the_served_folders(served, path):
    status, _, body = _request(served, "GET", path)
    assert status in (400, 404), (status, body[:200])
    assert b"SECRET" not in body
    assert b"root:" not in body


def test_a_file_inside_the_served_folders_is_served(served):
    status, headers, body = _request(served, "GET", "/files/0/runs/mlp/config.toml")
    assert status == 200
    assert body == (served["mlp"] / "config.toml").read_bytes()
    status, headers, _ = _request(served, "GET", "/files/0/runs/study-lr/curves.png")
    assert (status, headers["content-type"]) == (200, "image/png")


def _assert_refused(status: int, res: dict, expected: int, *fragments: str) -> None:
    assert status == expected, res
    message = res["error"]
    assert "\n" not in message
    assert "Traceback" not in message
    for f in fragments:
        assert f in message, message


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        ({"image": "aGk="}, 422, '"run"'),
        ({"run": "0/runs/mlp"}, 422, '"image"'),
        ({"run": "0/runs/mlp", "image": "%%% not base64"}, 422, "base64"),
        ({"run": "0/runs/mlp", "image": "data:image/png,abc"}, 422, "data: URL"),
        ({"run": "0/runs/mlp", "image": base64.b64encode(b"hello").decode()}, 422, "not a readable image"),
        ({"run": "0/runs/mlp", "image": "aGk=", "invert": "maybe"}, 422, '"invert"'),
        ({"run": "0/../outside", "image": "aGk="}, 404, ".."),
        ({"run": "0/runs/study-lr", "image": "aGk="}, 404, "not a run folder"),
    ],
)
def test_malformed_requests_get_a_4xx_with_one_clear_line(served, body, status, fragment):
    _assert_refused(*_predict(served, body), status, fragment)


def test_a_truncated_image_and_a_run_without_parameters_are_4xx_not_500(served):
    png = _png(np.pad(np.full((12, 4), 255), 8))
    status, res = _predict(served, {"run": "0/runs/mlp", "image": _data_url(png[: len(png) // 2])})
    _assert_refused(status, res, 422, "the image")
    assert "mnistlab-serve-" not in res["error"]  # the temporary file is not named
    status, res = _predict(served, {"run": "0/runs/running", "image": _data_url(png)})
    _assert_refused(status, res, 422, "no parameters")


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(served):
    bomb = _bomb(8000)  # 64 million pixels in some 60 KB
    assert len(bomb) < 200_000
    status, res = _predict(served, {"run": "0/runs/mlp", "image": _data_url(bomb)})
    _assert_refused(status, res, 413, "8000 x 8000", "pixels")


def test_uploads_over_the_byte_limit_are_refused(served):
    with pytest.raises(Refused) as info:
        check_image(_png(np.zeros((28, 28))), max_bytes=10)
    assert info.value.status == 413
    # Declared too large: refused before the body is read.
    status, _, raw = _request(served, "POST", "/api/predict", b"{}", {"Content-Length": str(MAX_BODY + 1)})
    _assert_refused(status, json.loads(raw), 413, "limit")
    # Sent too large without saying so (chunked): refused while reading.
    conn = http.client.HTTPConnection("127.0.0.1", served["port"], timeout=60)
    conn.request("POST", "/api/predict", body=iter([b"x" * 65536] * (MAX_BODY // 65536 + 2)),
                 encode_chunked=True)  # fmt: skip
    response = conn.getresponse()
    assert response.status == 413
    conn.close()


def test_a_foreign_host_header_is_refused(served):
    # A web page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) gets nothing.
    status, _, body = _request(served, "GET", "/api/runs", headers={"Host": "attacker.example"})
    assert status == 400
    assert b"mlp" not in body


def test_compare_shows_the_config_differences_and_the_overlaid_curves(served):
    status, _, page = _request(served, "GET", "/compare?run=0/runs/mlp&run=0/runs/mlp-lr")
    assert status == 200
    html = page.decode()
    table = html[html.index('id="differences"') :]
    assert "<th>lr</th>" in table
    assert "<td>0.5</td>" in table
    assert html.count('src="data:image/png;base64,') >= 2


def test_a_study_page_shows_its_figures_and_its_runs(served):
    status, _, page = _request(served, "GET", "/study/0/runs/study-lr")
    assert status == 200
    html = page.decode()
    assert "Two rates" in html
    assert 'src="/files/0/runs/study-lr/curves.png"' in html
    assert 'href="/run/0/runs/study-lr/a"' in html


def test_the_draw_page_and_its_assets_come_from_the_app(served):
    status, _, page = _request(served, "GET", "/draw?run=0/runs/mlp")
    html = page.decode()
    assert status == 200
    assert '<option value="0/runs/mlp" selected>' in html
    assert "http" not in html.replace('content="width', "")  # nothing from elsewhere
    for name in ("draw.js", "runs.js", "app.css"):
        assert _request(served, "GET", f"/static/{name}")[0] == 200
    assert _request(served, "GET", "/static/../_app.py")[0] == 404


def test_serve_refuses_a_missing_folder_and_a_busy_port_in_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "serve", tmp_path / "nope")
    assert_user_error(code, err, "does not exist")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_cli(capsys, "serve", tmp_path, "--port", port)
        assert_user_error(code, err, "--port", str(port))
    code, _, err = run_cli(capsys, "serve", tmp_path, "--port", 70000)
    assert_user_error(code, err, "--port")


def test_serve_on_another_host_says_so_and_ctrl_c_stops_it_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    cmd = [sys.executable, "-m", "mnistlab", "serve", str(tmp_path), "--host", "0.0.0.0", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving http://0.0.0.0:"), line
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "--host 0.0.0.0: anyone who can reach this machine" in err
    assert "Traceback" not in err


def test_serve_without_a_folder_says_which_it_looked_for(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "serve")
    assert_user_error(code, err, "runs/", "studies/")


# --- in a real browser ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _strokes(digit: np.ndarray, scale: int) -> list[tuple[float, float, float]]:
    """Horizontal pen strokes over the ink of a 28x28 digit: (y, x from, x to) in canvas pixels,
    one per run of dark-enough pixels in each row (the pen is wider than a row, so they merge)."""
    out = []
    for r, row in enumerate(np.asarray(digit) > 127):
        c = 0
        while c < len(row):
            if row[c]:
                end = c
                while end + 1 < len(row) and row[end + 1]:
                    end += 1
                out.append(((r + 0.5) * scale, (c + 0.5) * scale, (end + 0.5) * scale))
                c = end
            c += 1
    return out


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")
def test_in_a_browser_a_traced_digit_gets_the_probabilities_of_mnistlab_predict(served, tmp_path, capsys):
    """Draw an MNIST test digit with mouse strokes; the bars show what `mnistlab predict` says for
    the drawn image; the runs page and a run page load every image. Screenshots: tmp_path/*.png."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    test = data.load("mnist-sample", "test")
    digit = test.images[int(np.flatnonzero(test.labels == 7)[0])]
    base = served["server"].url
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "draw?run=0/runs/mlp")
            box = page.locator("#pad").bounding_box()
            scale = box["width"] / 28  # the canvas is 280 px: 10 px per MNIST pixel
            for y, x0, x1 in _strokes(digit, scale):
                page.mouse.move(box["x"] + x0, box["y"] + y)
                page.mouse.down()
                page.mouse.move(box["x"] + x1, box["y"] + y, steps=3)
                page.mouse.up()
            page.wait_for_selector("body[data-state=idle]", timeout=30_000)  # (CSP: no eval)
            page.screenshot(path=tmp_path / "draw.png")
            bars = page.eval_on_selector_all(
                ".barrow", "rows => rows.map(r => [r.dataset.class, Number(r.dataset.p)])"
            )
            top = page.inner_text("#top")
            seen = page.evaluate(
                "Array.from(document.getElementById('seen').getContext('2d')"
                ".getImageData(0, 0, 28, 28).data.filter((v, i) => i % 4 === 0))"
            )
            # The drawing as the page sent it (idle: the canvas has not changed since).
            drawn = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
            (tmp_path / "drawn.png").write_bytes(base64.b64decode(drawn.split(",", 1)[1]))

            page.goto(base)
            page.screenshot(path=tmp_path / "runs.png", full_page=True)
            assert page.locator("#runs tbody tr").count() >= 5
            page.click("#runs th:has-text('name')")  # sorting works without an error
            # A run page is mnistlab report's page (test_report.py checks a full one; drawing its
            # dozen figures takes 15 s here): this run has only its curves, as it stopped early.
            page.goto(base + "run/0/runs/interrupted", timeout=120_000)
            page.wait_for_load_state("load")
            images = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
            page.screenshot(path=tmp_path / "run.png", full_page=True)
            assert errors == []
        finally:
            browser.close()

    code, out, _ = run_cli(capsys, "predict", served["mlp"], tmp_path / "drawn.png", "--json")
    assert code == 0
    cli = json.loads(out)[0]
    assert top == cli["prediction"]
    assert [name for name, _ in bars] == list(cli["probabilities"])
    # One float32 program on one input; 1e-6 leaves room for XLA splitting work differently.
    np.testing.assert_allclose([p for _, p in bars], list(cli["probabilities"].values()), atol=1e-6)
    # What the page shows as the model's view is the image predict makes, to the rounding to 8 bits.
    from mnistlab._images import load_image

    expected, _ = load_image(tmp_path / "drawn.png")
    np.testing.assert_allclose(np.reshape(seen, (28, 28)), expected * 255, atol=1.0)
    assert images, "the run page shows no image"
    assert all(images), images
