"""S11 denoising a cosine: n = 200 samples of a cosine plus Gaussian noise; the network
o = W2 sigmoid(W1 x + b) with W1 [hidden, 200], W2 [200, hidden] and b [hidden], every entry
U[-0.1, 0.1]; cost 0.5 sum((x_noisy - o)^2); 100 plain gradient-descent steps with
``jax.value_and_grad``. Seeded: one key draws the noise and the weights.

The period, noise level, width and step size are the study's choice (the notebook leaves them
open): :data:`SETTINGS`. No training run: the whole study is one jitted scan of 100 steps.

What it finds: with ONE example and 200 outputs, ``W2``'s columns can hold the noisy signal itself,
and gradient descent moves the output along the residual ``x_noisy - o``; so the net fits the
noise (the cost falls toward 0) and its output is about as far from the clean cosine as the noisy
signal is. The report's table says so with numbers; any smoothing must come from the
architecture or stopping early, not from this cost.
"""

from __future__ import annotations

import numpy as np

from ._spec import TrainStudy

SETTINGS = {"n": 200, "period": 100, "noise": 0.2, "hidden": 10, "init": 0.1, "lr": 0.005, "steps": 100}


def denoise(*, key: int = 0, **changes) -> dict:
    """Run the 100 steps; returns the signals, the cost per step and the final errors (float64)."""
    import jax
    import jax.numpy as jnp

    s = {**SETTINGS, **changes}
    with jax.enable_x64(True):
        k_noise, k1, k2, kb = jax.random.split(jax.random.key(key), 4)
        t = jnp.arange(s["n"], dtype=jnp.float64)
        clean = jnp.cos(2 * jnp.pi * t / s["period"])
        noisy = clean + s["noise"] * jax.random.normal(k_noise, (s["n"],), jnp.float64)
        a, h = s["init"], s["hidden"]
        params = {
            "W1": jax.random.uniform(k1, (h, s["n"]), jnp.float64, -a, a),
            "b": jax.random.uniform(kb, (h,), jnp.float64, -a, a),
            "W2": jax.random.uniform(k2, (s["n"], h), jnp.float64, -a, a),
        }

        def net(p, x):
            return p["W2"] @ jax.nn.sigmoid(p["W1"] @ x + p["b"])

        def cost(p, x):
            return 0.5 * jnp.sum((x - net(p, x)) ** 2)

        def step(p, _):
            value, grads = jax.value_and_grad(cost)(p, noisy)
            return jax.tree.map(lambda w, g: w - s["lr"] * g, p, grads), value

        params, costs = jax.jit(lambda p: jax.lax.scan(step, p, None, length=s["steps"]))(params)
        out = net(params, noisy)
        return {
            "t": np.asarray(t),
            "clean": np.asarray(clean),
            "noisy": np.asarray(noisy),
            "output": np.asarray(out),
            "costs": np.asarray(costs),
            "final_cost": float(cost(params, noisy)),
            "rmse_noisy_vs_clean": float(jnp.sqrt(jnp.mean((noisy - clean) ** 2))),
            "rmse_output_vs_clean": float(jnp.sqrt(jnp.mean((out - clean) ** 2))),
            "settings": s,
        }


def analysis(ctx) -> dict:
    from ..plots import new_figure

    r = denoise(key=0)
    fig = new_figure(10, 4.0)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=(3, 1.3))
    ax1.plot(r["t"], r["noisy"], ".", ms=3, color="gray", label="noisy signal")
    ax1.plot(r["t"], r["clean"], "-", lw=1.5, label="clean cosine")
    ax1.plot(r["t"], r["output"], "-", lw=1.5, label="network output")
    ax1.set_xlabel("sample")
    ax1.legend(fontsize=8)
    ax2.plot(np.arange(1, len(r["costs"]) + 1), r["costs"])
    ax2.set_yscale("log")
    ax2.set_xlabel("gradient step")
    ax2.set_ylabel("cost")
    ctx.figures.append(("Noisy signal, clean cosine and network output", fig, f"settings: {r['settings']}"))
    ratio = r["rmse_output_vs_clean"] / r["rmse_noisy_vs_clean"]
    rows = [
        ["noisy signal vs clean", f"{r['rmse_noisy_vs_clean']:.4f}"],
        ["network output vs clean", f"{r['rmse_output_vs_clean']:.4f}"],
        ["final cost 0.5 sum((x_noisy - o)^2)", f"{r['final_cost']:.4f}"],
        ["output's error / noisy signal's error (RMSE vs clean)", f"{ratio:.3f}"],
    ]
    keys = ("final_cost", "rmse_noisy_vs_clean", "rmse_output_vs_clean", "settings")
    return {
        "table": (["quantity (RMSE vs the clean cosine unless said)", "value"], rows),
        "error_ratio": ratio,
        **{k: r[k] for k in keys},
        "dataset": "synthetic cosine",
    }


STUDY = TrainStudy(
    name="denoise-cosine",
    number="S11",
    question="Can a one-hidden-layer network fitted to a single noisy cosine by 100 gradient steps "
    "recover the clean signal?",
    shows="noisy signal, clean cosine and network output; cost per step",
    base=None,
    figures=("analysis",),
    analysis=analysis,
    estimate=2.0,
    reference_dataset="synthetic",
    init="U[-0.1, 0.1] for W1, b and W2",
)
