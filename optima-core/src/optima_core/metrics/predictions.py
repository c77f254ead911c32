"""Metrics computed from predictions as NumPy arrays: the one implementation used by training, evaluation and
variable selection.

``data`` is one split as a mapping of columns (``Input``, ``Target``, optionally ``Weight``), ``predictions`` the
model outputs ``[events, outputs]`` in event order. Backend-native metrics (metric objects of the framework) are not
computed here but by the backend through the ``get_native_metric_values`` hook; here are:

* weighted native metrics for backends whose metrics take no event weights (by class name, see
  :mod:`optima_core.metrics.weighted`),
* custom metrics ``metric((inputs, targets[, weights]), predictions)``, on the whole split or averaged over
  prediction batches (weighted by batch size),
* composite metrics ``function(*values of named metrics)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from optima_core.errors import OptimaUserError
from optima_core.metrics.weighted import evaluate_weighted

#: ``(name, MetricClass, constructor kwargs)`` of one native or weighted native metric.
NativeSpec = tuple[str, Any, dict[str, Any]]


def native_specs(entries: Any) -> list[NativeSpec]:
    """``(name, MetricClass, kwargs)`` from run-config entries ``(name, (MetricClass, kwargs))``."""
    specs = []
    for entry in entries or []:
        if len(entry) == 3:
            name, metric_class, kwargs = entry
        else:
            name, (metric_class, kwargs) = entry
        specs.append((str(name), metric_class, dict(kwargs or {})))
    return specs


def scalar(value: Any, name: str) -> Any:
    """A metric's result as a Python float (or bool); anything that is not one number is an error naming it."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real):
        return float(value)
    array = np.asarray(value)
    if array.size == 1 and isinstance(array.reshape(()).item(), numbers.Real):
        item = array.reshape(()).item()
        return bool(item) if isinstance(item, bool) else float(item)
    raise OptimaUserError(f"metric '{name}' returned {type(value).__name__} of shape {array.shape}; expected a number")


def event_weights(data: Any) -> np.ndarray:
    """The ``Weight`` column as float64, or ones when the split has none."""
    weights = data.get("Weight") if hasattr(data, "get") else None
    if weights is None:
        return np.ones(len(data["Target"]))
    return np.asarray(weights, dtype=np.float64).reshape(-1)


def weighted_native_value(
    metric_class: Any, kwargs: dict[str, Any], data: Any, predictions: np.ndarray, weighted: bool
) -> float:
    """``metric_class(**kwargs)`` on one split from predictions, with the ``Weight`` column or unit weights."""
    weights = event_weights(data) if weighted else np.ones(len(data["Target"]))
    return evaluate_weighted(metric_class, kwargs, data["Target"], predictions, weights)


def batch_ranges(
    length: int, predict_batch_size: int | None, training_batch_size: int, batch_axis: bool = True
) -> list[tuple[int, int]]:
    """The whole split, or ``predict_batch_size`` rounded up to whole training batches (``predict_batch_size``)."""
    if predict_batch_size is None or predict_batch_size <= 0 or not batch_axis or length == 0:
        return [(0, length)]
    size = math.ceil(predict_batch_size / max(training_batch_size, 1)) * max(training_batch_size, 1)
    return [(start, min(start + size, length)) for start in range(0, length, size)]


def custom_value(
    function: Callable[..., Any],
    name: str,
    data: Any,
    predictions: np.ndarray,
    ranges: Sequence[tuple[int, int]] | None = None,
) -> Any:
    """A custom metric on one split: called per range of events and averaged, weighted by the range sizes.

    The metric receives ``(inputs, targets)`` or ``(inputs, targets, weights)`` and the predictions of the range.
    One range (the default: the whole split) returns the metric's own value, booleans included.
    """
    ranges = list(ranges) if ranges is not None else [(0, len(data["Target"]))]
    inputs, targets = data["Input"], data["Target"]
    weights = data.get("Weight") if hasattr(data, "get") else None
    results = []
    for start, stop in ranges:
        batch: tuple[Any, ...] = (inputs[start:stop], targets[start:stop])
        if weights is not None:
            batch += (weights[start:stop],)
        results.append(scalar(function(batch, predictions[start:stop]), name))
    if len(results) == 1:
        return results[0]
    sizes = [stop - start for start, stop in ranges]
    return float(np.average(np.asarray(results, dtype=np.float64), weights=sizes)) if sum(sizes) else float("nan")


def missing_inputs(known: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """The names a composite metric or overtraining condition needs that are not among ``known``."""
    return [n for n in names if n not in known]


def composite_value(function: Callable[..., Any], names: Sequence[str], known: Mapping[str, Any], owner: str) -> Any:
    """``function(*values of names)`` as a scalar; an error naming what is missing and what is known."""
    missing = missing_inputs(known, names)
    if missing:
        raise OptimaUserError(
            f"metric '{owner}' needs {', '.join(repr(m) for m in missing)}, which was not reported; "
            f"reported: {', '.join(sorted(known))}"
        )
    return scalar(function(*(known[n] for n in names)), owner)
