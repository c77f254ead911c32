"""The statistics and the accept/reject bookkeeping of the backward elimination (pure Python, no training).

Statistics
----------
Every evaluation of a variable set yields one value per cross-validation fold and repeat. The repeats of a fold are
averaged first (they share the model and the validation data), giving one value ``v_f`` per fold. Across the ``k``
folds the *value* of the set is the mean of ``v_f`` and its *uncertainty* the sample standard deviation
(``use_median_for_averages``: the median and the MAD scaled by 1.4826, a consistent estimate of the standard
deviation for normal data): OPTIMA's one spread convention, :func:`optima_core.evaluation.average.summarise`.

Comparisons with the best set so far use the folds as pairs: both sets were evaluated on the same folds (the same
models, for the shuffle evaluator), so the fold-by-fold difference ``d_f`` cancels the fold-to-fold spread, which
is usually much larger than the effect of one variable. ``d_f`` is signed so that positive means worse; the
*resolution* of the mean difference is its standard error ``sqrt(var_d / k)``, where ``var_d`` is the variance of
``d_f`` but at least the repeat noise of the two fold averages (the variance of the repeats of a fold divided by
their number, summed over both sets): with only a few folds the sample variance of ``d_f`` alone is often
accidentally tiny.

Acceptance of an iteration (``delta``: candidate minus reference, signed so that positive is worse):

* ``threshold``: ``delta / |start value| <= max_rel_change``, against the start value (all variables).
* ``improvement``: better than the best set so far, where a difference within two resolutions (standard errors)
  counts as a tie and a tie goes to the smaller set. Comparing noisy means for "strictly better" is a coin toss for a pure-noise variable
  (and, since the best so far is the record of many noisy values, gets ever harder to pass): the original kept
  noise variables that way. With the tie rule a noise variable is dropped unless removing it makes the result
  worse by more than two standard errors.
* ``degradation``: not worse than the best set so far by more than one sigma, the combined uncertainty
  ``sqrt(s_candidate^2 + s_best^2)`` of the two sets.

The best set so far is updated on every accepted iteration that is better than it or tied (same rule as
``improvement``), so ``choose_best_var_set`` returns the smallest set not significantly worse than the best.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optima_core.evaluation.average import summarise

CRITERIA = ("threshold", "improvement", "degradation")
#: A difference within this many standard errors of the paired mean difference is a tie (about 98% of pure-noise
#: drops pass one-sided; a lucky best-so-far must not block the following noise drops).
TIE_STANDARD_ERRORS = 2.0


@dataclass(frozen=True)
class Estimate:
    """The metric of one variable set: per-fold values (repeats averaged), their average and uncertainty."""

    per_fold: tuple[float, ...]
    value: float
    uncertainty: float
    #: Variance of a fold's average that comes from the repeats (retraining or permutation noise), averaged over
    #: folds; 0 with a single repeat. A lower bound for the variance of fold-by-fold differences.
    repeat_variance: float = 0.0

    @classmethod
    def from_values(cls, values: Any, use_median: bool = False) -> Estimate:
        """``values``: ``[folds]`` or ``[folds, repeats]`` (NaN entries of failed evaluations are ignored)."""
        array = np.asarray(values, dtype=float)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.size == 0:
            raise ValueError(f"expected metric values of shape [folds, repeats], got {array.shape}")
        with np.errstate(all="ignore"):
            per_fold = np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in array])
        finite = per_fold[np.isfinite(per_fold)]
        if finite.size == 0:
            return cls(tuple(per_fold.tolist()), math.nan, math.nan)
        value, spread = summarise(finite, use_median)
        noise = []
        for row in array:
            row = row[np.isfinite(row)]
            if row.size > 1:
                noise.append(float(np.var(row, ddof=1)) / row.size)
        return cls(tuple(per_fold.tolist()), value, spread, float(np.mean(noise)) if noise else 0.0)

    def describe(self) -> str:
        return f"{self.value:.5g} ± {self.uncertainty:.2g}"


@dataclass(frozen=True)
class Comparison:
    """``candidate`` vs ``reference``; ``delta`` > 0 means the candidate is worse."""

    delta: float
    resolution: float  # standard error of the paired mean difference
    combined_sigma: float  # sqrt(s_c^2 + s_r^2)

    @property
    def better_or_tied(self) -> bool:
        return self.delta <= TIE_STANDARD_ERRORS * self.resolution


def compare(candidate: Estimate, reference: Estimate, op: str, use_median: bool = False) -> Comparison:
    """Compare two estimates fold by fold (paired); falls back to the unpaired difference if folds differ."""
    sign = 1.0 if op == "min" else -1.0
    combined = math.hypot(candidate.uncertainty, reference.uncertainty)
    c, r = np.asarray(candidate.per_fold), np.asarray(reference.per_fold)
    if c.shape == r.shape:
        mask = np.isfinite(c) & np.isfinite(r)
        diffs = sign * (c[mask] - r[mask])
        if diffs.size:
            delta, spread = summarise(diffs, use_median)
            # With few folds the spread of the differences can come out tiny by chance; the repeat noise of the
            # two estimates is an independent lower bound for it.
            variance = max(spread**2, candidate.repeat_variance + reference.repeat_variance)
            return Comparison(delta, math.sqrt(variance / diffs.size), combined)
    delta = sign * (candidate.value - reference.value)
    return Comparison(delta, combined / math.sqrt(max(len(c), 1)), combined)


@dataclass
class Iteration:
    """One iteration: the candidates tried, the one chosen to drop and the decision."""

    number: int
    remaining_before: list[Any]
    candidates: dict[str, tuple[list[Any], Estimate]]
    chosen: str
    dropped: list[Any]
    estimate: Estimate  # of the chosen candidate, after the re-evaluation if any
    accepted: bool
    reason: str
    phase: str = ""
    reevaluated: bool = False


@dataclass
class SelectionState:
    """The bookkeeping of one backward elimination.

    ``start``: the estimate with every variable. Call :meth:`decide` once per iteration.
    """

    all_vars: list[Any]
    start: Estimate
    criterion: str = "improvement"
    op: str = "min"
    max_rel_change: float = 0.5
    patience: int = 3
    use_median: bool = False
    iterations: list[Iteration] = field(default_factory=list)
    remaining: list[Any] = field(default_factory=list)
    rejected_in_a_row: int = 0
    # (variables, estimate, iteration number or 0 for the start)
    best: tuple[list[Any], Estimate, int] = field(init=False)
    last_accepted: tuple[list[Any], Estimate, int] = field(init=False)

    def __post_init__(self) -> None:
        if self.criterion not in CRITERIA:
            raise ValueError(f"acceptance_criterion must be one of {CRITERIA}, got {self.criterion!r}")
        if self.op not in ("min", "max"):
            raise ValueError(f"var_metric_op must be 'min' or 'max', got {self.op!r}")
        if not self.remaining:
            self.remaining = list(self.all_vars)
        self.best = (list(self.remaining), self.start, 0)
        self.last_accepted = self.best

    @property
    def finished(self) -> bool:
        return self.rejected_in_a_row >= self.patience or len(self.remaining) <= 1

    def judge(self, estimate: Estimate) -> tuple[bool, str]:
        """Whether an iteration whose chosen set has ``estimate`` is accepted, and why."""
        if not math.isfinite(estimate.value):
            return False, "no valid metric value"
        if self.criterion == "threshold":
            sign = 1.0 if self.op == "min" else -1.0
            scale = abs(self.start.value) or 1.0
            rel = sign * (estimate.value - self.start.value) / scale
            return rel <= self.max_rel_change, f"relative change vs start {rel:+.3g} (max {self.max_rel_change:g})"
        comparison = compare(estimate, self.best[1], self.op, self.use_median)
        if self.criterion == "improvement":
            return comparison.better_or_tied, (
                f"vs best {comparison.delta:+.3g} (tie within +{TIE_STANDARD_ERRORS * comparison.resolution:.2g})"
            )
        return comparison.delta <= comparison.combined_sigma, (
            f"vs best {comparison.delta:+.3g} (1 sigma = {comparison.combined_sigma:.2g})"
        )

    def decide(self, iteration: Iteration) -> Iteration:
        """Record ``iteration`` (its ``accepted``/``reason`` are filled in) and drop its variables."""
        accepted, reason = self.judge(iteration.estimate)
        iteration.accepted, iteration.reason = accepted, reason
        self.remaining = [v for v in self.remaining if v not in iteration.dropped]
        entry = (list(self.remaining), iteration.estimate, iteration.number)
        if accepted:
            self.rejected_in_a_row = 0
            self.last_accepted = entry
            if compare(iteration.estimate, self.best[1], self.op, self.use_median).better_or_tied:
                self.best = entry
        else:
            self.rejected_in_a_row += 1
        self.iterations.append(iteration)
        return iteration

    def revert(self, to_best: bool) -> list[Any]:
        """Go back to the best (else the last accepted) set, e.g. before hybrid's retrain phase; resets patience."""
        target = self.best if to_best else self.last_accepted
        self.remaining = list(target[0])
        self.rejected_in_a_row = 0
        return list(self.remaining)

    def result(self, choose_best: bool) -> list[Any]:
        """The selected variables: the best set, or the last accepted one."""
        return list((self.best if choose_best else self.last_accepted)[0])
