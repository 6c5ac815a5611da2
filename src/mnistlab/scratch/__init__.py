"""Study S9 from scratch: one fully connected network written three ways, and a baseline.

The [500, 250] ReLU network with softmax + cross-entropy and S9's initialisation, trained by SGD
with per-epoch annealing (``lr *= anneal`` after each epoch):

(a) NumPy with hand-written forward and backward passes (``numpy_loss_and_grad``; ``form=
    "batched"`` matrix products, or ``"einsum"`` per-example outer products to show their cost),
(b) the same hand-written passes in JAX (``jax_manual_loss_and_grad``), one jitted epoch,
(c) JAX with ``jax.grad`` (``jax_autograd_loss_and_grad``), one jitted epoch,

plus scikit-learn's ``MLPClassifier`` with S9's settings (``SklearnTrainer``). All functions are
pure: parameters (a tuple of :class:`Layer`) go in and come out. The three implementations share
ONE draw of initial parameters and ONE batch order:

>>> import jax
>>> from mnistlab import scratch
>>> init_key, order_key = jax.random.split(jax.random.key(0))
>>> params = scratch.init_params(init_key)                       # NumPy arrays, drawn once
>>> plan = scratch.batch_plan(order_key, n=60_000, batch_size=100, epochs=3)
>>> lrs = scratch.lr_schedule(0.1, 0.99, 3)
>>> result = scratch.train(scratch.JaxTrainer("manual"), params, x, y, plan, lrs)
"""

from ._common import (
    DTYPES,
    HIDDEN,
    SIZES,
    BatchPlan,
    Layer,
    Params,
    as_numpy,
    batch_plan,
    check_dtype,
    init_params,
    lr_schedule,
    num_params,
    precision,
    run_once,
)
from ._jax import METHODS
from ._jax import autograd_loss_and_grad as jax_autograd_loss_and_grad
from ._jax import forward as jax_forward
from ._jax import loss as jax_loss
from ._jax import manual_loss_and_grad as jax_manual_loss_and_grad
from ._jax import optimizer_epoch as jax_optimizer_epoch
from ._jax import sgd_epoch as jax_sgd_epoch
from ._numpy import FORMS
from ._numpy import evaluate as numpy_evaluate
from ._numpy import forward as numpy_forward
from ._numpy import loss_and_grad as numpy_loss_and_grad
from ._numpy import predict as numpy_predict
from ._numpy import sgd_epoch as numpy_sgd_epoch
from ._sklearn import SKLEARN_S9, SklearnTrainer, make_classifier
from ._train import JaxTrainer, NumpyTrainer, TrainResult, time_predict, train

__all__ = [
    "DTYPES",
    "FORMS",
    "HIDDEN",
    "METHODS",
    "SIZES",
    "SKLEARN_S9",
    "BatchPlan",
    "JaxTrainer",
    "Layer",
    "NumpyTrainer",
    "Params",
    "SklearnTrainer",
    "TrainResult",
    "as_numpy",
    "batch_plan",
    "check_dtype",
    "init_params",
    "jax_autograd_loss_and_grad",
    "jax_forward",
    "jax_loss",
    "jax_manual_loss_and_grad",
    "jax_optimizer_epoch",
    "jax_sgd_epoch",
    "lr_schedule",
    "make_classifier",
    "num_params",
    "numpy_evaluate",
    "numpy_forward",
    "numpy_loss_and_grad",
    "numpy_predict",
    "numpy_sgd_epoch",
    "precision",
    "run_once",
    "time_predict",
    "train",
]
