"""The one implementation of each evaluation number: ROC curve and AUC, metrics on predictions, the fold spread."""

from __future__ import annotations

import statistics
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from optima_core.engine.crossvalidation import summarize
from optima_core.engine.trial import FOLD_KEY
from optima_core.errors import OptimaUserError
from optima_core.evaluation import average_results, summarise
from optima_core.metrics import weighted_roc_auc, weighted_roc_curve
from optima_core.metrics.predictions import (
    batch_ranges,
    composite_value,
    custom_value,
    native_specs,
    scalar,
    weighted_native_value,
)
from optima_core.training.loop import VALID_COLUMN
from optima_core.training.metrics import MetricPlan
from optima_core.variable_selection.metric import resolve_metric

# -- ROC ---------------------------------------------------------------------------------------------------------


def test_roc_auc_of_perfect_random_and_tied_scores() -> None:
    is_signal = np.array([True, True, False, False])
    assert weighted_roc_auc(is_signal, np.array([0.9, 0.8, 0.2, 0.1]), np.ones(4)) == 1.0
    assert weighted_roc_auc(is_signal, np.array([0.1, 0.2, 0.8, 0.9]), np.ones(4)) == 0.0
    assert weighted_roc_auc(is_signal, np.full(4, 0.5), np.ones(4)) == 0.5  # one tie: a diagonal, half credit
    # weights count: the heavy signal event is above both backgrounds, the light one below
    weights = np.array([3.0, 1.0, 1.0, 1.0])
    assert weighted_roc_auc(is_signal, np.array([0.9, 0.1, 0.5, 0.4]), weights) == pytest.approx(0.75)
    assert np.isnan(weighted_roc_auc(np.ones(3, bool), np.arange(3.0), np.ones(3)))


def test_roc_curve_drops_negative_weights_and_is_monotonic() -> None:
    rng = np.random.default_rng(1)
    is_signal = rng.random(500) < 0.5
    score = rng.random(500) + 0.4 * is_signal
    weight = np.where(rng.random(500) < 0.2, -1.0, rng.random(500))
    fpr, tpr = weighted_roc_curve(is_signal, score, weight)
    assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == pytest.approx(1.0) and tpr[-1] == pytest.approx(1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    kept = weight >= 0
    assert weighted_roc_auc(is_signal, score, weight) == weighted_roc_auc(is_signal[kept], score[kept], weight[kept])


def test_the_auc_needs_no_numpy_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """``np.trapezoid`` exists only from NumPy 2 on; the AUC must work with the declared floor (1.26)."""
    monkeypatch.delattr(np, "trapezoid", raising=False)
    assert weighted_roc_auc(np.array([True, False]), np.array([0.7, 0.3]), np.ones(2)) == 1.0


# -- metrics on predictions --------------------------------------------------------------------------------------


def data(n: int = 6) -> dict[str, np.ndarray]:
    return {
        "Input": np.arange(2 * n, dtype=float).reshape(n, 2),
        "Target": np.array([1, 0, 1, 0, 1, 0][:n], dtype=float).reshape(-1, 1),
        "Weight": np.array([1.0, 2.0, 3.0, 1.0, 1.0, 1.0][:n]),
    }


class BinaryAccuracy:  # matched by class name to the NumPy implementation, like torchmetrics' or Keras' class
    pass


def test_custom_values_are_averaged_over_prediction_batches_by_size() -> None:
    seen: list[int] = []

    def first_input(batch: tuple[np.ndarray, ...], predictions: np.ndarray) -> float:
        seen.append(len(batch))
        return float(batch[0][0, 0])

    assert batch_ranges(5, 3, 2) == [(0, 4), (4, 5)]  # 3 rounded up to whole training batches of 2
    assert batch_ranges(5, -1, 2) == [(0, 5)] == batch_ranges(5, 3, 2, batch_axis=False)
    predictions = np.zeros((5, 1))
    assert custom_value(first_input, "m", data(5), predictions) == 0.0
    assert custom_value(first_input, "m", data(5), predictions, batch_ranges(5, 3, 2)) == pytest.approx((0 * 4 + 8) / 5)
    assert seen == [3, 3, 3]  # (inputs, targets, weights)
    assert custom_value(lambda b, p: np.bool_(True), "flag", data(5), predictions) is True


def test_scalars_specs_and_composites_name_what_is_wrong() -> None:
    assert native_specs([("a", (BinaryAccuracy, None)), ("b", BinaryAccuracy, {"threshold": 0.4})]) == [
        ("a", BinaryAccuracy, {}),
        ("b", BinaryAccuracy, {"threshold": 0.4}),
    ]
    assert scalar(np.array([[0.25]]), "m") == 0.25
    with pytest.raises(OptimaUserError, match=r"metric 'm' returned ndarray of shape \(2,\); expected a number"):
        scalar(np.array([1.0, 2.0]), "m")
    assert composite_value(lambda a, b: a - b, ("x", "y"), {"x": 3.0, "y": 1.0}, "gap") == 2.0
    with pytest.raises(OptimaUserError, match="metric 'gap' needs 'z', which was not reported; reported: x, y"):
        composite_value(lambda a, b: a - b, ("x", "z"), {"x": 3.0, "y": 1.0}, "gap")


def test_training_evaluation_and_variable_selection_compute_the_same_values() -> None:
    predictions = np.array([0.9, 0.6, 0.3, 0.2, 0.7, 0.4]).reshape(-1, 1)
    run_config = SimpleNamespace(
        native_metrics=[("acc", (BinaryAccuracy, {}))],
        weighted_native_metrics=[("wacc", (BinaryAccuracy, {"threshold": 0.5}))],
        custom_metrics=[("first", lambda batch, pred: float(pred[0, 0]))],
        composite_metrics=[],
        overtraining_conditions=[],
        predict_batch_size=-1,
        conventional_batch_axis=True,
        var_metric="wacc",
    )
    weighted = weighted_native_value(BinaryAccuracy, {"threshold": 0.5}, data(), predictions, weighted=True)
    assert weighted == pytest.approx((1 + 1 + 1 + 1) / 9)  # wrong: 0.6 (weight 2) and 0.3 (weight 3)
    plan = MetricPlan.from_run_config(run_config)
    assert plan.weighted_values("val", data(), predictions) == {"val_wacc": weighted}
    assert resolve_metric(run_config)(data(), predictions) == weighted
    assert plan.custom_values("train", data(), predictions, 2) == {"train_first": 0.9}
    run_config.var_metric = "first"
    assert resolve_metric(run_config)(data(), predictions) == 0.9


# -- the spread over folds ---------------------------------------------------------------------------------------


def test_one_spread_convention_for_results_and_evaluation() -> None:
    values = [0.81, 0.84, 0.79, 0.86]
    assert summarise(values) == (pytest.approx(statistics.mean(values)), pytest.approx(statistics.stdev(values)))
    assert summarise([0.5]) == (0.5, 0.0)
    evaluation = average_results([("AUC: {}", [v]) for v in values], use_median=False)
    assert evaluation == f"AUC: {summarise(values)[0]:.3f} ± {summarise(values)[1]:.3f}"

    results = [
        SimpleNamespace(
            config={FOLD_KEY: k},
            error=None,
            metrics_dataframe=pd.DataFrame({"val_auc": [0.5, value], "epoch": [1, 2], VALID_COLUMN: [True, True]}),
        )
        for k, value in enumerate(values)
    ]
    text = summarize(results, "val_auc", "max", "fixed")["text"]
    mean, std = summarise(values)
    assert f"mean ± sample std (ddof=1) over 4 models: {mean:.6g} ± {std:.6g}" in text
