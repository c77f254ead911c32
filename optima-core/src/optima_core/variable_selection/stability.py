"""How stable the decision about each variable is across the folds and repeats of the backward elimination.

In every iteration where a variable was a candidate to drop (a tried set lacking exactly that variable of the
remaining ones), each evaluation of that set, one per fold and repeat, is compared with the *reference* of the
iteration: the set the variable was removed from, evaluated the same way on the same fold (the shuffle evaluator
evaluates it alongside; evaluators that retrain reuse the evaluation the elimination already made of that set, the
start set's for the first iteration). Per variable:

* ``removable`` of ``evaluations``: in how many evaluations the removal was judged harmless, i.e. the evaluation
  was worse than the reference by no more than the acceptance criterion allows one evaluation (``threshold``:
  ``max_rel_change * |start value|``; ``degradation``: one combined sigma ``sqrt(s_candidate^2 + s_reference^2)``
  of the fold spreads; ``improvement``: the tie tolerance of the decision,
  :data:`~optima_core.variable_selection.decision.TIE_STANDARD_ERRORS` standard errors of the paired mean
  difference, but at least as many standard deviations of the repeat noise of one evaluation, since a single
  evaluation cannot be judged more finely than it is measured); ``fraction`` their ratio.
* ``mean_difference`` ± ``uncertainty``: the paired per-fold difference *metric without the variable minus
  reference* (repeats of a fold averaged first; as is, not signed by ``var_metric_op``: for ``min`` positive means
  worse), averaged over every (iteration, fold) pair; its uncertainty is the standard error, the spread of
  :func:`optima_core.evaluation.average.summarise` (sample std, or the scaled MAD with ``use_median_for_averages``)
  divided by ``sqrt(n)``, like the resolution in :mod:`~optima_core.variable_selection.decision`.
* ``flips``: the per-fold decisions disagree between folds. A fold's decision compares the fold's paired
  difference (repeats averaged) with the allowance, averaged over the iterations where the variable was evaluated,
  so that one noisy evaluation does not flag a variable that every fold finds clearly harmful or harmless.
* ``dropped``: the variable is not in the selected set.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optima_core.builtin.input_handler import scaling_key as name
from optima_core.evaluation.average import summarise
from optima_core.variable_selection.decision import TIE_STANDARD_ERRORS, Estimate, SelectionState, compare

#: An evaluator's ``reference(variables, num_repeats, iteration)``: the values ``[folds, repeats]`` of the set the
#: candidates come from when it can evaluate that set cheaply (the shuffle evaluator), else None (recorded values
#: are reused).
ReferenceFunction = Callable[[list[Any], int, str], Any]


@dataclass
class _Tally:
    removable: int = 0
    evaluations: int = 0
    differences: list[float] = field(default_factory=list)
    #: Per fold: how much worse than allowed the removal was (``sign * difference - allowance``), per iteration.
    margins: dict[int, list[float]] = field(default_factory=dict)

    @property
    def flips(self) -> bool:
        decisions = {bool(np.mean(margins) <= 0) for margins in self.margins.values() if margins}
        return len(decisions) > 1


def _as_matrix(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array.reshape(-1, 1) if array.ndim < 2 else array


def _fold_means(values: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in values])


def _repeat_variance(values: np.ndarray) -> float:
    """The variance of one evaluation from its repeats (sample variance within a fold, averaged over folds)."""
    variances = [float(np.var(row[np.isfinite(row)], ddof=1)) for row in values if np.isfinite(row).sum() > 1]
    return float(np.mean(variances)) if variances else 0.0


@dataclass
class StabilityRecord:
    """Collects the evaluations of every iteration (:meth:`add`) and summarises them per variable (:meth:`summary`)."""

    state: SelectionState
    _tallies: dict[Any, _Tally] = field(default_factory=dict)
    #: The latest recorded evaluation of each variable set: by phase, and of any phase.
    _recorded: dict[tuple[str, tuple[Any, ...]], np.ndarray] = field(default_factory=dict)

    def remember(self, variables: list[Any], values: Any, phase: str) -> None:
        """Record an evaluation of ``variables`` (the start, a chosen candidate, a re-evaluation) for later reuse."""
        matrix = _as_matrix(values)
        self._recorded[(phase, tuple(variables))] = matrix
        self._recorded[("", tuple(variables))] = matrix

    def reference(
        self, variables: list[Any], phase: str, evaluate: ReferenceFunction | None, repeats: int, iteration: str
    ) -> np.ndarray | None:
        """The values ``[folds, repeats]`` of the set the candidates come from; None if there are none."""
        values = evaluate(list(variables), repeats, iteration) if callable(evaluate) else None
        if values is not None:
            return _as_matrix(values)
        key = tuple(variables)
        return self._recorded.get((phase, key), self._recorded.get(("", key)))

    def _allowance(self, candidate: np.ndarray, reference: np.ndarray) -> float:
        """How much worse than the reference one evaluation may be and still count as harmless (see module doc)."""
        state = self.state
        if state.criterion == "threshold":
            return state.max_rel_change * (abs(state.start.value) or 1.0)
        comparison = compare(
            Estimate.from_values(candidate, state.use_median),
            Estimate.from_values(reference, state.use_median),
            state.op,
            state.use_median,
        )
        if state.criterion == "degradation":
            return comparison.combined_sigma
        one_evaluation = math.sqrt(_repeat_variance(candidate) + _repeat_variance(reference))
        return TIE_STANDARD_ERRORS * max(comparison.resolution, one_evaluation)

    def add(
        self, remaining: list[Any], sets: dict[str, list[Any]], values: dict[str, Any], reference: Any | None
    ) -> None:
        """Tally one iteration: ``sets`` tried from ``remaining``, their ``values`` and the reference's values."""
        if reference is None:
            return
        state = self.state
        sign = 1.0 if state.op == "min" else -1.0
        ref = _as_matrix(reference)
        ref_folds = _fold_means(ref)
        for label, variables in sets.items():
            removed = [v for v in remaining if v not in variables]
            if len(removed) != 1 or len(variables) != len(remaining) - 1:
                continue  # only sets that lack exactly one of the remaining variables say something about it
            matrix = _as_matrix(values[label])
            if matrix.shape[0] != ref_folds.shape[0]:
                continue
            fold_diffs = _fold_means(matrix) - ref_folds
            allowance = self._allowance(matrix, ref)
            tally = self._tallies.setdefault(removed[0], _Tally())
            worse = sign * (matrix - ref_folds[:, None])
            finite = worse[np.isfinite(worse)]
            tally.evaluations += int(finite.size)
            tally.removable += int((finite <= allowance).sum())
            for fold, difference in enumerate(fold_diffs):
                if np.isfinite(difference):
                    tally.differences.append(float(difference))
                    tally.margins.setdefault(fold, []).append(float(sign * difference - allowance))

    def summary(self, dropped: list[Any]) -> dict[str, dict[str, Any]]:
        """``{variable: {removable, evaluations, fraction, mean_difference, uncertainty, flips, dropped}}``."""
        result: dict[str, dict[str, Any]] = {}
        for variable in self.state.all_vars:
            tally = self._tallies.get(variable)
            if tally is None or not tally.evaluations:
                continue
            if tally.differences:
                mean, spread = summarise(tally.differences, self.state.use_median)
                uncertainty = spread / math.sqrt(len(tally.differences))
            else:
                mean = uncertainty = math.nan
            result[name(variable)] = {
                "removable": tally.removable,
                "evaluations": tally.evaluations,
                "fraction": tally.removable / tally.evaluations,
                "mean_difference": mean,
                "uncertainty": uncertainty,
                "flips": tally.flips,
                "dropped": variable in dropped,
            }
        return result


def flipping(stability: dict[str, dict[str, Any]]) -> list[str]:
    """The variables whose decision differs between folds in some iteration."""
    return [variable for variable, entry in stability.items() if entry["flips"]]
