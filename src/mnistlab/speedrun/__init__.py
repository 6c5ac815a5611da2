"""The speedrun: the fastest honest recipe to a target test accuracy on a CPU, timed cold.

>>> from mnistlab import speedrun
>>> config = speedrun.speedrun_config("mnist", seed=0)     # the shipped recipe as a TrainConfig
>>> result, seconds = speedrun.timed_run(config, data_dir="../shared/data")

The recipes are config files (:data:`CONFIG_DIR`, one per dataset in :data:`RECIPES`) of the
registered model ``"speedrun"``; ``mnistlab train --config <file>`` runs one like any other
config, and ``mnistlab speedrun`` runs it with the clock (see :func:`speedrun_record`).

How the recipe was chosen (issue 12). Every choice was made on a validation split: a fixed
shuffle of the 60,000 training images, the last 5,000 held out, training on the other 55,000,
seed 0; the test set only scores the finished runs. Validation accuracy after the last epoch,
Adam with a one-cycle schedule, batch 256 unless said (``cs2`` = a 5x5 stride-2 first conv,
``p`` = 2x2 max-pool, ``d128`` = a dense layer before the output):

=========================================  ======  =====  ======  ==========
layers                                     epochs  lr     batch   validation
=========================================  ======  =====  ======  ==========
conv32 cs2, p, conv64k3, d128              2       0.003          98.28%
conv32 cs2, p, conv64k3, d128              2       0.005  128     98.66%
conv32 cs2, p, conv64k3, d128              2       0.01           98.70%
conv32 cs2, p, conv64k3, d128              2       0.02           98.80%
conv32 cs2, p, conv64k3, d128              2       0.04           98.56%
same, LayerNorm after each conv            2       0.01           98.76%
same, LayerNorm after each conv            2       0.03           98.82%
conv48 cs2, p, conv96k3, d128 (2x flops)   2       0.01           98.80%
conv32 cs2, p, conv64k3, d256              2       0.01   512     98.60%
conv32 cs2, p, conv64k3same, p, d128       2       0.01           98.66%
conv24 cs2, conv48k3s2, d128               2       0.005          98.32%
nchw conv32k4s4, conv64k3, d128            2       0.005          98.28%
conv32 cs2, p, conv64k3, d128              3       0.01           98.94%
conv32 cs2, p, conv64k3, d128              3       0.02           98.88%
**conv24 cs2, p, conv48k3, d128**          3       0.02           **99.06%**
=========================================  ======  =====  ======  ==========

So: two epochs of any of these stay under 99% (a higher learning rate helps up to 0.02);
LayerNorm gains little for its cost; the third epoch is what crosses 99%, and the 24/48-channel
net, two thirds of the 32/64 one's flops, does it at least as well.

Fashion-MNIST, the same split and protocol:

=========================================  ======  =====  ==========
layers                                     epochs  lr     validation
=========================================  ======  =====  ==========
conv32 cs2, p, conv64k3, d128              2       0.02   89.70%
conv32 cs2, p, conv64k3, d128              3       0.02   90.52%
conv32 cs2, p, conv64k3, d128              5       0.01   90.78%
**conv48 cs2, p, conv96k3, d128**          5       0.01   **91.38%**
=========================================  ======  =====  ==========

Clothing needs both: more epochs and more channels; only the wider net for five epochs is over
91% on validation. It is the slowest recipe (about 4x the MNIST one's training flops).

Tried again (2026-12, a faster machine of the same kind, so the recipe fits the 20 s budget;
seed 0 unless said; the shipped recipe measured 91.24% and 91.28% with seed 1 in this round):

=============================================  ======  =====  =====  ==========
change to the Fashion-MNIST recipe             epochs  lr     batch  validation
=============================================  ======  =====  =====  ==========
random horizontal flips                        5       0.01          90.92%
  ... scored on the image and its mirror       5       0.01          91.16%
label smoothing 0.1 (seeds 0, 1)               5       0.01          91.26, 91.40%
d256                                           5       0.01          91.36%
batch 512                                      5       0.015  512    91.06%
four epochs                                    4       0.01          90.82%
conv40 cs2, p, conv80k3, d128                  5       0.01          90.78%
conv32 cs2, p, conv64k3, d128                  7       0.01          90.90%
conv24 cs2, p, conv48k3, d128 (MNIST's)        6       0.02          90.98%
conv24 cs2, p, conv48k3, d128 (MNIST's)        9       0.02          90.80%
=============================================  ======  =====  =====  ==========

None beats the recipe by more than seed noise in five epochs: flips slow the learning more than
they regularise it (the mirror-averaged score only wins part of it back), and the net is not
short of width or steps.

Single-seed validation numbers move by about 0.1 point between seeds, so the rows above rank
recipes only roughly; the shipped ones were then run over 5 seeds (``bench/speedrun.py``).
The validation runs drew the initial weights with Flax's default (LeCun-normal); the shipped
``speedrun`` model draws LeCun-uniform weights of the same variance from a hash (its docstring
says why), which the 5-seed test runs then measured.

What is not in the recipe, and why: batch norm and an EMA of the weights need training state
beyond parameters and optimizer state, which the engine does not have yet; flips and label
smoothing were measured (above) and do not pay in five epochs.

The timed run (``mnistlab speedrun``) trains the recipe through :func:`score_once`: its epochs as
one chunk of steps, the test set scored once at the end, the parameters the same.
"""

from ._recipe import (
    BUDGET_SECONDS,
    CONFIG_DIR,
    RECIPES,
    RECORD_FILE,
    STRETCH,
    TARGETS,
    config_path,
    default_target,
    describe,
    score_once,
    speedrun_config,
    speedrun_record,
    timed_run,
    write_record,
)

__all__ = [
    "BUDGET_SECONDS",
    "CONFIG_DIR",
    "RECIPES",
    "RECORD_FILE",
    "STRETCH",
    "TARGETS",
    "config_path",
    "default_target",
    "describe",
    "score_once",
    "speedrun_config",
    "speedrun_record",
    "timed_run",
    "write_record",
]
