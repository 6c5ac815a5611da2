"""The course's studies as runs: one call (or one ``mnistlab study`` command) trains, times,
tabulates and saves a study's comparison.

Study S9 and its follow-ups (see :mod:`mnistlab.scratch` for the implementations):

>>> from mnistlab import studies
>>> result = studies.run_backprop(studies.BackpropConfig(dataset="mnist-sample", epochs=3))
>>> studies.print_summary(result)   # the table; result.out_dir holds results.json, curves.png, ...
"""

from ._backprop import (
    DATASETS,
    FULL_RECIPES,
    IMPLEMENTATIONS,
    LOGISTIC_IMPLEMENTATIONS,
    RESULT_FILES,
    S9_REFERENCE,
    BackpropConfig,
    LogisticConfig,
    OptimizersConfig,
    Recipe,
    StudyData,
    StudyResult,
    check_out,
    load_data,
    parse_skip,
    plot_curves,
    print_summary,
    render_table,
    run_backprop,
    run_logistic,
    run_optimizers,
    save_results,
)

__all__ = [
    "DATASETS",
    "FULL_RECIPES",
    "IMPLEMENTATIONS",
    "LOGISTIC_IMPLEMENTATIONS",
    "RESULT_FILES",
    "S9_REFERENCE",
    "BackpropConfig",
    "LogisticConfig",
    "OptimizersConfig",
    "Recipe",
    "StudyData",
    "StudyResult",
    "check_out",
    "load_data",
    "parse_skip",
    "plot_curves",
    "print_summary",
    "render_table",
    "run_backprop",
    "run_logistic",
    "run_optimizers",
    "save_results",
]
