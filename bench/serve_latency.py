"""Prediction latency of `mnistlab serve`: one drawn digit per request, several clients at once.

    python bench/serve_latency.py [--run RUN] [--clients 4] [--requests 400] [--out FILE]   # JSON

Starts ``mnistlab serve`` in a subprocess on 127.0.0.1 and a free port (the only address this
script ever sends to), waits for it, sends a few warm-up requests (the first loads the run and
compiles its predictor), then ``--requests`` POST /api/predict requests from ``--clients``
threads, each on its own keep-alive connection, like browsers drawing at once. Each request is a
280x280 canvas-like PNG of an MNIST-sample test digit, as the draw page sends it. The loop is
bounded in count and in time (``--max-seconds``), then the server is stopped.

Without ``--run`` it first trains the default ``mnistlab train`` model (the CNN) for one epoch on
the bundled sample, into a temporary folder.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"


def _images(n: int) -> list[str]:
    import numpy as np
    from PIL import Image

    from mnistlab import data

    test = data.load("mnist-sample", "test")
    out = []
    for digit in test.images[:n]:
        canvas = Image.fromarray(np.kron(np.asarray(digit), np.ones((10, 10), np.uint8)))  # 280 x 280
        buffer = io.BytesIO()
        canvas.save(buffer, format="PNG")
        out.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return out


def _start(run: Path, env: dict) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "mnistlab", "serve", str(run.parent), "--port", "0", "--host", HOST]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()  # "serving http://127.0.0.1:PORT/  (Ctrl-C stops it)"
    if not line.startswith("serving "):
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, int(line.split()[1].rstrip("/").rsplit(":", 1)[1])


def _post(conn: http.client.HTTPConnection, body: bytes) -> dict:
    conn.request("POST", "/api/predict", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {payload}")
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", type=Path, help="a run folder (default: train the default CNN for one epoch)"
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400, help="timed requests, all clients together")
    parser.add_argument("--max-seconds", type=float, default=120, help="stop sending after this long")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **os.environ,
        "MNISTLAB_OFFLINE": "1",
        "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    with tempfile.TemporaryDirectory(prefix="serve-latency-") as tmp:
        run = args.run
        if run is None:
            run = Path(tmp) / "runs" / "cnn"
            train = [sys.executable, "-m", "mnistlab", "train", "--dataset", "mnist-sample", "--epochs", "1"]
            subprocess.run([*train, "--quiet", "--out", str(run)], check=True, env=env)
        sys.path.insert(0, str(src))
        images = _images(64)
        model = json.loads((run / "run.json").read_text())["model"].get("name")
        proc, port = _start(run.resolve(), env)
        try:
            run_id = f"0/{run.resolve().name}"
            bodies = [json.dumps({"run": run_id, "image": im}).encode() for im in images]
            warm = http.client.HTTPConnection(HOST, port, timeout=120)
            t0 = time.perf_counter()
            _post(warm, bodies[0])
            first_seconds = time.perf_counter() - t0
            for body in bodies[1:8]:
                _post(warm, body)
            warm.close()

            latencies: list[float] = []
            server_ms: list[float] = []
            lock = threading.Lock()
            deadline = time.monotonic() + args.max_seconds
            per_client = args.requests // args.clients

            def client(k: int) -> None:
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                for i in range(per_client):
                    if time.monotonic() > deadline:
                        break
                    t = time.perf_counter()
                    res = _post(conn, bodies[(k * per_client + i) % len(bodies)])
                    with lock:
                        latencies.append(1000 * (time.perf_counter() - t))
                        server_ms.append(res["server_ms"])
                conn.close()

            start = time.perf_counter()
            threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    q = statistics.quantiles(latencies, n=100, method="inclusive")
    result = {
        "what": "POST /api/predict, one 280x280 PNG digit per request, round trip on 127.0.0.1",
        "run": str(run),
        "model": model,
        "clients": args.clients,
        "requests": len(latencies),
        "first_request_seconds (load + compile)": round(first_seconds, 3),
        "latency_ms": {
            "median": round(statistics.median(latencies), 2),
            "p90": round(q[89], 2),
            "p99": round(q[98], 2),
            "max": round(max(latencies), 2),
            "mean": round(statistics.fmean(latencies), 2),
        },
        "server_ms_median (preprocess + model)": round(statistics.median(server_ms), 2),
        "requests_per_second": round(len(latencies) / wall, 1),
        "targets": {"median_ms": 30, "p99_ms": 100},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
