"""Seconds per scanned training epoch for each conv/pool formulation, against PyTorch CPU.

Run from the repository root::

    .venv/bin/python bench/conv_formulations.py              # 469 steps, all models (~15 minutes)
    .venv/bin/python bench/conv_formulations.py --steps 10   # quick (~2 minutes): timed, scaled to 469
    .venv/bin/python bench/conv_formulations.py --accuracy --data-dir ../shared/data/fashion-mnist

Each JAX formulation trains like the engine does: one compiled program per epoch, ``lax.scan`` over
the steps, the uint8 images on the device and each batch gathered, scaled and reshaped inside the
step, plain SGD, and the whole epoch ``jax.vmap``-ed over ``--seeds`` (1 by default). Also timed: a
Python loop over a per-step ``jax.jit`` with XLA convolutions, and PyTorch CPU (a tight loop over
in-memory tensors, no DataLoader, torch's default thread count).

Everything is compiled first, then the epochs run interleaved (A, B, C, torch, A, B, C, torch, ...)
and the median is kept: the 2-core machines this runs on are shared, and their speed drifts by tens
of percent within a minute, so only ratios measured this way mean anything. Prints one JSON object.

This harness isolates the layers; decide a change with the engine's own epoch
(``bench/train_speed.py``, or timing the engine both ways in one process): XLA fuses the engine's
program differently (its optimizer, batch gathering, the module's layer order): in 2026-12 a
change that won here lost there, and one that lost here won there.

``--accuracy`` instead trains the default CNN and narrower variants for 3 epochs with the
project's default optimizer (Adam, 1e-3) and reports test accuracy after epochs 1 and 3 with
seconds per epoch.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from mnistlab.models._conv import conv2d
from mnistlab.models._pool import max_pool

BATCH = 128
EPOCH_STEPS = -(-60000 // BATCH)  # 469
LR = 0.01

# name -> (conv impl, or one per conv layer; pool impl; XLA compiler options)
FORMULATIONS = {
    "xla": ("xla", "xla", {}),
    "im2col": ("im2col", "slices", {}),
    "cols": ("cols", "slices", {}),
    "auto": ("auto", "auto", {}),
    "auto+xla_pool": ("auto", "xla", {}),
    # Forward and input gradient by XLA's (forward) convolution, the weight gradient a matmul.
    "xla+cols": ("xla+cols", "slices", {}),
    "im2col/xla+cols": (("im2col", "xla+cols"), "slices", {}),
    "im2col/cols": (("im2col", "cols"), "slices", {}),
    # The first layer as a sum over taps of shifted inputs times weights (no patch matrix).
    "direct/cols": (("direct", "cols"), "slices", {}),
    # A 3x3 second layer by Winograd's F(2x2, 3x3) (the default CNN's, under "auto").
    "direct/winograd": (("direct", "winograd"), "slices", {}),
    # Not something the package can choose (the caller compiles), shown for the record: XLA:CPU
    # without its YNNPACK dot/elementwise fusions, i.e. Eigen for the matmuls.
    "auto+no_ynn": ("auto", "auto", {"xla_cpu_experimental_ynn_fusion_type": ""}),
}
DEFAULT_FORMS = "xla,im2col,cols,auto,auto+no_ynn"

# Each layer: ("conv", features, size, stride, pool_window, pool_stride) or ("dense", features).
MODELS = {
    "S7": ("NHWC", [("conv", 12, 5, 1, 2, 1), ("conv", 16, 5, 1, 2, 1), ("dense", 120), ("dense", 84)]),
    "S3": ("NCHW", [("conv", 16, 4, 4, 0, 0), ("conv", 32, 3, 1, 0, 0), ("dense", 256)]),
    "CNN": ("NHWC", [("conv", 32, 3, 1, 2, 2), ("conv", 64, 3, 1, 2, 2), ("dense", 128)]),
    "CNN16": ("NHWC", [("conv", 16, 3, 1, 2, 2), ("conv", 32, 3, 1, 2, 2), ("dense", 128)]),
    "CNN8": ("NHWC", [("conv", 8, 3, 1, 2, 2), ("conv", 16, 3, 1, 2, 2), ("dense", 128)]),
}


def init_params(model: str, key) -> list:
    """LeCun-normal kernels, zero biases; the torch model is initialised from the same arrays."""
    _, layers = MODELS[model]
    params, c, h, feat = [], 1, 28, None
    for layer in [*layers, ("dense", 10)]:
        key, sub = jax.random.split(key)
        if layer[0] == "conv":
            _, f, k, s, pw, ps = layer
            params.append((jax.random.normal(sub, (k, k, c, f)) / math.sqrt(k * k * c), jnp.zeros(f)))
            h = (h - k) // s + 1
            h = (h - pw) // ps + 1 if pw else h
            c = f
        else:
            fan_in = feat if feat is not None else h * h * c
            params.append(
                (jax.random.normal(sub, (fan_in, layer[1])) / math.sqrt(fan_in), jnp.zeros(layer[1]))
            )
            feat = layer[1]
    return params


def apply(model: str, params, x, conv_impl, pool_impl):
    layout, layers = MODELS[model]
    n_conv = sum(layer[0] == "conv" for layer in layers)
    impls = iter(conv_impl if isinstance(conv_impl, tuple) else [conv_impl] * n_conv)
    for layer, (w, b) in zip([*layers, ("dense", 10)], params, strict=True):
        if layer[0] == "conv":
            _, _, _, s, pw, ps = layer
            x = conv2d(x, w, stride=s, layout=layout, impl=next(impls))
            x = jax.nn.relu(x + (b if layout == "NHWC" else b[:, None, None]))
            if pw:
                x = max_pool(x, window=pw, stride=ps, layout=layout, impl=pool_impl)
        else:
            x = x.reshape(x.shape[0], -1) @ w + b
            x = jax.nn.relu(x) if layer[1] != 10 else x
    return x


def loss_fn(model, params, x, y, conv_impl, pool_impl):
    logits = apply(model, params, x, conv_impl, pool_impl)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def to_input(model, images_u8):
    x = images_u8.astype(jnp.float32) / 255.0
    return x[:, None] if MODELS[model][0] == "NCHW" else x[..., None]


def sgd_step(model, conv_impl, pool_impl):
    grad = jax.value_and_grad(lambda p, x, y: loss_fn(model, p, x, y, conv_impl, pool_impl))

    def step(params, images, labels, perm, i):
        idx = lax.dynamic_slice_in_dim(perm, i * BATCH, BATCH)
        loss, g = grad(params, to_input(model, images[idx]), labels[idx])
        return jax.tree.map(lambda p, d: p - LR * d, params, g), loss

    return step


def make_epoch(model, conv_impl, pool_impl, steps):
    step = sgd_step(model, conv_impl, pool_impl)

    def epoch(params, images, labels, perm):
        return lax.scan(lambda p, i: step(p, images, labels, perm, i), params, jnp.arange(steps))

    return jax.vmap(epoch, in_axes=(0, None, None, None))


# ----------------------------------------------------------------------------------------------
# PyTorch


def torch_runner(model, params, images_u8, labels, steps):
    import torch

    _, layers = MODELS[model]
    mods = []
    for layer, (w, b) in zip([*layers, ("dense", 10)], params, strict=True):
        w, b = np.asarray(w), np.asarray(b)
        if layer[0] == "conv":
            _, f, k, s, pw, ps = layer
            conv = torch.nn.Conv2d(w.shape[2], f, k, stride=s)
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
            conv.bias.data = torch.from_numpy(b.copy())
            mods += [conv, torch.nn.ReLU()]
            if pw:
                mods.append(torch.nn.MaxPool2d(pw, ps))
        else:
            if not any(isinstance(m, torch.nn.Flatten) for m in mods):
                mods.append(torch.nn.Flatten())
            lin = torch.nn.Linear(w.shape[0], w.shape[1])
            lin.weight.data = torch.from_numpy(np.ascontiguousarray(w.T))
            lin.bias.data = torch.from_numpy(b.copy())
            mods.append(lin)
            if layer[1] != 10:
                mods.append(torch.nn.ReLU())
    # torch flattens NCHW: for the NHWC models that only permutes the rows of the first dense
    # layer's random weights, which costs nothing.
    net = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    images = torch.from_numpy(np.array(images_u8))  # writable copy: torch warns on read-only arrays
    labels_t = torch.from_numpy(np.asarray(labels).astype(np.int64))
    perm = torch.from_numpy(np.random.default_rng(0).permutation(images.shape[0]))
    n = images.shape[0]

    def run():
        for i in range(steps):
            start = (i * BATCH) % (n - BATCH + 1)
            idx = perm[start : start + BATCH]
            x = (images[idx].float() / 255.0).unsqueeze(1)
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(x), labels_t[idx])
            loss.backward()
            opt.step()
        return loss.item()

    return run


# ----------------------------------------------------------------------------------------------


def load_data(data_dir: str | None, split: str = "train"):
    if data_dir is None:
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000, np.int32)
    d, prefix = Path(data_dir), "train" if split == "train" else "t10k"
    with gzip.open(d / f"{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(d / f"{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int32)
    return images, labels


def timing(args) -> dict:
    images_np, labels_np = load_data(args.data_dir)
    n = images_np.shape[0]
    images, labels = jax.device_put(images_np), jax.device_put(labels_np)
    # Wrapped so that --steps above one epoch still indexes valid rows.
    perm = jax.device_put(
        np.resize(np.random.default_rng(1).permutation(n).astype(np.int32), args.steps * BATCH)
    )
    scale = EPOCH_STEPS / args.steps
    out = {
        "command": " ".join(sys.argv),
        "steps_timed": args.steps,
        "seconds_scaled_to_steps": EPOCH_STEPS,
        "reps": args.reps,
        "seeds": args.seeds,
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "data": args.data_dir or "random",
        "models": {},
    }
    for model in args.models.split(","):
        params = jax.tree.map(
            lambda p: jnp.stack([p] * args.seeds), init_params(model, jax.random.PRNGKey(0))
        )
        runners, compile_s = {}, {}
        for name in args.forms.split(","):
            conv_impl, pool_impl, options = FORMULATIONS[name]
            t0 = time.perf_counter()
            lowered = jax.jit(make_epoch(model, conv_impl, pool_impl, args.steps)).lower(
                params, images, labels, perm
            )
            compiled = lowered.compile(compiler_options=options) if options else lowered.compile()
            compile_s[name] = time.perf_counter() - t0
            runners[name] = lambda c=compiled, p=params: c(p, images, labels, perm)[1].block_until_ready()
        if not args.no_jit_loop:
            step = jax.jit(jax.vmap(sgd_step(model, "xla", "xla"), in_axes=(0, None, None, None, None)))
            t0 = time.perf_counter()
            step(params, images, labels, perm, 0)[1].block_until_ready()
            compile_s["jit_loop_xla"] = time.perf_counter() - t0

            def jit_loop(step=step, params=params):
                p, loss = params, None
                for i in range(args.steps):
                    p, loss = step(p, images, labels, perm, i)
                return loss.block_until_ready()

            runners["jit_loop_xla"] = jit_loop
        if not args.no_torch:
            run_torch = torch_runner(
                model, [jax.tree.map(lambda a: a[0], p) for p in params], images_np, labels_np, args.steps
            )
            runners["torch"] = lambda r=run_torch: [r() for _ in range(args.seeds)]
        slow = set()
        for name, run in runners.items():  # warm-up: first runs pay for allocation and caches
            t0 = time.perf_counter()
            run()
            if time.perf_counter() - t0 > args.slow:
                slow.add(name)  # an order of magnitude off the others: one timed run is plenty
        times = {name: [] for name in runners}
        cpu = {name: [] for name in runners}
        for rep in range(args.reps):
            for name, run in runners.items():
                if rep and name in slow:
                    continue
                t0, c0 = time.perf_counter(), time.process_time()
                run()
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        epoch_s = {k: statistics.median(v) * scale for k, v in times.items()}
        res = {
            "epoch_s": {k: round(v, 2) for k, v in epoch_s.items()},
            "compile_s": {k: round(v, 2) for k, v in compile_s.items()},
            "spread": {k: round((max(v) - min(v)) / statistics.median(v), 2) for k, v in times.items()},
            # CPU seconds of all threads: less sensitive than wall seconds to other processes' load
            # (PyTorch's OpenMP threads spin while they wait, so its figure includes that).
            "cpu_s": {k: round(statistics.median(v) * scale, 2) for k, v in cpu.items()},
        }
        if "torch" in epoch_s:
            res["ratio_to_torch"] = {k: round(v / epoch_s["torch"], 3) for k, v in epoch_s.items()}
        out["models"][model] = res
        print(json.dumps({model: res}), file=sys.stderr, flush=True)
    return out


def accuracy(args) -> dict:
    import optax

    if args.data_dir is None:
        raise SystemExit("--accuracy needs --data-dir with Fashion-MNIST's four IDX files")
    tr_x, tr_y = load_data(args.data_dir, "train")
    te_x, te_y = load_data(args.data_dir, "test")
    images, labels = jax.device_put(tr_x), jax.device_put(tr_y)
    steps = tr_x.shape[0] // BATCH  # full batches only
    opt = optax.adam(1e-3)
    out = {"command": " ".join(sys.argv), "optimizer": "adam 1e-3", "batch": BATCH, "models": {}}
    for model in args.models.split(","):
        grad = jax.value_and_grad(lambda p, x, y, m=model: loss_fn(m, p, x, y, "auto", "auto"))

        def epoch(params, opt_state, perm, grad=grad, model=model):
            def step(carry, k, perm=perm):
                p, s = carry
                idx = lax.dynamic_slice_in_dim(perm, k * BATCH, BATCH)
                loss, g = grad(p, to_input(model, images[idx]), labels[idx])
                upd, s = opt.update(g, s, p)
                return (optax.apply_updates(p, upd), s), loss

            return lax.scan(step, (params, opt_state), jnp.arange(steps))[0]

        @jax.jit
        def predict(params, x, model=model):
            return jnp.argmax(apply(model, params, to_input(model, x), "auto", "auto"), -1)

        params = init_params(model, jax.random.PRNGKey(0))
        opt_state = opt.init(params)
        perm0 = jnp.asarray(np.random.default_rng(0).permutation(tr_x.shape[0]).astype(np.int32))
        t0 = time.perf_counter()
        run = jax.jit(epoch).lower(params, opt_state, perm0).compile()
        res = {"compile_s": round(time.perf_counter() - t0, 2), "epoch_s": [], "test_accuracy": []}
        for e in range(3):
            perm = jnp.asarray(np.random.default_rng(e).permutation(tr_x.shape[0]).astype(np.int32))
            t0 = time.perf_counter()
            params, opt_state = jax.block_until_ready(run(params, opt_state, perm))
            res["epoch_s"].append(round(time.perf_counter() - t0, 2))
            pred = np.concatenate(
                [np.asarray(predict(params, te_x[i : i + 1000])) for i in range(0, len(te_x), 1000)]
            )
            res["test_accuracy"].append(round(float(np.mean(pred == te_y)), 4))
        out["models"][model] = res
        print(json.dumps({model: res}), file=sys.stderr, flush=True)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--steps", type=int, default=EPOCH_STEPS, help="steps timed per repetition (scaled to 469)"
    )
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions; the median is reported")
    ap.add_argument("--seeds", type=int, default=1, help="seeds vmapped in one program, as the engine does")
    ap.add_argument("--slow", type=float, default=5.0, help="runs longer than this (s) are timed only once")
    ap.add_argument("--models", default=None, help=f"comma-separated, of {', '.join(MODELS)}")
    ap.add_argument("--forms", default=DEFAULT_FORMS, help=f"comma-separated, of {', '.join(FORMULATIONS)}")
    ap.add_argument("--no-jit-loop", action="store_true", help="skip the per-step jit loop with XLA convs")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--data-dir", help="folder with Fashion-MNIST's *-ubyte.gz files (default: random data)")
    ap.add_argument(
        "--accuracy", action="store_true", help="test accuracy of CNN variants after 1 and 3 epochs"
    )
    args = ap.parse_args(argv)
    if args.models is None:
        args.models = "CNN,CNN16,CNN8" if args.accuracy else "S7,S3,CNN"
    print(json.dumps(accuracy(args) if args.accuracy else timing(args), indent=1))


if __name__ == "__main__":
    main()
