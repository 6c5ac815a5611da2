"""Results folders: the run folder (:class:`RunDir`), the config it is made from, and the records
every results folder keeps.

    run = RunDir.open("runs/20261123-101500-cnn-mnist")
    run.config.lr, run.info["status"], run.metrics()[-1]["test_accuracy"]
"""

from ._checkpoint import load as load_checkpoint
from ._checkpoint import save as save_checkpoint
from ._config import (
    DTYPES,
    LOSSES,
    MAX_SEEDS,
    PREPROCESS,
    Param,
    TrainConfig,
    check_consistent,
    flag,
    from_dict,
    load_toml,
    params,
    resolve,
    to_toml,
)
from ._files import csv_bytes, device_info, finite, now, run_image_shape, versions, write_json
from ._rundir import (
    CHECKPOINT,
    CONFIG,
    CONFIG_HEADER,
    PARAMS,
    RUN_JSON,
    RunDir,
    check_out,
    format_seeds,
    mean_std,
)

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "CONFIG_HEADER",
    "DTYPES",
    "LOSSES",
    "MAX_SEEDS",
    "PARAMS",
    "PREPROCESS",
    "RUN_JSON",
    "Param",
    "RunDir",
    "TrainConfig",
    "check_consistent",
    "check_out",
    "csv_bytes",
    "device_info",
    "finite",
    "flag",
    "format_seeds",
    "from_dict",
    "load_checkpoint",
    "load_toml",
    "mean_std",
    "now",
    "params",
    "resolve",
    "run_image_shape",
    "save_checkpoint",
    "to_toml",
    "versions",
    "write_json",
]
