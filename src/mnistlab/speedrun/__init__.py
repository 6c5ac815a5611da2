"""The speedrun: the fastest honest recipe to a target test accuracy on a CPU, timed cold.

>>> from mnistlab import speedrun
>>> config = speedrun.speedrun_config("mnist", seed=0)     # the shipped recipe as a TrainConfig
>>> result, seconds = speedrun.timed_run(config, data_dir="../shared/data")

The recipes are config files (:data:`CONFIG_DIR`, one per dataset in :data:`RECIPES`) of the
registered model ``"speedrun"``; ``mnistlab train --config <file>`` runs one like any other
config, and ``mnistlab speedrun`` runs it with the clock (see :func:`speedrun_record`).
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
    "speedrun_config",
    "speedrun_record",
    "timed_run",
    "write_record",
]
