"""Optimizers by name, Optax style: one small function each, all built as the same chain.

Every optimizer is ``optax.chain(clip?, scaling, decoupled weight decay?, learning rate)``:

- ``clip``: ``optax.clip_by_global_norm(clip_norm)`` on the raw gradients, when asked for;
- ``scaling``: what distinguishes the optimizers (nothing, a heavy-ball trace, Adam or RMS scaling);
- weight decay: ``optax.add_decayed_weights`` AFTER the scaling, so the decay is not divided by
  Adam's or RMSprop's denominators (decoupled, as in AdamW) and not accumulated into momentum;
- ``optax.scale_by_learning_rate(learning_rate)``: the step size (with the minus sign).

With this order "sgd", "momentum", "nesterov", "adam", "adamw" and "rmsprop" reproduce
``optax.sgd``, ``optax.sgd(momentum=...)``, ``optax.sgd(..., nesterov=True)``, ``optax.adam``,
``optax.adamw`` and ``optax.rmsprop`` (the tests check it, bit for bit where the chain is the same).

``weight_decay`` adds ``weight_decay * theta`` to the scaled update, before the learning rate (for
plain SGD that equals an L2 term ``weight_decay / 2 * ||theta||**2``), for every parameter, biases
included, as ``optax.adamw`` does by default; 0 turns it off.

Optax is imported inside the builders, not at the top: the table of names is read by every
``--help`` and config check, which build nothing and should not wait for JAX (1.5 s).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optax

from .._checks import Options, check, label
from .._errors import ConfigError
from ._params import FLAGS, check_param

DEFAULT_MOMENTUM = 0.9
DEFAULT_ADAMW_WEIGHT_DECAY = 1e-4  # optax.adamw's default
DEFAULT_RMS_DECAY = 0.9  # optax.rmsprop's default

LearningRate = "optax.Schedule | float"  # for annotations, which are strings here


def _chain(
    learning_rate: LearningRate,
    scaling: Sequence[optax.GradientTransformation],
    *,
    weight_decay: float,
    clip_norm: float | None,
) -> optax.GradientTransformation:
    """The one chain of every optimizer, its arguments checked against ``PARAM_CONSTRAINTS``."""
    import optax

    if not callable(learning_rate):
        learning_rate = check_param("lr", learning_rate)
    weight_decay = check_param("weight_decay", weight_decay)
    parts = [] if clip_norm is None else [optax.clip_by_global_norm(check_param("clip_norm", clip_norm))]
    parts.extend(scaling)
    if weight_decay > 0:
        parts.append(optax.add_decayed_weights(weight_decay))
    parts.append(optax.scale_by_learning_rate(learning_rate))
    return optax.chain(*parts)


def sgd(learning_rate: LearningRate, *, weight_decay: float = 0.0, clip_norm: float | None = None):
    """``-lr * g``: the gradient is the direction."""
    return _chain(learning_rate, (), weight_decay=weight_decay, clip_norm=clip_norm)


def momentum(
    learning_rate: LearningRate,
    *,
    momentum: float = DEFAULT_MOMENTUM,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
):
    """Heavy ball: ``v = momentum * v + g``, update ``-lr * v`` (``optax.trace``; the rule of
    ``jax.example_libraries.optimizers.momentum``, which study S1 uses)."""
    import optax

    trace = optax.trace(decay=check_param("momentum", momentum), nesterov=False)
    return _chain(learning_rate, (trace,), weight_decay=weight_decay, clip_norm=clip_norm)


def nesterov(
    learning_rate: LearningRate,
    *,
    momentum: float = DEFAULT_MOMENTUM,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
):
    """The Nesterov form of the same trace: update ``-lr * (g + momentum * v)``."""
    import optax

    trace = optax.trace(decay=check_param("momentum", momentum), nesterov=True)
    return _chain(learning_rate, (trace,), weight_decay=weight_decay, clip_norm=clip_norm)


def _scale_by_adam(b1: float, b2: float, eps: float) -> optax.GradientTransformation:
    import optax

    b1, b2, eps = (check_param(p, v) for p, v in (("b1", b1), ("b2", b2), ("eps", eps)))
    return optax.scale_by_adam(b1=b1, b2=b2, eps=eps)


def adam(
    learning_rate: LearningRate,
    *,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
):
    """``optax.scale_by_adam(b1, b2, eps)``; ``b1`` is Adam's momentum."""
    return _chain(
        learning_rate, (_scale_by_adam(b1, b2, eps),), weight_decay=weight_decay, clip_norm=clip_norm
    )


def adamw(
    learning_rate: LearningRate,
    *,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = DEFAULT_ADAMW_WEIGHT_DECAY,
    clip_norm: float | None = None,
):
    """Adam with decoupled weight decay, by default Optax's 1e-4 (0 gives Adam)."""
    return _chain(
        learning_rate, (_scale_by_adam(b1, b2, eps),), weight_decay=weight_decay, clip_norm=clip_norm
    )


def rmsprop(
    learning_rate: LearningRate,
    *,
    rms_decay: float = DEFAULT_RMS_DECAY,
    eps: float = 1e-8,
    momentum: float | None = None,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
):
    """``optax.scale_by_rms(rms_decay, eps)``, then a heavy-ball trace when ``momentum`` is given."""
    import optax

    scaling = [optax.scale_by_rms(decay=check_param("rms_decay", rms_decay), eps=check_param("eps", eps))]
    if momentum is not None:
        # optax.rmsprop applies this trace after the learning rate; before it is the same for a
        # constant rate and keeps the chain's order uniform.
        scaling.append(optax.trace(decay=check_param("momentum", momentum)))
    return _chain(learning_rate, scaling, weight_decay=weight_decay, clip_norm=clip_norm)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: its builder, the parameters it takes and the learning rate used without ``--lr``."""

    name: str
    summary: str
    params: tuple[str, ...]
    default_lr: float
    build: Callable[..., optax.GradientTransformation]


_COMMON, _MOMENTUM = ("weight_decay", "clip_norm"), "momentum"
_ADAM, _RMS = ("b1", "b2", "eps"), ("rms_decay", "eps")
# The default learning rates train the models here well with each optimizer.
OPTIMIZER_SPECS: Mapping[str, OptimizerSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            OptimizerSpec("sgd", "plain gradient descent", _COMMON, 0.1, sgd),
            OptimizerSpec("momentum", "heavy-ball momentum (0.9)", (_MOMENTUM, *_COMMON), 0.01, momentum),
            OptimizerSpec("nesterov", "Nesterov momentum (0.9)", (_MOMENTUM, *_COMMON), 0.01, nesterov),
            OptimizerSpec("adam", "Adam", (*_ADAM, *_COMMON), 1e-3, adam),
            OptimizerSpec("adamw", "Adam, decoupled weight decay (1e-4)", (*_ADAM, *_COMMON), 1e-3, adamw),
            OptimizerSpec("rmsprop", "RMSprop (decay 0.9)", (*_RMS, _MOMENTUM, *_COMMON), 1e-3, rmsprop),
        )
    }
)  # fmt: skip
OPTIMIZERS = tuple(OPTIMIZER_SPECS)


def get_optimizer_spec(name: str) -> OptimizerSpec:
    """The table entry of ``name``; a one-line ConfigError with a "did you mean" otherwise."""
    return OPTIMIZER_SPECS[check("optimizer", name, (Options(OPTIMIZERS),), flag="--optimizer")]


def default_lr(name: str) -> float:
    """The learning rate the optimizer ``name`` uses when none is given."""
    return get_optimizer_spec(name).default_lr


def make_optimizer(
    name: str,
    schedule: LearningRate,
    *,
    momentum: float | None = None,
    weight_decay: float | None = None,
    clip_norm: float | None = None,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    rms_decay: float = DEFAULT_RMS_DECAY,
) -> optax.GradientTransformation:
    """The optimizer ``name`` (one of :data:`OPTIMIZERS`) stepping with ``schedule`` (a schedule or
    a fixed positive rate); the options it does not take are ignored, except ``momentum``:

    - ``"sgd"``: ``momentum`` must be unset or 0 (use "momentum" or "nesterov");
    - ``"momentum"``, ``"nesterov"``: ``momentum`` defaults to 0.9;
    - ``"adam"``, ``"adamw"``: ``momentum`` must be unset (``b1`` is Adam's momentum);
    - ``"rmsprop"``: a heavy-ball trace is added when ``momentum`` is given.

    ``weight_decay=None`` means each optimizer's default (1e-4 for "adamw", else 0);
    ``clip_norm`` rescales the gradients to global norm at most ``clip_norm`` before anything else.
    """
    spec = get_optimizer_spec(name)
    if not callable(schedule):
        schedule = check_param("lr", schedule)
    if momentum is not None:
        momentum = check_param("momentum", momentum)
        if name == "sgd" and momentum != 0:
            raise ConfigError(
                f"{label('momentum', FLAGS['momentum'])} must be unset or 0 for the sgd optimizer; got "
                f"{momentum!r} (use --optimizer momentum or nesterov for momentum SGD)"
            )
        if name in ("adam", "adamw"):
            raise ConfigError(
                f"{label('momentum', FLAGS['momentum'])} must be unset for the {name} optimizer (its "
                f"momentum is {label('b1', FLAGS['b1'])}); got {momentum!r}"
            )
    given = {"b1": b1, "b2": b2, "eps": eps, "rms_decay": rms_decay, "clip_norm": clip_norm}
    given |= {"momentum": momentum, "weight_decay": weight_decay}
    # None = the builder's own default (momentum 0.9, adamw's decay); sgd's momentum 0 is no option.
    kwargs = {p: given[p] for p in spec.params if given[p] is not None}
    return spec.build(schedule, **kwargs)


def optimizer_table() -> list[tuple[str, float, str, str]]:
    """``(name, default lr, parameters, summary)`` per optimizer, for help texts and the README."""
    return [(s.name, s.default_lr, ", ".join(s.params), s.summary) for s in OPTIMIZER_SPECS.values()]


__all__ = [
    "DEFAULT_ADAMW_WEIGHT_DECAY",
    "DEFAULT_MOMENTUM",
    "DEFAULT_RMS_DECAY",
    "OPTIMIZERS",
    "OPTIMIZER_SPECS",
    "OptimizerSpec",
    "adam",
    "adamw",
    "default_lr",
    "get_optimizer_spec",
    "make_optimizer",
    "momentum",
    "nesterov",
    "optimizer_table",
    "rmsprop",
    "sgd",
]
