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

A trial's *best epoch* (:func:`best_epoch`) is defined here once: the best finite value of the target metric
among the epochs that pass every overtraining condition (the first on ties). Best-value selection, the progress
lines, the search overview and ``trials.json`` all show that value, so they agree. Each selection carries one
sentence saying why it was picked (``details["reason"]``; best-fit also the fit's numbers, ``details["fit"]``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
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

    @property
    def reason(self) -> str:
        """One sentence: why this trial and epoch were picked."""
        return str(self.details.get("reason", ""))


def _extreme(mode: str) -> str:
    return "lowest" if mode == "min" else "highest"


def best_epoch(rows: Iterable[tuple[Any, Any, Any]], mode: str) -> tuple[int, float] | None:
    """A trial's best epoch as selection defines it, from ``(epoch, value, valid)`` rows; ``None`` if none counts.

    The best finite ``value`` among rows whose ``valid`` is true (``None`` counts as valid: nothing was checked);
    the first such row on ties.
    """
    best: tuple[int, float] | None = None
    for epoch, value, valid in rows:
        if valid is not None and not bool(valid):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and is_better(number, best[1] if best else None, mode):
            best = (int(epoch), number)
    return best


def trial_best_epoch(frame: Any, metric: str, mode: str) -> tuple[int, float] | None:
    """:func:`best_epoch` of one trial's history (a DataFrame with ``epoch``, ``metric`` and maybe the validity)."""
    if frame is None or metric not in frame or "epoch" not in frame or len(frame) == 0:
        return None
    valid = frame[VALID_COLUMN] if VALID_COLUMN in frame else [None] * len(frame)
    return best_epoch(zip(frame["epoch"], frame[metric], valid, strict=True), mode)


def best_value(trials: Sequence[TrialHistory], metric: str, mode: str) -> Selection | None:
    """The best single epoch over all trials, among epochs that passed the overtraining conditions."""
    best: Selection | None = None
    for trial in trials:
        found = trial_best_epoch(trial.frame, metric, mode)
        if found is None:
            continue
        epoch, value = found
        if is_better(value, best.value if best else None, mode):
            best = Selection("best-value", trial.trial_id, trial.config, epoch, value)
    if best is not None:
        best.details["reason"] = (
            f"{_extreme(mode)} {metric} over all epochs of all trials (epochs failing an overtraining condition "
            f"are not counted): trial {best.trial_id}, epoch {best.epoch}"
        )
    return best


def objective_note(metric: str, optimize_on_best_value: bool, optimizer: str = "Optuna") -> str | None:
    """Why the optimizer's ranking may differ from best-value's, or ``None`` when both rank the same value."""
    if optimize_on_best_value:
        return None
    return (
        f"{optimizer} ranks each trial by {metric} at its last valid epoch (optimize_on_best_value = False), "
        f"while best-value picks the best valid epoch of all trials, so {optimizer}'s best trial may differ "
        "from the selection by design"
    )


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
) -> tuple[int, float, dict[str, Any]] | str:
    """(best epoch, fitted value, the fit's numbers) of one trial, or the reason it cannot be fitted."""
    frame = trial.frame.copy()
    frame["training_iteration"] = frame["epoch"]
    to_fit = [metric] + (
        [n for n in _condition_inputs(conditions) if n != metric] if check_overtraining_with_fit else []
    )
    epochs = frame["epoch"].to_numpy(dtype=float)
    fitted: dict[str, np.ndarray] = {}
    r_squares: dict[str, float] = {}
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
        r_squares[name] = float(r2)
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
    measured = float(frame[metric].to_numpy(dtype=float)[index])
    info: dict[str, Any] = {
        "r_squared": r_squares[metric],
        "min_r_squared": float(min_r_squared),
        "epochs_fitted": len(frame),
        "fitted_value": float(target[index]),
        "measured_value": measured if math.isfinite(measured) else None,
        "overtraining_checked_on": "fitted values" if check_overtraining_with_fit and conditions else "raw values",
    }
    if len(r_squares) > 1:
        info["r_squared_per_metric"] = r_squares
    return int(epochs[index]), float(target[index]), info


def best_fit(
    trials: Sequence[TrialHistory],
    metric: str,
    mode: str,
    conditions: Sequence[tuple[str, Sequence[str], Callable[..., Any]]],
    fit: Callable[..., Any],
    min_r_squared: float,
    check_overtraining_with_fit: bool,
    fit_name: str = "fit_function",
) -> tuple[Selection | None, dict[str, str]]:
    """The best fitted trial, and for every skipped trial the reason.

    ``fit_name`` describes the fit used (which ``fit_function``), for the selection's reason.
    """
    best: Selection | None = None
    best_info: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for trial in trials:
        if trial.frame is None or len(trial.frame) == 0:
            skipped[trial.trial_id] = "no results"
            continue
        outcome = fit_trial(trial, metric, mode, conditions, fit, min_r_squared, check_overtraining_with_fit)
        if isinstance(outcome, str):
            skipped[trial.trial_id] = outcome
            continue
        epoch, value, info = outcome
        if is_better(value, best.value if best else None, mode):
            best = Selection("best-fit", trial.trial_id, trial.config, epoch, value)
            best_info = info
    if best is not None:
        fitted = len(trials) - len(skipped)
        best.details["fit"] = {"function": fit_name, **best_info, "trials_fitted": fitted}
        best.details["reason"] = (
            f"{_extreme(mode)} fitted {metric} of the {fitted} trials whose fit ({fit_name}) reached "
            f"R² >= fit_min_R_squared = {min_r_squared:g}: trial {best.trial_id}, epoch {best.epoch}, "
            f"R² = {best_info['r_squared']:.3f}"
        )
    return best, skipped
