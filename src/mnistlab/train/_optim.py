"""Learning-rate schedules and optimizers, built from optax pieces in one uniform way.

Every optimizer is ``optax.chain(clip?, scaling, decoupled weight decay?, learning rate)``:

- ``clip``: ``optax.clip_by_global_norm(clip_norm)`` on the raw gradients, when asked for;
- ``scaling``: what distinguishes the optimizers (identity, heavy-ball trace, Adam or RMS scaling);
- weight decay: ``optax.add_decayed_weights`` AFTER the scaling, so the decay is not divided by
  Adam's or RMSprop's denominators (decoupled, as in AdamW) and not accumulated into momentum;
- ``optax.scale_by_learning_rate(schedule)``: the step size (with the minus sign).

With this order "sgd", "momentum", "nesterov", "adam", "adamw" and "rmsprop" reproduce
``optax.sgd``, ``optax.sgd(momentum=...)``, ``optax.sgd(..., nesterov=True)``, ``optax.adam``,
``optax.adamw`` and ``optax.rmsprop`` (the tests check it). Schedules are functions of the
optimizer's integer step count, which counts batches from 0.

Error messages name the ``mnistlab train`` flag too, since that is where most values come from.
"""

from __future__ import annotations

import math
from numbers import Real

import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, Int

from .._errors import ConfigError, check_int

SCHEDULES = ("constant", "exponential", "step", "cosine", "warmup-cosine", "one-cycle")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")

DEFAULT_MOMENTUM = 0.9
DEFAULT_ADAMW_WEIGHT_DECAY = 1e-4  # optax.adamw's default
DEFAULT_RMS_DECAY = 0.9  # optax.rmsprop's default

# Which schedule parameters each schedule reads; giving one it ignores is refused (a likely typo).
_SCHEDULE_PARAMS = {
    "constant": (),
    "exponential": ("factor",),
    "step": ("factor", "step_epochs"),
    "cosine": ("final_lr",),
    "warmup-cosine": ("warmup_epochs", "final_lr"),
    "one-cycle": ("final_lr",),
}
_FLAGS = {
    "lr": "--lr",
    "epochs": "--epochs",
    "factor": "--lr-factor",
    "step_epochs": "--step-epochs",
    "warmup_epochs": "--warmup-epochs",
    "final_lr": "--final-lr",
    "momentum": "--momentum",
    "weight_decay": "--weight-decay",
    "clip_norm": "--clip-norm",
    "b1": "--b1",
    "b2": "--b2",
    "eps": "--eps",
    "rms_decay": "--rms-decay",
}


def _flag(param: str) -> str:
    flag = _FLAGS.get(param)
    return f"{param} ({flag})" if flag else param


def _number(param: str, value) -> float:
    """``value`` as a finite float, else a ConfigError naming ``param`` and its flag."""
    # 0-d NumPy/JAX arrays count as numbers (a rate read back from a checkpoint, say); bools do not.
    dtype = getattr(value, "dtype", None)
    real_dtype = dtype is not None and (
        jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)
    )
    scalar_array = getattr(value, "shape", None) == () and real_dtype
    is_number = not isinstance(value, bool) and (isinstance(value, Real) or scalar_array)
    if not is_number or not math.isfinite(float(value)):
        raise ConfigError(f"{_flag(param)} must be a finite number; got {value!r}")
    return float(value)


def _in_range(param: str, value, low: float, high: float, *, low_open: bool, high_open: bool) -> float:
    x = _number(param, value)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (above and below):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{_flag(param)} must be in {interval}; got {value!r}")
    return x


def _positive(param: str, value) -> float:
    x = _number(param, value)
    if x <= 0:
        raise ConfigError(f"{_flag(param)} must be > 0; got {value!r}")
    return x


def _positive_int(param: str, value) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{_flag(param)} must be an integer; got {value!r}")
    n = check_int(_flag(param), value)
    if n < 1:
        raise ConfigError(f"{_flag(param)} must be a positive integer (>= 1); got {value!r}")
    return n


# --- schedules ---------------------------------------------------------------------------------


def make_schedule(
    name: str,
    lr: float,
    *,
    steps_per_epoch: int,
    epochs: int,
    factor: float | None = None,
    step_epochs: int | None = None,
    warmup_epochs: float | None = None,
    final_lr: float | None = None,
) -> optax.Schedule:
    """The learning rate as a function of the step count (batches done, from 0).

    - ``"constant"``: ``lr``.
    - ``"exponential"``: ``lr * factor ** epoch`` with ``epoch = step // steps_per_epoch``: the
      rate is fixed within an epoch and multiplied by ``factor`` at each epoch start (study S9's
      "lr *= factor each epoch"). ``factor`` in (0, 1] is required.
    - ``"step"``: ``lr * factor ** (epoch // step_epochs)``: multiplied by ``factor`` every
      ``step_epochs`` epochs; both required.
    - ``"cosine"``: from ``lr`` at step 0 down to ``final_lr`` (default 0) at step
      ``epochs * steps_per_epoch``, along half a cosine; ``final_lr`` after that.
    - ``"warmup-cosine"``: linear from 0 to ``lr`` over the first ``warmup_epochs`` epochs
      (required, may be fractional, less than ``epochs``), then cosine down to ``final_lr`` at the
      end of the run.
    - ``"one-cycle"``: ``optax.cosine_onecycle_schedule`` over the whole run with peak ``lr``:
      cosine up from ``lr / 25`` over the first 30% of the steps, then down to ``final_lr``
      (default ``lr / 25 / 1e4``, optax's).

    A parameter the named schedule does not use must be left ``None``.
    """
    if name not in SCHEDULES:
        raise ConfigError(f"unknown schedule (--schedule) {name!r}; choose one of: {', '.join(SCHEDULES)}")
    lr = _positive("lr", lr)
    steps_per_epoch = _positive_int("steps_per_epoch", steps_per_epoch)
    epochs = _positive_int("epochs", epochs)
    given = {
        "factor": factor,
        "step_epochs": step_epochs,
        "warmup_epochs": warmup_epochs,
        "final_lr": final_lr,
    }
    for param, value in given.items():
        if value is not None and param not in _SCHEDULE_PARAMS[name]:
            users = [s for s, params in _SCHEDULE_PARAMS.items() if param in params]
            which = users[0] if len(users) == 1 else f"{', '.join(users[:-1])} and {users[-1]}"
            raise ConfigError(
                f"{_flag(param)} is only used by the {which} schedule{'s' if len(users) > 1 else ''}; "
                f"got {value!r} with schedule {name!r}"
            )
    total = epochs * steps_per_epoch

    if name == "constant":
        return optax.constant_schedule(lr)

    if name in ("exponential", "step"):
        if factor is None:
            raise ConfigError(f"the {name} schedule needs {_flag('factor')}, a number in (0, 1]; got none")
        factor = _in_range("factor", factor, 0.0, 1.0, low_open=True, high_open=False)
        every = steps_per_epoch
        if name == "step":
            if step_epochs is None:
                raise ConfigError(
                    f"the step schedule needs {_flag('step_epochs')}, a positive integer; got none"
                )
            every = _positive_int("step_epochs", step_epochs) * steps_per_epoch

        def staircase(step: Int[ArrayLike, ""]) -> Float[Array, ""]:
            # Integer division first, so the rate is constant within a stair (no float drift).
            return lr * jnp.power(factor, jnp.asarray(step) // every)

        return staircase

    if name in ("cosine", "warmup-cosine"):
        final = (
            0.0
            if final_lr is None
            else _in_range("final_lr", final_lr, 0.0, lr, low_open=False, high_open=False)
        )
        warmup = 0
        if name == "warmup-cosine":
            if warmup_epochs is None:
                raise ConfigError(
                    f"the warmup-cosine schedule needs {_flag('warmup_epochs')}, a number of epochs in "
                    f"[0, epochs = {epochs}); got none"
                )
            w = _in_range("warmup_epochs", warmup_epochs, 0.0, epochs, low_open=False, high_open=True)
            # Rounding can bring a fractional warmup up to the whole run; keep >= 1 cosine step.
            warmup = min(round(w * steps_per_epoch), total - 1)
        decay_steps = total - warmup

        def cosine(step: Int[ArrayLike, ""]) -> Float[Array, ""]:
            step = jnp.asarray(step)
            t = jnp.clip((step - warmup) / decay_steps, 0.0, 1.0)
            value = final + (lr - final) * 0.5 * (1.0 + jnp.cos(jnp.pi * t))
            if warmup == 0:  # a Python-level branch: no division by a zero warmup is ever traced
                return value
            return jnp.where(step < warmup, lr * step / warmup, value)

        return cosine

    # one-cycle
    div_factor = 25.0
    if final_lr is None:
        final_div_factor = 1e4
    else:
        final = _in_range("final_lr", final_lr, 0.0, lr, low_open=True, high_open=True)
        final_div_factor = lr / div_factor / final
    return optax.cosine_onecycle_schedule(
        transition_steps=total, peak_value=lr, div_factor=div_factor, final_div_factor=final_div_factor
    )


def current_lr(schedule: optax.Schedule | float, step: int) -> float:
    """The learning rate ``schedule`` gives at ``step``, as a Python float (for logs and plots)."""
    if callable(schedule):
        return float(schedule(check_int("step", step)))
    return float(schedule)


# --- optimizers --------------------------------------------------------------------------------


def make_optimizer(
    name: str,
    schedule: optax.Schedule | float,
    *,
    momentum: float | None = None,
    weight_decay: float | None = None,
    clip_norm: float | None = None,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    rms_decay: float = DEFAULT_RMS_DECAY,
) -> optax.GradientTransformation:
    """The optimizer ``name`` stepping with ``schedule`` (a schedule or a fixed positive rate).

    - ``"sgd"``: ``-lr * g``; ``momentum`` must be None or 0.
    - ``"momentum"``: heavy ball, ``v = momentum * v + g``, update ``-lr * v`` (optax.trace; the
      same rule as ``jax.example_libraries.optimizers.momentum``, which study S1 uses);
      ``momentum`` defaults to 0.9.
    - ``"nesterov"``: the Nesterov form of the same trace (``-lr * (g + momentum * v)``).
    - ``"adam"``, ``"adamw"``: ``optax.scale_by_adam(b1, b2, eps)``; ``momentum`` must be None
      (``b1`` is Adam's momentum).
    - ``"rmsprop"``: ``optax.scale_by_rms(rms_decay, eps)``, plus a heavy-ball trace when
      ``momentum`` is given.

    ``weight_decay`` adds ``weight_decay * theta`` to the scaled update, before the learning rate
    (decoupled; for plain SGD that equals an L2 term of ``weight_decay / 2 * ||theta||**2``). It
    applies to every parameter, biases included, as ``optax.adamw`` does by default. ``None``
    means 1e-4 for "adamw" (optax's default) and 0 for the others; 0 turns it off.
    ``clip_norm`` rescales the gradients to global norm at most ``clip_norm`` before anything else.
    """
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer (--optimizer) {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    learning_rate = schedule if callable(schedule) else _positive("lr", schedule)

    if name == "sgd":
        if momentum is not None and _number("momentum", momentum) != 0:
            raise ConfigError(
                f"{_flag('momentum')} must be unset or 0 for the sgd optimizer; got {momentum!r} "
                "(use --optimizer momentum or nesterov for momentum SGD)"
            )
    elif name in ("adam", "adamw"):
        if momentum is not None:
            raise ConfigError(
                f"{_flag('momentum')} must be unset for the {name} optimizer (its momentum is "
                f"{_flag('b1')}); got {momentum!r}"
            )
    elif momentum is not None:
        _in_range("momentum", momentum, 0.0, 1.0, low_open=False, high_open=True)

    if weight_decay is None:
        weight_decay = DEFAULT_ADAMW_WEIGHT_DECAY if name == "adamw" else 0.0
    weight_decay = _number("weight_decay", weight_decay)
    if weight_decay < 0:
        raise ConfigError(f"{_flag('weight_decay')} must be >= 0; got {weight_decay!r}")

    parts: list[optax.GradientTransformation] = []
    if clip_norm is not None:
        parts.append(optax.clip_by_global_norm(_positive("clip_norm", clip_norm)))

    if name == "sgd":
        pass  # the identity: the gradient is the direction
    elif name in ("momentum", "nesterov"):
        m = DEFAULT_MOMENTUM if momentum is None else float(momentum)
        parts.append(optax.trace(decay=m, nesterov=name == "nesterov"))
    elif name in ("adam", "adamw"):
        b1 = _in_range("b1", b1, 0.0, 1.0, low_open=False, high_open=True)
        b2 = _in_range("b2", b2, 0.0, 1.0, low_open=False, high_open=True)
        parts.append(optax.scale_by_adam(b1=b1, b2=b2, eps=_positive("eps", eps)))
    else:  # rmsprop
        decay = _in_range("rms_decay", rms_decay, 0.0, 1.0, low_open=False, high_open=True)
        parts.append(optax.scale_by_rms(decay=decay, eps=_positive("eps", eps)))
        if momentum is not None:
            # optax.rmsprop applies this trace after the learning rate; before it is the same for a
            # constant rate and keeps the chain's order uniform.
            parts.append(optax.trace(decay=float(momentum)))

    if weight_decay > 0:
        parts.append(optax.add_decayed_weights(weight_decay))
    parts.append(optax.scale_by_learning_rate(learning_rate))
    return optax.chain(*parts)
