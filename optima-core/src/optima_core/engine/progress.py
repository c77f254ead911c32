"""Progress a person can read: one line per finished trial with its metric, the best so far and an ETA.

Replaces Tune's periodic tables (Tune runs with ``verbose=0``); Tune's full logs stay in the output folder.
"""

from __future__ import annotations

import math
import time
from typing import Any, TextIO

from ray import tune

from optima_core.logs import say
from optima_core.training.loop import diverged
from optima_core.training.monitor import is_better


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressPrinter(tune.Callback):
    """Prints a line when a trial finishes or fails."""

    def __init__(
        self,
        total: int,
        metric: str,
        mode: str,
        label: str = "trial",
        stream: TextIO | None = None,
        metric_label: str | None = None,
    ) -> None:
        self.total = total
        self.metric = metric
        self.metric_label = metric_label or metric
        self.mode = mode
        self.label = label
        self.stream = stream  # resolved when printing: Tune pickles callbacks with the experiment state
        self.start = time.monotonic()
        self.done = 0
        self.failed = 0
        self.best: tuple[float, str] | None = None
        self.last: dict[str, dict[str, Any]] = {}

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        self.last[trial.trial_id] = result

    def _eta(self) -> str:
        if self.done == 0 or self.done >= self.total:
            return ""
        remaining = (time.monotonic() - self.start) / self.done * (self.total - self.done)
        return f", ETA {_duration(remaining)}"

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.done += 1
        result = self.last.get(trial.trial_id, {})
        value = result.get(self.metric)
        epochs = result.get("epoch", result.get("training_iteration", "?"))
        epochs = int(epochs) if isinstance(epochs, float) else epochs
        shown = f"{value:.5g}" if isinstance(value, (int, float)) and math.isfinite(value) else str(value)
        text, verb = f"{self.metric_label} = {shown}", "finished"
        if diverged(result):
            self.failed += 1
            text, verb = "training diverged (the monitored metric became NaN or infinite)", "FAILED"
        if (
            isinstance(value, (int, float))
            and math.isfinite(value)
            and is_better(value, self.best[0] if self.best else None, self.mode)
        ):
            self.best = (float(value), trial.trial_id)
        best = f"best {self.best[0]:.5g} ({self.best[1]})" if self.best else "no valid result yet"
        elapsed = _duration(time.monotonic() - self.start)
        say(
            f"[{self.done}/{self.total}] {self.label} {trial.trial_id} {verb} after {epochs} epochs: {text}; "
            f"{best}; elapsed {elapsed}{self._eta()}",
            self.stream,
        )

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.done += 1
        self.failed += 1
        error = getattr(trial, "error_file", None) or ""
        say(
            f"[{self.done}/{self.total}] {self.label} {trial.trial_id} FAILED (details: {error})",
            self.stream,
        )
