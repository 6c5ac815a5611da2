"""Scoring a trained run: reload it from its folder, evaluate on any split, predict new images."""

from ._run import LoadedRun, evaluate_run, load_run, predict_files, predict_proba

__all__ = ["LoadedRun", "evaluate_run", "load_run", "predict_files", "predict_proba"]
