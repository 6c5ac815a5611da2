"""What step progress costs: epoch seconds with and without the in-epoch callback, interleaved.

    python bench/progress_overhead.py [--data-dir ../shared/data] [--rounds 3] [--models mlp,cnn]

For each model (the S7 CNN, ``cnn-s7`` with SGD 0.06; the S4 MLP [784, 1024, 128, 10] with SGD
0.1; batch 128, one seed, the full MNIST training set) two engines are compiled in this process:
``plain`` (no listener: the program is the bare ``lax.scan``) and ``watched`` (a listener that
updates a Rich progress task, as the console does, every ``every`` steps). Their epochs then
alternate, the order flipping each round so that a drift in the machine's load (it is shared)
falls on both (process CPU seconds too, which a busy machine disturbs less). Prints JSON: per
model the epoch seconds of each, their medians, the ratio watched / plain (the target is
<= 1.02) and whether the parameters after the last round are bit-identical.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MODELS = {
    "cnn": dict(model="cnn-s7", optimizer="sgd", lr=0.06),
    "mlp": dict(
        model="mlp",
        widths=(1024, 128),
        activation="tanh",
        init="normal",
        init_scale=0.1,
        optimizer="sgd",
        lr=0.1,
    ),
}


def bench_model(name: str, train, rounds: int) -> dict:
    import jax
    import numpy as np
    from rich.console import Console
    from rich.progress import Progress

    from mnistlab.train import Engine, TrainConfig, build_model_for, resolve
    from mnistlab.train._progress import attach

    config = resolve(TrainConfig(dataset="mnist", batch_size=128, seeds=(0,), epochs=rounds, **MODELS[name]))
    shape, n = tuple(train.images.shape[1:]), len(train)
    bar = Progress(console=Console(file=io.StringIO(), force_terminal=True))  # updated, never drawn
    task = bar.add_task("epoch", total=1, info="")
    calls = []

    def on_step(done: int, total: int) -> None:
        calls.append(done)
        bar.update(task, completed=done / total, info=f"step {done:,}/{total:,}")

    engines = {}
    for kind in ("plain", "watched"):
        engines[kind] = Engine(
            build_model_for(config, 10, shape), config, n_train=n, image_shape=shape, num_classes=10
        )
        if kind == "watched":
            listener = attach(engines[kind], on_step)
    images, labels = (
        jax.device_put(np.asarray(train.images)),
        jax.device_put(np.asarray(train.labels, np.int32)),
    )
    states = {k: e.init() for k, e in engines.items()}
    for k, e in engines.items():
        e.compile_epoch(states[k], images, labels)
    seconds = {"plain": [], "watched": []}
    cpu = {"plain": [], "watched": []}  # process CPU seconds: less sensitive to a shared machine's load
    for r in range(rounds):
        for kind in ("plain", "watched") if r % 2 == 0 else ("watched", "plain"):
            listener.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            states[kind], totals, _, _ = engines[kind].run_epoch(states[kind], r, images, labels)
            np.asarray(totals)
            seconds[kind].append(round(time.perf_counter() - t0, 3))
            cpu[kind].append(round(time.process_time() - c0, 3))
    same = all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(jax.tree.leaves(states["plain"]), jax.tree.leaves(states["watched"]), strict=True)
    )
    med = {k: statistics.median(v) for k, v in seconds.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "steps_per_epoch": engines["plain"].steps_per_epoch,
        "callback_every_steps": listener.every,
        "callbacks_per_epoch": len(calls) / rounds,
        "epoch_seconds": seconds,
        "median_seconds": med,
        "ratio_watched_to_plain": round(med["watched"] / med["plain"], 4),
        "ratio_of_totals": round(sum(seconds["watched"]) / sum(seconds["plain"]), 4),
        "epoch_cpu_seconds": cpu,
        "ratio_cpu_watched_to_plain": round(med_cpu["watched"] / med_cpu["plain"], 4),
        "bit_identical": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", default="cnn,mlp")
    args = parser.parse_args()
    from mnistlab import data

    train = data.load("mnist", "train", data_dir=args.data_dir, download=False, progress=False)
    results = {}
    for m in args.models.split(","):
        results[m] = bench_model(m, train, args.rounds)
        print(f"{m}: {json.dumps(results[m])}", file=sys.stderr, flush=True)  # partial results
    print(
        json.dumps(
            {"dataset": "mnist", "n_train": len(train), "rounds": args.rounds, "models": results}, indent=2
        )
    )


if __name__ == "__main__":
    main()
