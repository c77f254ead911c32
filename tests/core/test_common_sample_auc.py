"""The side-by-side benchmark scores both tools' models with its own AUC (it must run in the original's venv too):
it has to be the AUC OPTIMA's evaluation reports (weighted, negative weights left out, ties as one step)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from optima_core.metrics.figures_of_merit import weighted_roc_auc

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "common_sample_auc.py"


@pytest.fixture(scope="module")
def benchmark_auc():
    spec = importlib.util.spec_from_file_location("common_sample_auc", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.weighted_roc_auc


def test_same_value_as_the_evaluation_with_negative_weights_and_ties(benchmark_auc) -> None:
    rng = np.random.default_rng(3)
    targets = (rng.random(5000) < 0.4).astype(np.float32)
    scores = np.round(np.clip(rng.normal(0.4 + 0.2 * targets, 0.2), 0, 1), 2)  # rounded: many tied scores
    weights = rng.lognormal(0.0, 0.5, 5000) * np.where(rng.random(5000) < 0.05, -1.0, 1.0)
    expected = weighted_roc_auc(targets == 1, scores, weights)
    assert benchmark_auc(targets, scores, weights) == pytest.approx(expected, abs=1e-12)
    assert 0.6 < expected < 0.95


def test_separation_limits_and_dropped_negative_weights(benchmark_auc) -> None:
    targets = np.array([1, 1, 0, 0, 0], dtype=np.float32)
    assert benchmark_auc(targets, np.array([0.9, 0.8, 0.3, 0.2, 0.1]), np.ones(5)) == pytest.approx(1.0)
    assert benchmark_auc(targets, np.array([0.1, 0.2, 0.8, 0.9, 0.7]), np.ones(5)) == pytest.approx(0.0)
    # the only background event above the signal has a negative weight: left out, the separation is perfect
    scores = np.array([0.6, 0.5, 0.9, 0.2, 0.1])
    assert benchmark_auc(targets, scores, np.array([1.0, 1.0, -1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert benchmark_auc(targets, scores, np.ones(5)) < 1.0
