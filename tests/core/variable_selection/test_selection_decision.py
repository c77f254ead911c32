"""The statistics and decision rules of the backward elimination, with synthetic metric values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optima_core.variable_selection.decision import Estimate, Iteration, SelectionState, compare

VARS = ["a", "b", "c", "d", "e"]


def est(per_fold: list[float], repeats: list[list[float]] | None = None) -> Estimate:
    return Estimate.from_values(np.asarray(repeats if repeats is not None else per_fold, dtype=float))


def iteration(state: SelectionState, drop: str, estimate: Estimate) -> Iteration:
    number = len(state.iterations) + 1
    kept = [v for v in state.remaining if v != drop]
    return state.decide(
        Iteration(number, list(state.remaining), {drop: (kept, estimate)}, drop, [drop], estimate, False, "")
    )


def shifted(base: list[float], shift: float, jitter: float = 0.0) -> Estimate:
    return est([v + shift + jitter * (-1) ** i for i, v in enumerate(base)])


BASE = [0.30, 0.33, 0.32]  # fold-to-fold spread (0.015) much larger than the effects below


# -- Estimate ---------------------------------------------------------------------------------------------------


def test_estimate_mean_std_and_median_mad() -> None:
    values = [[1.0, 3.0], [2.0, 2.0], [10.0, 10.0]]  # fold averages 2, 2, 10
    mean = Estimate.from_values(values)
    assert mean.per_fold == (2.0, 2.0, 10.0)
    assert mean.value == pytest.approx(14 / 3)
    assert mean.uncertainty == pytest.approx(np.std([2, 2, 10], ddof=1))
    assert mean.repeat_variance == pytest.approx((2.0 / 2 + 0 + 0) / 3)
    median = Estimate.from_values(values, use_median=True)
    assert median.value == 2.0
    assert median.uncertainty == 0.0  # MAD of (2, 2, 10) around 2 is 0


def test_estimate_ignores_failed_evaluations() -> None:
    estimate = Estimate.from_values([[1.0, math.nan], [3.0, 3.0], [math.nan, math.nan]])
    assert estimate.value == pytest.approx(2.0)
    assert math.isnan(Estimate.from_values([[math.nan]]).value)


def test_paired_comparison_cancels_fold_spread() -> None:
    worse = compare(shifted(BASE, 0.01, 0.001), est(BASE), "min")
    assert worse.delta == pytest.approx(0.01, abs=1e-3)
    assert worse.resolution < 0.002 < worse.combined_sigma
    assert not worse.better_or_tied
    assert compare(shifted(BASE, -0.01), est(BASE), "max").delta == pytest.approx(0.01)  # lower is worse for max


def test_repeat_noise_bounds_the_resolution() -> None:
    # The fold differences agree by chance (spread 0), but the repeats show a noise of ~0.01 per model.
    candidate = est([], [[v + 0.002 - 0.01, v + 0.002 + 0.01] for v in BASE])
    reference = est([], [[v - 0.01, v + 0.01] for v in BASE])
    comparison = compare(candidate, reference, "min")
    assert comparison.delta == pytest.approx(0.002)
    assert comparison.resolution == pytest.approx(math.sqrt((2e-4 / 2 * 2) / 3))
    assert comparison.better_or_tied


# -- acceptance criteria ------------------------------------------------------------------------------------------


def test_improvement_accepts_ties_and_rejects_significant_degradation() -> None:
    state = SelectionState(VARS, est(BASE), criterion="improvement", patience=3)
    assert iteration(state, "e", shifted(BASE, 0.0005, 0.001)).accepted  # a noise variable: a tie
    assert iteration(state, "d", shifted(BASE, -0.002, 0.0005)).accepted  # better
    rejected = iteration(state, "c", shifted(BASE, 0.02, 0.001))
    assert not rejected.accepted and "vs best" in rejected.reason
    assert state.best[0] == ["a", "b", "c"] and state.best[2] == 2


def test_degradation_allows_one_combined_sigma() -> None:
    start = est(BASE)  # std 0.0153
    sigma = math.hypot(start.uncertainty, start.uncertainty)
    state = SelectionState(VARS, start, criterion="degradation")
    assert iteration(state, "e", shifted(BASE, 0.8 * sigma)).accepted
    state = SelectionState(VARS, start, criterion="degradation")
    assert not iteration(state, "e", shifted(BASE, 1.2 * sigma)).accepted


def test_threshold_is_relative_to_the_start_value() -> None:
    start = est([1.0, 1.0, 1.0])
    state = SelectionState(VARS, start, criterion="threshold", max_rel_change=0.1)
    assert iteration(state, "e", est([1.05, 1.05, 1.05])).accepted
    assert iteration(state, "d", est([1.09, 1.09, 1.09])).accepted
    assert not iteration(state, "c", est([1.11, 1.11, 1.11])).accepted
    state = SelectionState(VARS, start, criterion="threshold", max_rel_change=0.1, op="max")
    assert iteration(state, "e", est([1.5, 1.5, 1.5])).accepted  # higher is better: no degradation
    assert not iteration(state, "d", est([0.85, 0.85, 0.85])).accepted


def test_nan_is_rejected_and_bad_settings_raise() -> None:
    state = SelectionState(VARS, est(BASE))
    assert not iteration(state, "e", est([math.nan, math.nan, math.nan])).accepted
    with pytest.raises(ValueError, match="acceptance_criterion"):
        SelectionState(VARS, est(BASE), criterion="better")
    with pytest.raises(ValueError, match="var_metric_op"):
        SelectionState(VARS, est(BASE), op="maximize")


# -- patience, choose_best, revert --------------------------------------------------------------------------------


def test_patience_counts_consecutive_rejections_only() -> None:
    state = SelectionState([*VARS, "f", "g"], est(BASE), criterion="improvement", patience=2)
    iteration(state, "g", shifted(BASE, 0.05))
    assert state.rejected_in_a_row == 1 and not state.finished
    iteration(state, "f", shifted(BASE, 0.0))  # accepted: the counter restarts
    assert state.rejected_in_a_row == 0
    iteration(state, "e", shifted(BASE, 0.05))
    assert not state.finished
    iteration(state, "d", shifted(BASE, 0.06))
    assert state.finished
    assert state.remaining == ["a", "b", "c"]  # rejected iterations still drop their variable


def test_elimination_stops_with_one_variable_left() -> None:
    state = SelectionState(["a", "b"], est(BASE))
    iteration(state, "b", shifted(BASE, 0.0))
    assert state.finished and state.remaining == ["a"]


def test_choose_best_or_last_accepted() -> None:
    state = SelectionState(VARS, est(BASE), criterion="degradation", patience=5)
    iteration(state, "e", shifted(BASE, -0.01))  # best
    iteration(state, "d", shifted(BASE, 0.005))  # accepted (within sigma) but worse than the best
    iteration(state, "c", shifted(BASE, 0.2))  # rejected
    assert state.result(choose_best=True) == ["a", "b", "c", "d"]
    assert state.result(choose_best=False) == ["a", "b", "c"]


def test_revert_to_best_or_last_accepted_resets_patience() -> None:
    def run() -> SelectionState:
        state = SelectionState(VARS, est(BASE), criterion="degradation", patience=5)
        iteration(state, "e", shifted(BASE, -0.01))
        iteration(state, "d", shifted(BASE, 0.005))
        iteration(state, "c", shifted(BASE, 0.2))
        return state

    state = run()
    assert state.rejected_in_a_row == 1
    assert state.revert(to_best=True) == ["a", "b", "c", "d"]
    assert state.rejected_in_a_row == 0
    assert run().revert(to_best=False) == ["a", "b", "c"]


def test_noise_variables_are_dropped_under_improvement_with_repeated_noise() -> None:
    """Pitfall 15: pure-noise drops (effects far inside the noise) must not stop the elimination by chance."""
    rng = np.random.default_rng(3)
    kept_noise = []
    for _ in range(200):
        state = SelectionState(["s1", "s2", "n1", "n2", "n3", "n4", "n5"], est(BASE), patience=3)
        reference = np.asarray(BASE)
        for noise in ["n5", "n4", "n3", "n2", "n1"]:
            # each noise drop: a fold-independent nothing plus repeat noise 0.003 per model (5 repeats)
            repeats = reference[:, None] + rng.normal(0.0, 0.003, (3, 5))
            iteration(state, noise, Estimate.from_values(repeats))
        for signal in ["s2"]:
            iteration(state, signal, shifted(BASE, 0.05))
        kept_noise.append(sum(v.startswith("n") for v in state.result(choose_best=True)))
    assert np.mean([k <= 1 for k in kept_noise]) >= 0.95, kept_noise
