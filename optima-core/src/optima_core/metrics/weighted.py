"""Event-weighted versions of common backend-native metrics, for backends whose metrics take no weights.

torchmetrics metrics accept no sample weights, so the original could not offer ``weighted_native_metrics`` with
Lightning. OPTIMA computes them itself from the predictions: a metric class listed in ``weighted_native_metrics``
is matched by its class name to a NumPy implementation here; its constructor keyword arguments that matter
(``threshold``) are honoured. Keras computes weighted metrics natively and does not use this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from optima_core.metrics.figures_of_merit import weighted_roc_auc

#: Probabilities are clipped to [EPSILON, 1 - EPSILON] before the logarithm, as in Keras' cross-entropies.
EPSILON = 1e-7


def weighted_cross_entropy(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray | None) -> float:
    """Event-weighted mean cross-entropy; binary for one output column, categorical otherwise."""
    y = np.asarray(targets, dtype=np.float64)
    p = np.clip(np.asarray(predictions, dtype=np.float64), EPSILON, 1.0 - EPSILON)
    n = len(y)
    y, p = y.reshape(n, -1), p.reshape(n, -1)
    if y.shape[1] == 1:
        per_event = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))[:, 0]
    else:
        per_event = -(y * np.log(p)).sum(axis=1)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    total = w.sum()
    return float((per_event * w).sum() / total) if total != 0 else float("nan")


WeightedFunction = Callable[[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]], float]


def _as_binary(targets: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return targets.reshape(-1) > 0.5, predictions.reshape(-1)


def _is_multiclass(targets: np.ndarray) -> bool:
    return targets.ndim == 2 and targets.shape[1] > 1


def _labels(targets: np.ndarray, predictions: np.ndarray, kwargs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted class labels (threshold for binary, argmax for one-hot)."""
    if _is_multiclass(targets):
        return targets.argmax(axis=1), predictions.argmax(axis=1)
    truth, score = _as_binary(targets, predictions)
    return truth.astype(int), (score > float(kwargs.get("threshold", 0.5)))  # as Keras and torchmetrics.astype(int)


def _mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float((values * weights).sum() / total) if total != 0 else float("nan")


def accuracy(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]) -> float:
    truth, predicted = _labels(targets, predictions, kwargs)
    return _mean((truth == predicted).astype(float), weights)


def _confusion(
    targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]
) -> tuple[float, float, float]:
    truth, predicted = _labels(targets, predictions, kwargs)
    positive = 1 if not _is_multiclass(targets) else int(kwargs.get("positive_class", 0))
    tp = float(weights[(truth == positive) & (predicted == positive)].sum())
    fp = float(weights[(truth != positive) & (predicted == positive)].sum())
    fn = float(weights[(truth == positive) & (predicted != positive)].sum())
    return tp, fp, fn


def precision(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]) -> float:
    tp, fp, _ = _confusion(targets, predictions, weights, kwargs)
    return tp / (tp + fp) if tp + fp > 0 else 0.0


def recall(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]) -> float:
    tp, _, fn = _confusion(targets, predictions, weights, kwargs)
    return tp / (tp + fn) if tp + fn > 0 else 0.0


def f1(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]) -> float:
    tp, fp, fn = _confusion(targets, predictions, weights, kwargs)
    return 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0


def auroc(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]) -> float:
    if _is_multiclass(targets):  # one-vs-rest, averaged over classes
        return float(
            np.mean(
                [weighted_roc_auc(targets[:, k] > 0.5, predictions[:, k], weights) for k in range(targets.shape[1])]
            )
        )
    truth, score = _as_binary(targets, predictions)
    return weighted_roc_auc(truth, score, weights)


def mean_squared_error(
    targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]
) -> float:
    per_event = ((predictions.reshape(len(weights), -1) - targets.reshape(len(weights), -1)) ** 2).mean(axis=1)
    return _mean(per_event, weights)


def mean_absolute_error(
    targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray, kwargs: dict[str, Any]
) -> float:
    per_event = np.abs(predictions.reshape(len(weights), -1) - targets.reshape(len(weights), -1)).mean(axis=1)
    return _mean(per_event, weights)


#: Metric class names (torchmetrics spellings) and their weighted implementations.
WEIGHTED_IMPLEMENTATIONS: dict[str, WeightedFunction] = {
    "Accuracy": accuracy,
    "BinaryAccuracy": accuracy,
    "MulticlassAccuracy": accuracy,
    "AUROC": auroc,
    "BinaryAUROC": auroc,
    "MulticlassAUROC": auroc,
    "Precision": precision,
    "BinaryPrecision": precision,
    "Recall": recall,
    "BinaryRecall": recall,
    "F1Score": f1,
    "BinaryF1Score": f1,
    "MeanSquaredError": mean_squared_error,
    "MeanAbsoluteError": mean_absolute_error,
}


def weighted_implementation(metric_class: Any) -> WeightedFunction | None:
    """The weighted implementation for a metric class (by its name), or ``None`` if there is none."""
    return WEIGHTED_IMPLEMENTATIONS.get(getattr(metric_class, "__name__", str(metric_class)))


def evaluate_weighted(
    metric_class: Any, kwargs: dict[str, Any], targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray
) -> float:
    """Weighted value of ``metric_class(**kwargs)`` on the given arrays; ``ValueError`` if not supported."""
    function = weighted_implementation(metric_class)
    if function is None:
        supported = ", ".join(sorted(WEIGHTED_IMPLEMENTATIONS))
        raise ValueError(
            f"no weighted implementation for metric {getattr(metric_class, '__name__', metric_class)}; supported: {supported}"
        )
    return function(
        np.asarray(targets), np.asarray(predictions), np.asarray(weights, dtype=np.float64).reshape(-1), kwargs
    )
