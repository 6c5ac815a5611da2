"""Results folders: the run folder (:class:`RunDir`), the config it is made from, and the records
every results folder keeps.

    run = RunDir.open("runs/20261123-101500-cnn-mnist")
    run.config.lr, run.info["status"], run.metrics()[-1]["test_accuracy"]
"""

from .._lazy import lazy_names
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

# The config is what every command parses; the run folder's modules need NumPy, which
# `mnistlab --help` and `mnistlab data list` never load: they are imported on first use.
_LAZY = {
    "load_checkpoint": ("_checkpoint", "load"),
    "save_checkpoint": ("_checkpoint", "save"),
    **{
        name: ("_files", name)
        for name in ("csv_bytes", "device_info", "finite", "now", "run_image_shape", "versions", "write_json")
    },
    **{
        name: ("_rundir", name)
        for name in (
            "CHECKPOINT",
            "CONFIG",
            "CONFIG_HEADER",
            "PARAMS",
            "RUN_JSON",
            "RunDir",
            "check_out",
            "format_seeds",
            "mean_std",
        )
    },
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)


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
