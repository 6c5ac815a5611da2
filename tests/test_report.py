"""`mnistlab report` and `mnistlab train --report`: one self-contained HTML page, checked as text
and as rendered by a real headless Chromium (skipped, saying why, where Chromium is missing)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)",
)

TINY = ["--dataset", "mnist-sample", "--epochs", "2", "--quiet"]


def _run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three small trained runs: two MLPs that differ only in lr (one with --report), one binary."""
    root = tmp_path_factory.mktemp("runs")
    a, b, binary = root / "mlp-a", root / "mlp-b", root / "binary"
    common = [*TINY, "--model", "mlp", "--widths", "64", "--optimizer", "sgd", "--val-fraction", "0.1"]
    assert main(["train", *common, "--lr", "0.1", "--eval-train", "--out", str(a), "--report"]) == 0
    assert main(["train", *common, "--lr", "0.01", "--out", str(b)]) == 0
    assert (
        main(
            [
                "train",
                *TINY,
                "--model",
                "binary-mlp",
                "--classes",
                "7,1",
                "--preprocess",
                "per-image",
                "--widths",
                "32",
                "--out",
                str(binary),
            ]
        )
        == 0
    )
    return {"a": a, "b": b, "binary": binary}


def _summary(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())["summary"]


def _text(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities left as they are."""
    visible = re.sub(r"<(script|style)>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", visible).split())


def _assert_self_contained(html: str) -> None:
    srcs = re.findall(r'\b(?:src|href)="([^"#][^"]*)"', html)
    assert srcs, "the page embeds no images"
    outside = [s[:40] for s in srcs if not s.startswith("data:image/png;base64,")]
    assert not outside
    assert "<link" not in html
    assert "@import" not in html
    assert "url(" not in html
    assert not re.search(r"https?://", html.split("<details>")[0].split("<code>")[0]), "no network reference"


def test_train_report_writes_a_self_contained_page_with_the_key_numbers(runs):
    page = runs["a"] / "report.html"
    html = page.read_text()
    _assert_self_contained(html)
    text = _text(html)
    s = _summary(runs["a"])
    info = json.loads((runs["a"] / "run.json").read_text())
    assert f"{100 * s['final_test_accuracy']:.2f}%" in text
    assert f"{100 * s['best_test_accuracy']:.2f}%" in text
    assert "2 of 2" in text  # epochs
    assert info["device"]["kind"] in text
    assert "MNIST sample (5,000 images)" in text
    sha = info["dataset"]["provenance"]["train"]["files"][0]["content_sha256"]
    assert sha in text
    # Key numbers come first: before the first figure.
    assert html.index(f"{100 * s['final_test_accuracy']:.2f}%") < html.index("<img")
    headings = ("Learning curves", "Evaluation on the test split", "Confusion matrix", "Examples", "Weights")
    for heading in headings:
        assert heading in text, heading
    # The evaluation table agrees with `mnistlab evaluate`.
    assert "expected calibration error" in text
    assert html.count("<img") >= 8


def test_the_command_scores_in_a_second_process_and_draws_the_same_figures(runs, tmp_path):
    """`mnistlab report` in a fresh process never loads JAX itself: the scoring runs in a child
    process while it draws. Its figures are byte for byte those of the in-process report (where
    JAX is loaded, the scoring runs in threads): the same programs on the same numbers."""
    import os
    import sys

    from mnistlab.report import write_report

    write_report([runs["binary"]], tmp_path / "here.html", figures_dir=tmp_path / "here", inits=8)
    code = (
        "import sys\n"
        "from mnistlab.cli import main\n"
        "if __name__ == '__main__':\n"
        f"    code = main(['report', {str(runs['binary'])!r}, '--out', {str(tmp_path / 'there.html')!r},"
        f" '--figures', {str(tmp_path / 'there')!r}, '--inits', '8', '-q'])\n"
        "    heavy = [m for m in ('jax', 'flax', 'optax') if m in sys.modules]\n"
        "    sys.exit(code or (f'the drawing process imported {heavy}' if heavy else 0))\n"
    )
    script = tmp_path / "report_here.py"
    script.write_text(code)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    here = {p.name: p.read_bytes() for p in (tmp_path / "here").glob("*.png")}
    there = {p.name: p.read_bytes() for p in (tmp_path / "there").glob("*.png")}
    assert {"curves.png", "weights.png", "confusion.png", "gradients.png", "inits.png", "roc.png"} <= set(
        here
    )
    assert here.keys() == there.keys()
    assert [k for k in here if here[k] != there[k]] == []


def test_report_compares_several_runs(runs, tmp_path, capsys):
    out = tmp_path / "compare.html"
    code, stdout, err = _run(["report", str(runs["a"]), str(runs["b"]), "--out", str(out)], capsys)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    html = out.read_text()
    _assert_self_contained(html)
    text = _text(html)
    assert "Comparison" in text
    # The runs are named by what differs between them: the learning rate.
    assert "lr 0.1" in text
    assert "lr 0.01" in text
    for run in (runs["a"], runs["b"]):
        assert f"{100 * _summary(run)['final_test_accuracy']:.2f}%" in text
    assert html.count("<figure>") > html.count("<figure>", html.index('id="run-1"'))  # overlaid curves
    assert 'id="run-1"' in html
    assert 'id="run-2"' in html


def test_binary_report_has_the_s8_rows_roc_and_init_histogram(runs, tmp_path, capsys):
    figs = tmp_path / "figs"
    code, _, err = _run(["report", str(runs["binary"]), "--figures", str(figs), "--inits", "20"], capsys)
    assert code == 0, err
    html = (runs["binary"] / "report.html").read_text()
    text = _text(html)
    assert "Clear and confusing examples" in html
    assert "ROC AUC" in text
    assert "20 random initialisations" in html or "20 freshly initialised" in text
    # --figures keeps every embedded figure as PNG and SVG.
    pngs = sorted(p.stem for p in figs.glob("*.png"))
    assert {"s8rows", "roc", "inits", "curves", "weights", "confusion"} <= set(pngs)
    assert pngs == sorted(p.stem for p in figs.glob("*.svg"))
    assert html.count("<img") == len(pngs)


def test_report_without_the_runs_data_still_reports_what_the_folder_holds(runs, tmp_path, capsys):
    copy = tmp_path / "moved"
    shutil.copytree(runs["b"], copy)
    (copy / "report.html").unlink(missing_ok=True)
    cfg = copy / "config.toml"
    cfg.write_text(cfg.read_text().replace('dataset = "mnist-sample"', 'dataset = "kmnist"'))
    code, _, err = _run(["report", str(copy)], capsys)
    assert code == 0, err
    text = _text((copy / "report.html").read_text())
    assert "left out" in text
    assert "kmnist train split" in text
    assert f"{100 * _summary(copy)['final_test_accuracy']:.2f}%" in text
    assert "Learning curves" in text


def test_report_reads_each_runs_files_once(runs, tmp_path, monkeypatch):
    """Config, run.json and the metrics are read once per run and report, however many parts of
    the page (labels, key numbers, evaluation, config block) use them."""
    import pathlib
    from collections import Counter

    from mnistlab.report import write_report

    reads: Counter = Counter()
    real = pathlib.Path.read_text

    def counting(self, *args, **kwargs):
        reads[pathlib.Path(self).resolve()] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", counting)
    out = write_report([runs["a"], runs["b"]], tmp_path / "r.html", inits=0)
    assert "Comparison" in out.read_text()
    for run in (runs["a"], runs["b"]):
        for name in ("config.toml", "run.json", "metrics.jsonl", "steps.csv"):
            assert reads[(run / name).resolve()] == 1, f"{run.name}/{name}"


def test_report_on_a_run_without_parameters_shows_what_its_files_hold(runs, tmp_path, capsys):
    copy = tmp_path / "stopped"
    shutil.copytree(runs["b"], copy)
    (copy / "report.html").unlink(missing_ok=True)
    for name in ("params.npz", "checkpoint.npz"):
        (copy / name).unlink(missing_ok=True)
    code, _, err = _run(["report", str(copy)], capsys)
    assert code == 0, err
    text = _text((copy / "report.html").read_text())
    assert "Evaluation, examples and weights are left out" in text
    assert "holds no parameters yet" in text
    assert "Learning curves" in text
    assert f"{100 * _summary(copy)['final_test_accuracy']:.2f}%" in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["report", "{tmp}/nope"], "does not exist"),
        (["report", "{tmp}"], "is not an mnistlab run"),
        (["report", "{a}", "--out", "{tmp}/r.txt"], "--out must name an .html file"),
        (["report", "{a}", "--out", "{tmp}/missing/r.html"], "does not exist; create it first"),
        (["report", "{a}", "--examples", "0"], "--examples must be >= 1"),
    ],
)
def test_report_user_errors(runs, tmp_path, capsys, args, fragment):
    args = [x.format(tmp=tmp_path, a=runs["a"]) for x in args]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _out, err = _run(args, capsys)
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _chromium(*args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@needs_chromium
@pytest.mark.slow
def test_report_renders_in_headless_chromium(runs, tmp_path, capsys):
    out = tmp_path / "compare.html"
    assert main(["report", str(runs["a"]), str(runs["binary"]), "--out", str(out), "--inits", "10"]) == 0
    capsys.readouterr()
    html = out.read_text()
    n_images = html.count("<img")
    url = out.resolve().as_uri()

    dom = _chromium("--virtual-time-budget=10000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    total = re.search(r'data-images-total="(\d+)"', dom.stdout)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom.stdout)
    assert total, "the page's load script did not run"
    assert loaded
    assert int(total.group(1)) == n_images >= 10
    assert int(loaded.group(1)) == n_images, f"only {loaded.group(1)} of {n_images} images loaded"
    assert not re.search(r'class="warn">\d+ of \d+ images failed', dom.stdout)
    rendered = _text(dom.stdout)
    for run in (runs["a"], runs["binary"]):
        assert f"{100 * _summary(run)['final_test_accuracy']:.2f}%" in rendered

    shot = tmp_path / "shot.png"
    res = _chromium(f"--screenshot={shot}", "--window-size=1280,2400", url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _png_size(shot) == (1280, 2400)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)[..., :3]
    # Not a blank page: text, cards and figures give many distinct colours and plenty of ink.
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
    assert (pixels.mean(axis=2) < 0.5).mean() > 0.005
