"""Scaling over devices: members (seeds) and data (batches) sharding, examples/s per device and the
efficiency against one device. Prints one JSON object.

Run from the repository root::

    .venv/bin/python bench/scaling.py                        # the devices JAX finds
    .venv/bin/python bench/scaling.py --fake-devices 8       # CPU: 8 fake devices (overhead only)
    .venv/bin/python bench/scaling.py --model cnn --dataset mnist --epochs 3

Weak scaling, so every device has the same work at every device count:

- ``members``: ``d`` devices train ``d * --seeds-per-device`` seeds, one mesh row per device
  (``d x 1``); examples/s counts every seed's examples.
- ``data``: one seed, global batch ``d * --batch-per-device`` split over ``d`` devices (``1 x d``).

Efficiency = (examples/s per device on ``d`` devices) / (examples/s on one device). Epoch times are
the median of the epochs after the first (compilation is timed apart by the engine anyway). Fake
CPU devices share the same cores, so on CPU the numbers show only the sharding's overhead; on
several GPUs they show the scaling.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _counts(available: int) -> list[int]:
    counts, d = [], 1
    while d <= available:
        counts.append(d)
        d *= 2
    return counts


def _measure(
    train, test, *, dataset: str, model: str, epochs: int, seeds: int, batch: int, mesh: str
) -> dict:
    from mnistlab.train import Engine, TrainConfig, build_model_for, fit

    m, d = (int(x) for x in mesh.split("x"))
    config = TrainConfig(
        dataset=dataset,
        model=model,
        epochs=epochs,
        batch_size=batch,
        seeds=tuple(range(seeds)),
        devices=str(m * d),
        mesh=mesh,
    )
    engine = Engine(
        build_model_for(config, 10, train.image_shape),
        config,
        n_train=len(train),
        image_shape=train.image_shape,
        num_classes=10,
    )
    result = fit(engine, train, evals={"test": test})
    seconds = statistics.median(r["epoch_seconds"] for r in result.history.epochs[1:])
    rate = len(train) * seeds / seconds
    return {
        "mesh": mesh,
        "devices": m * d,
        "seeds": seeds,
        "batch": batch,
        "epoch_seconds": seconds,
        "compile_seconds": engine.compile_seconds,
        "examples_per_second": rate,
        "examples_per_second_per_device": rate / (m * d),
        "final_test_accuracy": result.history.epochs[-1]["test_accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fake-devices", type=int, default=0, help="CPU only: this many fake devices")
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--epochs", type=int, default=3, help="at least 2 (the first is not timed)")
    parser.add_argument("--seeds-per-device", type=int, default=1)
    parser.add_argument("--batch-per-device", type=int, default=128)
    parser.add_argument("--max-devices", type=int, default=0, help="stop at this many devices")
    args = parser.parse_args()
    if args.fake_devices:  # before JAX starts: the flag is read once
        os.environ["JAX_PLATFORMS"] = "cpu"
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={args.fake_devices}"

    import jax

    from mnistlab import data

    train, test = data.load(args.dataset, "train"), data.load(args.dataset, "test")
    available = jax.device_count()
    counts = [d for d in _counts(available) if not args.max_devices or d <= args.max_devices]
    common = dict(dataset=args.dataset, model=args.model, epochs=max(args.epochs, 2))
    rows = {"members": [], "data": []}
    for d in counts:
        spd, bpd = args.seeds_per_device, args.batch_per_device
        rows["members"].append(_measure(train, test, seeds=d * spd, batch=bpd, mesh=f"{d}x1", **common))
        rows["data"].append(_measure(train, test, seeds=1, batch=d * bpd, mesh=f"1x{d}", **common))
    for axis in rows.values():
        one = axis[0]["examples_per_second_per_device"]
        for row in axis:
            row["efficiency"] = row["examples_per_second_per_device"] / one
    device = jax.devices()[0]
    print(
        json.dumps(
            {
                "backend": jax.default_backend(),
                "device_kind": getattr(device, "device_kind", str(device)),
                "devices": available,
                "fake_cpu_devices": bool(args.fake_devices),
                "model": args.model,
                "dataset": args.dataset,
                "n_train": len(train),
                "scaling": "weak: the same work per device at every device count",
                **rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
