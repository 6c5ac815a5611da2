"""Training speed of the real engine against PyTorch, epochs interleaved in one process.

Run from the repository root (full Fashion-MNIST from ../shared/data)::

    .venv/bin/python bench/train_speed.py                        # mlp, s7, cnn: 3 alternations each
    .venv/bin/python bench/train_speed.py --models s7 --repeats 5
    .venv/bin/python bench/train_speed.py --steps 100            # quick: 100 steps per epoch, scaled
    .venv/bin/python bench/train_speed.py --rss                  # also a whole run per model (RSS)

Models, each at batch 128 on the full 60k training set (469 steps, the last partial batch kept as
the engine keeps it): ``mlp`` the S4 tanh MLP ([784, 1024, 128, 10], SGD 0.1); ``s7`` the S7
LeNet-style CNN (``cnn-s7``, SGD 0.06); ``cnn`` the default model of ``mnistlab train`` with its
defaults (``cnn``, Adam 1e-3). PyTorch runs the same layers on the CPU in a tight loop over
in-memory tensors with ``--threads`` intra-op threads (2: the machines this targets have 2 cores).

Why one process, interleaved: the 2-core machines are shared and their speed drifts by tens of
percent within a minute, so our epoch and PyTorch's must see the same load. Everything is compiled
and warmed up first (one untimed epoch each), then ``--repeats`` alternations run ours, PyTorch's,
(the per-step jit loop's,) ours, PyTorch's, ... Each alternation gives one ratio; the JSON has the
median ratio, its min and max over the alternations, the ratio of median epoch seconds, and that
of median CPU seconds (all threads), a second view when other processes load the machine.

``--rss`` adds, per model, a separate pass: a whole ``mnistlab.train.train`` run (1 epoch) in a
subprocess, for its peak RSS, compile seconds and test accuracy (separate so that PyTorch's memory
is not counted). Prints one JSON object.
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
    "s7": {
        "config": dict(model="cnn-s7", optimizer="sgd", lr=0.06),
        # conv as matmul: (output pixels x out channels x kernel volume); dense as above.
        "convs": [(24 * 24, 12, 5 * 5 * 1), (19 * 19, 16, 5 * 5 * 12)],
        "dims": [(5184, 120), (120, 84), (84, 10)],
    },
    "cnn": {
        # The default model, optimizer and learning rate of `mnistlab train`: nothing overridden.
        "config": dict(model="cnn"),
        "convs": [(26 * 26, 32, 3 * 3 * 1), (11 * 11, 64, 3 * 3 * 32)],
        "dims": [(1600, 128), (128, 10)],
    },
}


def flops_per_example(spec: dict) -> float:
    layers = [(p * o * k) for p, o, k in spec.get("convs", [])] + [m * n for m, n in spec["dims"]]
    forward = 2 * sum(layers)
    return 3 * forward - 2 * layers[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_gflops() -> float:
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
    return 2 * 2048**3 / statistics.median(times) / 1e9


# --- one epoch of each contender -------------------------------------------------------------------


def engine_timer(model: str, args, data):
    """A function timing one epoch of our engine (``--steps`` steps, scaled to 469)."""
    import jax

    from mnistlab import train as T

    steps = dict(steps=args.steps, eval_every=args.steps) if args.steps else {}
    cfg = T.TrainConfig(dataset="fashion-mnist", batch_size=BATCH, **steps, **MODELS[model]["config"])
    cfg = T.resolve(cfg)
    net = T.build_model_for(cfg, 10, (28, 28))
    engine = T.Engine(net, cfg, n_train=len(data.train), image_shape=(28, 28), num_classes=10)
    images, labels = jax.device_put(data.train.images), jax.device_put(data.train.labels)
    state = {"s": engine.init(), "epoch": 0}
    t = time.perf_counter()
    engine.compile_epoch(state["s"], images, labels)
    compile_s = time.perf_counter() - t
    scale = STEPS / engine.steps_per_epoch

    def epoch() -> float:
        t = time.perf_counter()
        s, totals, _, _ = engine.run_epoch(state["s"], state["epoch"], images, labels)
        jax.block_until_ready(totals)
        state["s"], state["epoch"] = s, state["epoch"] + 1
        return (time.perf_counter() - t) * scale

    return epoch, {"compile_seconds": compile_s, "optimizer": cfg.optimizer, "lr": cfg.lr}


def torch_net(model: str):
    from torch import nn

    if model == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 1024), nn.Tanh(), nn.Linear(1024, 128), nn.Tanh(), nn.Linear(128, 10)
        )
    if model == "s7":
        return nn.Sequential(
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
    return nn.Sequential(  # conv32k3,pool2,conv64k3,pool2,dense128
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def torch_timer(model: str, args, images, labels, optimizer: str, lr: float):
    """A function timing one PyTorch epoch (``--steps`` steps, scaled to 469)."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = torch_net(model)
    x = torch.from_numpy(images.astype("float32") / 255).unsqueeze(1)
    y = torch.from_numpy(labels.astype("int64"))
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    steps = min(args.steps or STEPS, STEPS)

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


def stepjit_timer(model: str, args, images, labels):
    """A plain per-step ``jax.jit`` SGD loop over NumPy batches, with XLA's own convolutions."""
    import jax
    import numpy as np
    import optax

    from mnistlab.models import _conv, _modules, _pool, build_model

    # The reference uses XLA's own convolution and pooling (lax.conv_general_dilated, reduce_window):
    # the Flax modules (models/_modules.py) call these names, so patch them there.
    saved = _modules.conv2d, _modules.max_pool
    _modules.conv2d = lambda x, w, **kw: _conv.conv2d(x, w, **{**kw, "impl": "xla"})
    _modules.max_pool = lambda x, **kw: _pool.max_pool(x, **{**kw, "impl": "xla"})
    spec = MODELS[model]["config"]
    net = build_model(
        spec["model"],
        widths=spec.get("widths"),
        activation=spec.get("activation"),
        init=spec.get("init", "default"),
        init_scale=spec.get("init_scale"),
    )
    shape = (1, 784) if net.input_layout == "flat" else (1, 28, 28, 1)
    params = net.init(jax.random.PRNGKey(0), shape)
    lr = spec.get("lr", 1e-3)

    @jax.jit
    def step(params, x, y):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(net.apply(p, x), y).mean()

        g = jax.grad(loss)(params)
        return jax.tree.map(lambda p, g: p - lr * g, params, g)

    def batch(idx):
        x = images[idx].astype(np.float32) / 255
        return (x.reshape(len(idx), -1) if net.input_layout == "flat" else x[..., None]), labels[idx]

    rng = np.random.default_rng(0)
    params = step(params, *batch(np.arange(BATCH)))  # compile (traces with the patched modules)
    jax.block_until_ready(params)
    _modules.conv2d, _modules.max_pool = saved
    steps = min(args.steps or STEPS, STEPS)
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


def compare(model: str, args, data) -> dict:
    """Ours and the references, compiled and warmed up, then ``--repeats`` interleaved alternations."""
    engine, info = engine_timer(model, args, data)
    timers = {"engine": engine}
    if not args.no_torch:
        timers["torch"] = torch_timer(
            model, args, data.train.images, data.train.labels, info["optimizer"], info["lr"]
        )
    if args.stepjit:
        timers["stepjit"] = stepjit_timer(model, args, data.train.images, data.train.labels)
    for fn in timers.values():  # warm-up: first epochs pay for allocation and caches
        fn()
    times: dict[str, list[float]] = {k: [] for k in timers}
    cpu: dict[str, list[float]] = {k: [] for k in timers}
    scale = STEPS / min(args.steps or STEPS, STEPS)
    for _ in range(args.repeats):
        for name, fn in timers.items():
            c = time.process_time()
            times[name].append(fn())
            cpu[name].append((time.process_time() - c) * scale)
    out = {"engine_compile_seconds": round(info["compile_seconds"], 2), "optimizer": info["optimizer"]}
    out["epoch_seconds"] = {k: [round(t, 3) for t in v] for k, v in times.items()}
    out["median_epoch_seconds"] = {k: round(statistics.median(v), 3) for k, v in times.items()}
    # CPU seconds of all this process's threads per epoch: a second view when the machine is
    # loaded (PyTorch's OpenMP threads spin while they wait, which counts here too).
    out["median_epoch_cpu_seconds"] = {k: round(statistics.median(v), 3) for k, v in cpu.items()}
    flops = flops_per_example(MODELS[model]) * N_TRAIN
    out["engine_gflops_per_second"] = round(flops / statistics.median(times["engine"]) / 1e9, 2)
    for ref in ("torch", "stepjit"):
        if ref in times:
            per_alt = [e / r for e, r in zip(times["engine"], times[ref], strict=True)]
            out[f"ratio_to_{ref}"] = {
                "median": round(statistics.median(per_alt), 3),
                "min": round(min(per_alt), 3),
                "max": round(max(per_alt), 3),
                "per_alternation": [round(r, 3) for r in per_alt],
                "of_medians": round(statistics.median(times["engine"]) / statistics.median(times[ref]), 3),
                "of_median_cpu_seconds": round(
                    statistics.median(cpu["engine"]) / statistics.median(cpu[ref]), 3
                ),
            }
    return out


def rss_pass(model: str, args) -> dict:
    """A whole 1-epoch run through ``mnistlab.train.train`` in a subprocess: its peak RSS."""
    cmd = [sys.executable, __file__, "--rss-child", model, "--data-dir", str(args.data_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MNISTLAB_OFFLINE": "1"})
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rss_child(model: str, data_dir: str) -> dict:
    import tempfile

    from mnistlab import train as T

    cfg = T.TrainConfig(dataset="fashion-mnist", epochs=1, batch_size=BATCH, **MODELS[model]["config"])
    with tempfile.TemporaryDirectory() as tmp:
        result = T.train(cfg, data_dir=data_dir, out=Path(tmp) / "run", quiet=True)
    return {
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "compile_seconds": round(result.summary["compile_seconds"], 2),
        "epoch_seconds": round(result.history.epochs[0]["epoch_seconds"], 2),
        "test_accuracy": result.history.epochs[0]["test_accuracy"][0],
        "status": result.status,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--models", default="mlp,s7,cnn", help=f"comma-separated, of {', '.join(MODELS)}")
    p.add_argument("--repeats", type=int, default=3, help="interleaved alternations (>= 3 for a spread)")
    p.add_argument("--steps", type=int, default=0, help="steps timed per epoch, scaled to 469 (0: all)")
    p.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    p.add_argument("--no-torch", action="store_true", help="time our engine only")
    p.add_argument("--stepjit", action="store_true", help="also time a per-step jax.jit loop (XLA convs)")
    p.add_argument("--rss", action="store_true", help="also a 1-epoch run per model in a subprocess (RSS)")
    p.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rss_child:
        print(json.dumps(rss_child(args.rss_child, args.data_dir)))
        return
    os.environ.setdefault("MNISTLAB_OFFLINE", "1")
    import jax

    from mnistlab import train as T

    data = T.prepare_data(
        T.resolve(T.TrainConfig(dataset="fashion-mnist", **MODELS["mlp"]["config"])),
        data_dir=args.data_dir,
        progress=False,
    )
    out = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "device": jax.devices()[0].device_kind,
        "backend": jax.default_backend(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "jax": jax.__version__,
        "matmul_2048_gflops": round(matmul_gflops(), 1),
        "models": {},
    }
    for model in args.models.split(","):
        res = compare(model, args, data)
        if args.rss:
            res["run"] = rss_pass(model, args)
        out["models"][model] = res
        print(json.dumps({model: res}), file=sys.stderr, flush=True)
    out["load_average_at_end"] = os.getloadavg()
    out["peak_rss_mb_this_process"] = round(peak_rss_mb(), 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
