"""Progress a person can read: one line per finished trial with its metric, the best so far and an ETA.

Replaces Tune's periodic tables (Tune runs with ``verbose=0``); Tune's full logs stay in the output folder.

In an optimization stage (``at_best_epoch=True``) a trial's value is the one trial selection uses: the selection
metric at the trial's best valid epoch (:func:`optima_core.selection.best_epoch`), and the line says so; the best
so far is therefore what ``selection.json`` calls best-value once the stage ends. Otherwise (cross-validation
folds) the line shows the metric of the last epoch.
"""

from __future__ import annotations

import math
import time
from typing import Any, TextIO

from ray import tune

from optima_core.logs import say
from optima_core.selection import best_epoch
from optima_core.training.loop import VALID_COLUMN, diverged
from optima_core.training.monitor import is_better


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _shown(value: Any) -> str:
    return f"{value:.5g}" if isinstance(value, (int, float)) and math.isfinite(value) else str(value)


class ProgressPrinter(tune.Callback):
    """Prints a line when a trial finishes or fails.

    ``metric`` is the column shown; with ``at_best_epoch`` its value at the trial's best valid epoch (as selection
    defines it), else its last value. ``metric_label`` names the value in the line.
    """

    def __init__(
        self,
        total: int,
        metric: str,
        mode: str,
        label: str = "trial",
        stream: TextIO | None = None,
        metric_label: str | None = None,
        at_best_epoch: bool = False,
    ) -> None:
        self.total = total
        self.metric = metric
        self.at_best_epoch = at_best_epoch
        self.metric_label = metric_label or (f"{metric} at its best valid epoch" if at_best_epoch else metric)
        self.mode = mode
        self.label = label
        self.stream = stream  # resolved when printing: Tune pickles callbacks with the experiment state
        self.start = time.monotonic()
        self.done = 0
        self.failed = 0
        self.best: tuple[float, str, int | None] | None = None
        self.last: dict[str, dict[str, Any]] = {}
        #: per trial: epoch -> (metric, valid); a repeated epoch (a resumed trial) keeps its last report
        self.epochs: dict[str, dict[int, tuple[Any, Any]]] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A printer pickled by an older OPTIMA (an experiment resumed after an update) lacks these.
        state.setdefault("at_best_epoch", False)
        state.setdefault("epochs", {})
        self.__dict__.update(state)

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        self.last[trial.trial_id] = result
        epoch = result.get("epoch", result.get("training_iteration"))
        if isinstance(epoch, (int, float)):
            self.epochs.setdefault(trial.trial_id, {})[int(epoch)] = (result.get(self.metric), result.get(VALID_COLUMN))

    def _value(self, trial_id: str) -> tuple[Any, int | None]:
        """The value shown for a trial and its epoch (``None``: the last epoch)."""
        if not self.at_best_epoch:
            return self.last.get(trial_id, {}).get(self.metric), None
        rows = self.epochs.get(trial_id, {})
        found = best_epoch(((epoch, value, valid) for epoch, (value, valid) in sorted(rows.items())), self.mode)
        return (None, None) if found is None else (found[1], found[0])

    def _eta(self) -> str:
        if self.done == 0 or self.done >= self.total:
            return ""
        remaining = (time.monotonic() - self.start) / self.done * (self.total - self.done)
        return f", ETA {_duration(remaining)}"

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.done += 1
        result = self.last.get(trial.trial_id, {})
        value, at_epoch = self._value(trial.trial_id)
        epochs = result.get("epoch", result.get("training_iteration", "?"))
        epochs = int(epochs) if isinstance(epochs, float) else epochs
        where = f" (epoch {at_epoch})" if at_epoch is not None else ""
        text, verb = f"{self.metric_label} = {_shown(value)}{where}", "finished"
        if value is None and self.at_best_epoch:
            text = f"{self.metric_label}: none (no valid epoch)"
        if diverged(result):
            self.failed += 1
            text, verb = "training diverged (the monitored metric became NaN or infinite)", "FAILED"
        self._update_best(trial.trial_id, value, at_epoch)
        elapsed = _duration(time.monotonic() - self.start)
        say(
            f"[{self.done}/{self.total}] {self.label} {trial.trial_id} {verb} after {epochs} epochs: {text}; "
            f"{self._best_text()}; elapsed {elapsed}{self._eta()}",
            self.stream,
        )

    def _update_best(self, trial_id: str, value: Any, at_epoch: int | None) -> None:
        if (
            isinstance(value, (int, float))
            and math.isfinite(value)
            and is_better(value, self.best[0] if self.best else None, self.mode)
        ):
            self.best = (float(value), trial_id, at_epoch)

    def _best_text(self) -> str:
        if not self.best:
            return "no valid result yet"
        epoch_note = f", epoch {self.best[2]}" if self.best[2] is not None else ""
        return f"best {self.best[0]:.5g} ({self.best[1]}{epoch_note})"

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.done += 1
        self.failed += 1
        if self.at_best_epoch:  # the epochs it finished count for selection, as the ones of any other trial
            self._update_best(trial.trial_id, *self._value(trial.trial_id))
        error = getattr(trial, "error_file", None) or ""
        say(
            f"[{self.done}/{self.total}] {self.label} {trial.trial_id} FAILED (details: {error}); {self._best_text()}",
            self.stream,
        )
