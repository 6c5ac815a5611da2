"""Training speed of the real engine against PyTorch and a per-step jit loop, in one run.

Run from the repository root (full Fashion-MNIST from ../shared/data)::

    .venv/bin/python bench/train_speed.py                       # both models, 3 epochs each
    .venv/bin/python bench/train_speed.py --models mlp --epochs 3
    .venv/bin/python bench/train_speed.py --ref-steps 100       # time references on 100 steps

Models: the S4 tanh MLP ([784, 1024, 128, 10], SGD 0.1, batch 128) and the S7 LeNet-style CNN
(SGD 0.06, batch 128). For each: our engine through ``mnistlab.train.train`` (compile seconds,
median epoch seconds, test accuracy, exact matmul GFLOP/s and its fraction of a jitted
2048 x 2048 float32 matmul measured in the same run, peak RSS of that process), PyTorch on the
CPU (tight loop over in-memory tensors) and a plain per-step ``jax.jit`` loop over NumPy
batches with XLA's own convolutions. Each part runs in its own subprocess, one after another, so
the RSS figures are separate; the machines are shared, so read the ratios, not the seconds.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

N_TRAIN, BATCH = 60000, 128
STEPS = -(-N_TRAIN // BATCH)  # 469: the last partial batch is kept, as the engine does

MODELS = {
    "mlp": {
        "config": dict(
            model="mlp",
            widths=(1024, 128),
            activation="tanh",
            init="normal",
            init_scale=0.1,
            optimizer="sgd",
            lr=0.1,
        ),
        # matmul FLOPs per example: forward 2*sum(m*n); backward the same for dW, and again for
        # dX except at the first layer (no gradient w.r.t. the input is needed).
        "dims": [(784, 1024), (1024, 128), (128, 10)],
    },
    "cnn": {
        "config": dict(model="cnn-s7", optimizer="sgd", lr=0.06),
        # conv as matmul: (output pixels x out channels x kernel volume); dense as above.
        "convs": [(24 * 24, 12, 5 * 5 * 1), (19 * 19, 16, 5 * 5 * 12)],
        "dims": [(5184, 120), (120, 84), (84, 10)],
    },
}


def flops_per_example(spec: dict) -> float:
    layers = [(p * o * k) for p, o, k in spec.get("convs", [])] + [m * n for m, n in spec["dims"]]
    forward = 2 * sum(layers)
    return 3 * forward - 2 * layers[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- parts, each run in a subprocess ----------------------------------------------------------------


def part_matmul(_args) -> dict:
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.PRNGKey(0), (2048, 2048), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    times = []
    for _ in range(20):
        t = time.perf_counter()
        f(a).block_until_ready()
        times.append(time.perf_counter() - t)
    return {"gflops": 2 * 2048**3 / statistics.median(times) / 1e9}


def part_engine(args) -> dict:
    import tempfile

    from mnistlab import train as T

    spec = MODELS[args.model]
    cfg = T.TrainConfig(dataset="fashion-mnist", epochs=args.epochs, batch_size=BATCH, **spec["config"])
    with tempfile.TemporaryDirectory() as tmp:
        result = T.train(cfg, data_dir=args.data_dir, out=Path(tmp) / "run", quiet=True)
    epochs = [r["epoch_seconds"] for r in result.history.epochs]
    median = statistics.median(epochs)
    flops = flops_per_example(spec) * N_TRAIN
    return {
        "compile_seconds": result.summary["compile_seconds"],
        "epoch_seconds": epochs,
        "median_epoch_seconds": median,
        "test_accuracy_per_epoch": [r["test_accuracy"][0] for r in result.history.epochs],
        "gflops_per_second": flops / median / 1e9,
        "peak_rss_mb": peak_rss_mb(),
        "status": result.status,
    }


def torch_timer(args, images, labels):
    """A function timing one PyTorch epoch (scaled from ``--ref-steps``)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if args.model == "mlp":
        net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 1024), nn.Tanh(), nn.Linear(1024, 128), nn.Tanh(), nn.Linear(128, 10)
        )
        lr = 0.1
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 12, 5),
            nn.ReLU(),
            nn.MaxPool2d(2, 1),
            nn.Conv2d(12, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2, 1),
            nn.Flatten(),
            nn.Linear(5184, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )
        lr = 0.06
    x = torch.from_numpy(images.astype("float32") / 255).unsqueeze(1)
    y = torch.from_numpy(labels.astype("int64"))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    steps = min(args.ref_steps or STEPS, STEPS)

    def epoch() -> float:
        perm = torch.randperm(N_TRAIN)
        t = time.perf_counter()
        for s in range(steps):
            idx = perm[s * BATCH : (s + 1) * BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
        return (time.perf_counter() - t) * STEPS / steps

    return epoch


def stepjit_timer(args, images, labels):
    """A plain per-step ``jax.jit`` loop over NumPy batches, with XLA's own convolutions."""
    import jax
    import numpy as np
    import optax

    from mnistlab.models import _conv, _modules, build_model

    # The reference uses XLA's own convolution and pooling (lax.conv_general_dilated, reduce_window):
    # the Flax modules (models/_modules.py) call these names, so patch them there.
    _modules.conv2d = lambda x, w, **kw: _conv.conv2d(x, w, **{**kw, "impl": "xla"})
    _modules.max_pool = lambda x, **kw: _conv.max_pool(x, **{**kw, "impl": "xla"})
    spec = MODELS[args.model]["config"]
    model = build_model(
        spec["model"],
        widths=spec.get("widths"),
        activation=spec.get("activation"),
        init=spec.get("init", "default"),
        init_scale=spec.get("init_scale"),
    )
    shape = (1, 784) if model.input_layout == "flat" else (1, 28, 28, 1)
    params = model.init(jax.random.PRNGKey(0), shape)
    lr = spec["lr"]

    @jax.jit
    def step(params, x, y):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x), y).mean()

        g = jax.grad(loss)(params)
        return jax.tree.map(lambda p, g: p - lr * g, params, g)

    def batch(idx):
        x = images[idx].astype(np.float32) / 255
        return (x.reshape(len(idx), -1) if model.input_layout == "flat" else x[..., None]), labels[idx]

    rng = np.random.default_rng(0)
    params = step(params, *batch(np.arange(BATCH)))  # compile
    jax.block_until_ready(params)
    steps = min(args.ref_steps or STEPS, STEPS)
    state = {"params": params}

    def epoch() -> float:
        perm = rng.permutation(N_TRAIN)
        p = state["params"]
        t = time.perf_counter()
        for s in range(steps):
            p = step(p, *batch(perm[s * BATCH : (s + 1) * BATCH]))
        jax.block_until_ready(p)
        state["params"] = p
        return (time.perf_counter() - t) * STEPS / steps

    return epoch


def part_compare(args) -> dict:
    """Engine epochs interleaved with the references' epochs in one process: fair ratios."""
    import jax

    from mnistlab import train as T

    spec = MODELS[args.model]
    cfg = T.resolve(T.TrainConfig(dataset="fashion-mnist", batch_size=BATCH, **spec["config"]))
    data = T.prepare_data(cfg, data_dir=args.data_dir, progress=False)
    model = T.build_model_for(cfg, 10, (28, 28))
    engine = T.Engine(model, cfg, n_train=len(data.train), image_shape=(28, 28), num_classes=10)
    images, labels = jax.device_put(data.train.images), jax.device_put(data.train.labels)
    state = {"s": engine.init()}
    engine.compile_epoch(state["s"], images, labels)

    def engine_epoch() -> float:
        t = time.perf_counter()
        s, totals, _, _ = engine.run_epoch(state["s"], 0, images, labels)
        jax.block_until_ready(totals)
        state["s"] = s
        return time.perf_counter() - t

    timers = {"engine": engine_epoch}
    skip = set(filter(None, args.skip.split(",")))
    if "torch" not in skip:
        timers["torch"] = torch_timer(args, data.train.images, data.train.labels)
    if "stepjit" not in skip:
        timers["stepjit"] = stepjit_timer(args, data.train.images, data.train.labels)
    times: dict[str, list[float]] = {k: [] for k in timers}
    for _ in range(args.ref_repeats):
        for name, fn in timers.items():
            times[name].append(fn())
    out = {k: {"epoch_seconds": v, "median_epoch_seconds": statistics.median(v)} for k, v in times.items()}
    out["reference_steps_timed_per_epoch"] = min(args.ref_steps or STEPS, STEPS)
    return out


PARTS = {"matmul": part_matmul, "engine": part_engine, "compare": part_compare}


def run_part(name: str, args, model: str | None = None) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--part",
        name,
        "--data-dir",
        str(args.data_dir),
        "--epochs",
        str(args.epochs),
        "--ref-steps",
        str(args.ref_steps),
        "--ref-repeats",
        str(args.ref_repeats),
        "--skip",
        args.skip or ",",
    ]
    if model:
        cmd += ["--model", model]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MNISTLAB_OFFLINE": "1"})
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}"
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--epochs", type=int, default=3, help="epochs of our engine (median taken; >= 3)")
    p.add_argument("--ref-steps", type=int, default=0, help="steps timed per reference epoch (0: all 469)")
    p.add_argument("--ref-repeats", type=int, default=3, help="reference epochs timed (median taken)")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: torch, stepjit")
    p.add_argument("--part", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args)))
        return
    import jax

    out = {
        "device": jax.devices()[0].device_kind,
        "backend": jax.default_backend(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "matmul_2048_gflops": run_part("matmul", args)["gflops"],
        "models": {},
    }
    for model in args.models.split(","):
        # A whole run through the real entry point (accuracy, compile time, memory) ...
        res = {"run": run_part("engine", args, model)}
        if "median_epoch_seconds" in res["run"]:
            res["run"]["fraction_of_matmul_peak"] = (
                res["run"]["gflops_per_second"] / out["matmul_2048_gflops"]
            )
        # ... then epochs of ours and of the references, interleaved in one process.
        res["interleaved"] = cmp = run_part("compare", args, model)
        for ref in ("torch", "stepjit"):
            if ref in cmp and "engine" in cmp:
                res[f"ratio_to_{ref}"] = (
                    cmp["engine"]["median_epoch_seconds"] / cmp[ref]["median_epoch_seconds"]
                )
        out["models"][model] = res
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
