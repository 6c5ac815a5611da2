"""Watch a run learn: a training callback that redraws its learning curves after every epoch.

A callback is any function ``callback(record, history, state)`` given to ``train.train``,
``train.resume`` or ``train.fit``. It is called after each epoch has been checkpointed, with the
epoch's record (the dict written to metrics.jsonl), the history so far and the training state;
returning True stops the run after that epoch (status "stopped"; ``train.resume`` continues it).

In a notebook (Jupyter, VS Code, Colab) the figure is redrawn in place under the cell; as a
script it prints a line per epoch and saves the last figure to live_plot.png. Offline, on the
bundled MNIST sample, in a few seconds:

    python examples/live_plot.py              # 8 epochs, or fewer: it stops at 90% test accuracy

In a notebook::

    from live_plot import LivePlot, stop_at
    result = train.train(config, callbacks=[LivePlot(), stop_at(0.95)])
"""

from __future__ import annotations

import sys

import numpy as np

from mnistlab import plots, train


class LivePlot:
    """Keeps every epoch's record and redraws the learning curves (and every step's loss).

    Uses IPython's display when running under IPython, otherwise prints one line per epoch.
    """

    def __init__(self, title: str = "training, live"):
        self.title = title
        self.records: list[dict] = []
        self.figure = None
        self._show = None
        try:
            from IPython import get_ipython
            from IPython.display import clear_output, display
        except ImportError:
            return
        if get_ipython() is not None:
            self._show = (display, clear_output)

    def __call__(self, record, history, state):
        self.records.append(record)
        # Every step's loss so far, (seeds, steps): the history holds one array per epoch.
        steps = np.concatenate(history.step_loss, axis=1)
        self.figure = plots.learning_curves(self.records, title=self.title, step_loss=steps)
        if self._show is not None:
            display, clear_output = self._show
            clear_output(wait=True)  # replace the previous figure instead of stacking them
            display(self.figure)
        else:
            loss, acc = np.mean(record["train_loss"]), np.mean(record["test_accuracy"])
            print(f"epoch {record['epoch']}: train loss {loss:.4f}, test accuracy {acc:.2%}")
        return None  # never stops the run; see stop_at for one that does


def stop_at(accuracy: float):
    """A callback that stops the run once the mean test accuracy reaches ``accuracy``."""

    def stop_at_accuracy(record, history, state):
        return float(np.mean(record["test_accuracy"])) >= accuracy

    return stop_at_accuracy


def main() -> int:
    config = train.TrainConfig(dataset="mnist-sample", model="mlp", widths=(64,), epochs=8, seeds=(0,))
    live = LivePlot(title="mlp on the MNIST sample")
    result = train.train(config, quiet=True, callbacks=[live, stop_at(0.90)])
    print(f"{result.status}: {result.message or 'all epochs done'}")
    plots.save(live.figure, "live_plot.png")
    print(f"run {result.run_dir}; figure live_plot.png")
    return 0 if result.status in ("completed", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
