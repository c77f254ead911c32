"""The per-variable stability record of the backward elimination, with synthetic metric values (no training)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from optima_core.variable_selection.decision import Estimate, SelectionState
from optima_core.variable_selection.stability import StabilityRecord, flipping

VARS = ["sig", "noise", "weak"]
FOLDS, REPEATS = 4, 3


def reference() -> np.ndarray:
    """Fold-to-fold spread much larger than the effects, small repeat noise (shuffle-like)."""
    rng = np.random.default_rng(3)
    return np.array([0.30, 0.36, 0.33, 0.39])[:, None] + 1e-4 * rng.standard_normal((FOLDS, REPEATS))


def candidates(ref: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    noise = 1e-4 * rng.standard_normal((FOLDS, REPEATS))
    return {
        "sig": ref + 0.05 + noise,  # removing it is clearly worse in every fold
        "noise": ref + noise,  # no effect beyond the evaluation noise
        "weak": ref + np.array([0.02, -0.001, 0.0, 0.001])[:, None] + noise,  # one fold disagrees
    }


def record(criterion: str = "improvement", op: str = "min") -> tuple[StabilityRecord, np.ndarray, dict[str, Any]]:
    ref = reference()
    state = SelectionState(list(VARS), Estimate.from_values(ref), criterion=criterion, op=op)
    values = candidates(ref)
    if op == "max":
        ref, values = -ref, {label: -v for label, v in values.items()}
    stability = StabilityRecord(state)
    sets = {label: [v for v in VARS if v != label] for label in VARS}
    stability.add(list(VARS), sets, values, ref)
    return stability, ref, values


@pytest.mark.parametrize("op", ["min", "max"])
def test_harmless_removals_differences_and_flips(op: str) -> None:
    stability, ref, values = record(op=op)
    summary = stability.summary(dropped=["noise"])
    assert set(summary) == set(VARS)
    for variable, entry in summary.items():
        assert entry["evaluations"] == FOLDS * REPEATS
        assert entry["fraction"] == pytest.approx(entry["removable"] / entry["evaluations"])
        # the paired per-fold difference: metric without the variable minus the reference, fold by fold
        fold_diffs = values[variable].mean(axis=1) - ref.mean(axis=1)
        assert entry["mean_difference"] == pytest.approx(fold_diffs.mean())
        assert entry["uncertainty"] == pytest.approx(fold_diffs.std(ddof=1) / math.sqrt(FOLDS))
        assert entry["dropped"] == (variable == "noise")
    assert summary["noise"]["fraction"] >= 0.8 and not summary["noise"]["flips"]
    assert summary["sig"]["removable"] == 0 and not summary["sig"]["flips"]
    sign = 1 if op == "min" else -1
    assert sign * summary["sig"]["mean_difference"] > 0.04
    assert summary["weak"]["flips"] and 0 < summary["weak"]["removable"] < summary["weak"]["evaluations"]
    assert flipping(summary) == ["weak"]


def test_evaluations_accumulate_over_iterations_and_skip_multi_drops() -> None:
    stability, ref, values = record()
    # a second iteration without 'sig': only single-variable drops of the remaining set count
    remaining = ["noise", "weak"]
    sets = {"noise": ["weak"], "both": []}
    stability.add(remaining, sets, {"noise": values["noise"], "both": values["sig"]}, ref)
    stability.add(remaining, {"weak": ["noise"]}, {"weak": values["weak"]}, None)  # no reference: nothing counted
    summary = stability.summary(dropped=[])
    assert summary["noise"]["evaluations"] == 2 * FOLDS * REPEATS
    assert summary["weak"]["evaluations"] == FOLDS * REPEATS
    assert summary["sig"]["evaluations"] == FOLDS * REPEATS


def test_references_are_evaluated_when_cheap_else_reused() -> None:
    stability, ref, _ = record()
    calls: list[tuple[list[str], int, str]] = []

    def evaluate(variables: list[str], repeats: int, iteration: str) -> np.ndarray:
        calls.append((variables, repeats, iteration))
        return np.ones((FOLDS, repeats))

    assert stability.reference(["sig"], "shuffle", evaluate, 2, "iteration2").shape == (FOLDS, 2)
    assert calls == [(["sig"], 2, "iteration2")]
    assert stability.reference(["noise"], "retrain", None, 2, "it") is None
    stability.remember(["noise"], ref, "retrain")
    stability.remember(["noise"], ref[:, :1], "reevaluation")
    assert stability.reference(["noise"], "retrain", None, 2, "it").shape == ref.shape  # same phase first
    assert stability.reference(["noise"], "hybrid/retrain", lambda *a: None, 2, "it").shape == (FOLDS, 1)  # latest


def test_threshold_and_degradation_allow_more() -> None:
    for criterion in ("threshold", "degradation"):
        summary = record(criterion)[0].summary(dropped=[])
        assert summary["noise"]["fraction"] == 1.0
        # threshold: 50% of the start value; degradation: one combined sigma of the fold spreads (~0.04)
        assert summary["weak"]["fraction"] == 1.0


def test_one_noisy_fold_in_one_iteration_is_no_flip() -> None:
    stability, ref, values = record()
    # a second iteration in which 'sig' looks harmless on the last fold only (one noisy evaluation)
    noisy = values["sig"].copy()
    noisy[-1] = ref[-1] + 0.001
    stability.add(list(VARS), {"sig": ["noise", "weak"]}, {"sig": noisy}, ref)
    summary = stability.summary(dropped=[])
    assert 0 < summary["sig"]["removable"] <= REPEATS  # that fold's evaluations counted as harmless
    assert not summary["sig"]["flips"]  # averaged over both iterations every fold finds the removal harmful
    assert summary["weak"]["flips"]
