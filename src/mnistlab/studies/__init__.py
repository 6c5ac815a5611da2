"""The course's studies as runs: one call (or one ``mnistlab study`` command) trains, times,
tabulates and saves a study's comparison.

The twelve studies of ``studies.md`` by name or S-number (:data:`CATALOG`, :func:`listing`):

>>> from mnistlab import studies
>>> result = studies.run("tanh-mlp", dataset="mnist", out="studies/s4")   # or "s4"; quick=True
>>> result                      # StudyRun('tanh-mlp', 1 run, 3 of 3 reference points within noise ...)
>>> result.verdicts, result.runs["tanh"].path, result.report            # report.html, study.json

A study is one module declaring a :class:`TrainStudy` (base config, sweep :class:`Member` s,
:class:`Reference` numbers, figures, an optional analysis) and one line in :data:`CATALOG`.

Study S9 and its follow-ups (see :mod:`mnistlab.scratch` for the implementations):

>>> from mnistlab import studies
>>> result = studies.run_backprop(studies.BackpropConfig(dataset="mnist-sample", epochs=3))
>>> studies.print_summary(result)   # the table; result.out_dir holds results.json, curves.png, ...

Every study by name (:func:`study_names`, :func:`get_study`):

>>> study = studies.get_study("backprop")          # or "s9"
>>> result = study.run(study.config(dataset="mnist-sample", epochs=1), save=False)

Layout: ``_config`` (options declared as data, one validator), ``_runner`` (data, the shared
start, timing, the record), ``_output`` (folder, figure, table), one module per study
(``_backprop``, ``_logistic``, ``_optimizers``) and ``_registry`` (the table of studies).
"""

from .._lazy import lazy_names
from ._backprop import (
    FULL_RECIPES,
    IMPLEMENTATIONS,
    MAX_EINSUM_BATCH,
    S9_REFERENCE,
    BackpropConfig,
    run_backprop,
)
from ._config import (
    DATASETS,
    DTYPES,
    MAX_BATCH_SIZE,
    MAX_EINSUM_STEPS,
    MAX_EPOCHS,
    Recipe,
    constraints,
    flag,
    parse_skip,
)
from ._execute import KeepBest, RunView
from ._logistic import LOGISTIC_IMPLEMENTATIONS, LogisticConfig, run_logistic
from ._optimizers import OptimizersConfig, run_optimizers
from ._output import (
    RESULT_FILES,
    check_out,
    curves_csv,
    default_out,
    plot_curves,
    print_summary,
    render_table,
    results_csv,
    save_results,
)
from ._registry import STUDIES, Study, get_study, study_names
from ._run import StudyRun, run_study
from ._runner import (
    Comparison,
    RowContext,
    StudyData,
    StudyResult,
    load_data,
    record,
    run_comparison,
    trained_row,
)
from ._spec import Member, Reference, TrainStudy
from ._verdict import NOISE_RULE, verdict

# The catalogue builds every study's TrainConfig, and checking those reads the model and optimizer
# registries (JAX, Flax): loaded on first use, so that `mnistlab --help` and the per-study commands
# start without them.
_LAZY = {
    "CATALOG": ("_catalog", "CATALOG"),
    "FOLLOW_UPS": ("_catalog", "FOLLOW_UPS"),
    "catalog_names": ("_catalog", "catalog_names"),
    "listing": ("_catalog", "listing"),
    "run": ("_catalog", "run"),
    "find_study": ("_catalog", "find"),
    "denoise": ("_s11_denoise", "denoise"),
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)


__all__ = [
    "CATALOG",
    "DATASETS",
    "DTYPES",
    "FOLLOW_UPS",
    "FULL_RECIPES",
    "IMPLEMENTATIONS",
    "LOGISTIC_IMPLEMENTATIONS",
    "MAX_BATCH_SIZE",
    "MAX_EINSUM_BATCH",
    "MAX_EINSUM_STEPS",
    "MAX_EPOCHS",
    "NOISE_RULE",
    "RESULT_FILES",
    "S9_REFERENCE",
    "STUDIES",
    "BackpropConfig",
    "Comparison",
    "KeepBest",
    "LogisticConfig",
    "Member",
    "OptimizersConfig",
    "Recipe",
    "Reference",
    "RowContext",
    "RunView",
    "Study",
    "StudyData",
    "StudyResult",
    "StudyRun",
    "TrainStudy",
    "catalog_names",
    "check_out",
    "constraints",
    "curves_csv",
    "default_out",
    "denoise",
    "find_study",
    "flag",
    "get_study",
    "listing",
    "load_data",
    "parse_skip",
    "plot_curves",
    "print_summary",
    "record",
    "render_table",
    "results_csv",
    "run",
    "run_backprop",
    "run_comparison",
    "run_logistic",
    "run_optimizers",
    "run_study",
    "save_results",
    "study_names",
    "trained_row",
    "verdict",
]
