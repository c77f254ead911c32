"""Pick the best trial of an optimization stage, and the number of epochs to train it for.

Two independent selections, as in the reference:

* **best-value**: the single best reported value of the target metric among epochs that pass every overtraining
  condition.
* **best-fit**: every metric the decision needs (the target, and the inputs of the overtraining conditions) is
  fitted as a function of the epoch (``fit_function`` hook; built-in: a/x² + b/x + c·x² + d·x + e). Trials with a
  fit below ``fit_min_R_squared`` (or too short to fit) are skipped. The best trial is the one with the best
  fitted target at an epoch that passes the overtraining conditions, evaluated on the fitted values
  (``check_overtraining_with_fit``) or on the raw ones.

When no trial can be fitted, best-fit is reported as unavailable (with the reason) instead of failing the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optima_core.builtin.fit import r_squared
from optima_core.training.loop import VALID_COLUMN
from optima_core.training.monitor import is_better


@dataclass
class TrialHistory:
    """What one trial reported, one row per epoch (column ``epoch``)."""

    trial_id: str
    config: dict[str, Any]
    frame: Any  # pandas.DataFrame


@dataclass
class Selection:
    kind: str  # "best-value" or "best-fit"
    trial_id: str
    config: dict[str, Any]
    epoch: int
    value: float
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self, metric: str) -> str:
        return f"{self.kind}: trial {self.trial_id}, {metric} = {self.value:.6g} at epoch {self.epoch}"


def best_value(trials: Sequence[TrialHistory], metric: str, mode: str) -> Selection | None:
    """The best single epoch over all trials, among epochs that passed the overtraining conditions."""
    best: Selection | None = None
    for trial in trials:
        frame = trial.frame
        if frame is None or metric not in frame or len(frame) == 0:
            continue
        valid = frame[frame[VALID_COLUMN].astype(bool)] if VALID_COLUMN in frame else frame
        values = valid[metric].astype(float)
        values = values[np.isfinite(values)]
        if values.empty:
            continue
        index = values.idxmin() if mode == "min" else values.idxmax()
        value = float(values.loc[index])
        if is_better(value, best.value if best else None, mode):
            best = Selection("best-value", trial.trial_id, trial.config, int(valid.loc[index, "epoch"]), value)
    return best


def _condition_inputs(conditions: Sequence[tuple[str, Sequence[str], Callable[..., Any]]]) -> list[str]:
    names: list[str] = []
    for _, inputs, _ in conditions:
        names.extend(n for n in inputs if n not in names)
    return names


def fit_trial(
    trial: TrialHistory,
    metric: str,
    mode: str,
    conditions: Sequence[tuple[str, Sequence[str], Callable[..., Any]]],
    fit: Callable[..., Any],
    min_r_squared: float,
    check_overtraining_with_fit: bool,
) -> tuple[int, float] | str:
    """(best epoch, fitted value) of one trial, or the reason it cannot be fitted."""
    frame = trial.frame.copy()
    frame["training_iteration"] = frame["epoch"]
    to_fit = [metric] + (
        [n for n in _condition_inputs(conditions) if n != metric] if check_overtraining_with_fit else []
    )
    epochs = frame["epoch"].to_numpy(dtype=float)
    fitted: dict[str, np.ndarray] = {}
    for name in to_fit:
        if name not in frame:
            return f"metric '{name}' was not reported"
        function = fit(frame, name, mode if name == metric else None, list(conditions))
        if function is None:
            return f"'{name}' could not be fitted (too few epochs: {len(frame)})"
        raw = frame[name].to_numpy(dtype=float)
        finite = np.isfinite(raw)
        r2 = r_squared(function, epochs[finite], raw[finite])
        if not math.isfinite(r2) or r2 < min_r_squared:
            return f"fit of '{name}' has R² = {r2:.3g} < fit_min_R_squared = {min_r_squared}"
        fitted[name] = np.asarray(function(epochs), dtype=float)
    if check_overtraining_with_fit and conditions:
        valid = np.ones(len(epochs), dtype=bool)
        for index in range(len(epochs)):
            values = {n: fitted[n][index] for n in fitted}
            valid[index] = not any(bool(f(*[values[n] for n in inputs])) for _, inputs, f in conditions)
    elif VALID_COLUMN in frame:
        valid = frame[VALID_COLUMN].astype(bool).to_numpy()
    else:
        valid = np.ones(len(epochs), dtype=bool)
    target = np.where(valid & np.isfinite(fitted[metric]), fitted[metric], np.nan)
    if np.all(np.isnan(target)):
        return "no epoch passes the overtraining conditions"
    index = int(np.nanargmin(target) if mode == "min" else np.nanargmax(target))
    return int(epochs[index]), float(target[index])


def best_fit(
    trials: Sequence[TrialHistory],
    metric: str,
    mode: str,
    conditions: Sequence[tuple[str, Sequence[str], Callable[..., Any]]],
    fit: Callable[..., Any],
    min_r_squared: float,
    check_overtraining_with_fit: bool,
) -> tuple[Selection | None, dict[str, str]]:
    """The best fitted trial, and for every skipped trial the reason."""
    best: Selection | None = None
    skipped: dict[str, str] = {}
    for trial in trials:
        if trial.frame is None or len(trial.frame) == 0:
            skipped[trial.trial_id] = "no results"
            continue
        outcome = fit_trial(trial, metric, mode, conditions, fit, min_r_squared, check_overtraining_with_fit)
        if isinstance(outcome, str):
            skipped[trial.trial_id] = outcome
            continue
        epoch, value = outcome
        if is_better(value, best.value if best else None, mode):
            best = Selection("best-fit", trial.trial_id, trial.config, epoch, value)
    return best, skipped
