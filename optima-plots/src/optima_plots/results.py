"""The values of the built-in ``evaluate`` and its results text: a template with one ``{}`` per value.

The template is the same for every cross-validation fold of a trial (it names no file, only metrics and splits),
so :func:`optima_core.evaluation.average_results` can average the folds. Example (binary, no metrics)::

    Loss (event-weighted cross-entropy with 'Weight', without regularisation or class weights):
      training: {}
      validation: {}
    ROC AUC, one-vs-rest (weights 'ScaledWeight', events with negative weights excluded):
      Signal vs. Background (training): {}
      Signal vs. Background (validation): {}

Values are rounded to 6 significant digits; booleans (from custom or composite metrics) stay booleans. Names of
the values for composite metrics: ``<split>_loss``, ``<split>_roc_auc`` (one output) or ``<split>_roc_auc_<k>``,
and ``<split>_<name>`` for native, weighted native and custom metrics (``split`` = train, val, test).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from optima_core.inputs.dataset import EventData
from optima_core.metrics import weighted_roc_auc
from optima_core.metrics.weighted import evaluate_weighted, weighted_implementation
from optima_core.metrics.weighted import weighted_cross_entropy as cross_entropy
from optima_plots.evaluation import LONG_NAMES as SPLIT_LABELS
from optima_plots.evaluation import node_truth, nodes

SIGNIFICANT_DIGITS = 6


def escape(text: Any) -> str:
    """``text`` with its braces doubled, safe inside a ``str.format`` template."""
    return str(text).replace("{", "{{").replace("}", "}}")


def number(value: Any, name: str) -> float | bool:
    """A metric's result as a rounded float (or a bool); anything that is not one number is an error."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    array = np.asarray(value)
    if array.size != 1 or not isinstance(array.reshape(()).item(), numbers.Real):
        raise TypeError(f"metric '{name}' returned {type(value).__name__} of shape {array.shape}; expected a number")
    result = float(array.reshape(()).item())
    return float(f"{result:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(result) else result


class ResultsText:
    """Collects headings, ``label: {}`` lines with their values, and notes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[Any] = []
        self.notes: list[str] = []

    def heading(self, text: str) -> None:
        self.lines.append(escape(text))

    def value(self, label: str, value: Any) -> None:
        self.lines.append(f"  {escape(label)}: {{}}")
        self.values.append(value)

    def template(self) -> str:
        notes = ["Notes:", *(f"  - {escape(note)}" for note in self.notes)] if self.notes else []
        return "\n".join(self.lines + notes)


def native_specs(entries: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    """``(name, MetricClass, kwargs)`` from run-config entries ``(name, (MetricClass, kwargs))``."""
    specs = []
    for entry in entries or []:
        if len(entry) == 3:
            name, metric_class, kwargs = entry
        else:
            name, (metric_class, kwargs) = entry
        specs.append((str(name), metric_class, dict(kwargs or {})))
    return specs


def chunks(length: int, predict_batch_size: int, training_batch_size: int) -> list[tuple[int, int]]:
    """The whole split, or ``predict_batch_size`` rounded up to whole training batches."""
    if predict_batch_size <= 0 or length == 0:
        return [(0, length)]
    size = math.ceil(predict_batch_size / max(training_batch_size, 1)) * max(training_batch_size, 1)
    return [(start, min(start + size, length)) for start in range(0, length, size)]


def custom_value(
    function: Callable[..., Any], name: str, data: EventData, predictions: np.ndarray, batches: list[tuple[int, int]]
) -> float | bool:
    """A custom metric on one split, averaged over the prediction batches (weighted by batch size)."""
    inputs, targets, weights = data["Input"], data["Target"], data.get("Weight")
    results = []
    for start, stop in batches:
        batch: tuple[Any, ...] = (inputs[start:stop], targets[start:stop])
        if weights is not None:
            batch += (weights[start:stop],)
        results.append(number(function(batch, predictions[start:stop]), name))
    if len(results) == 1:
        return results[0]
    sizes = [stop - start for start, stop in batches]
    return number(np.average(np.asarray(results, dtype=np.float64), weights=sizes), name)


def compute_results(
    data: dict[str, EventData],
    predictions: dict[str, np.ndarray],
    labels: Sequence[str],
    *,
    native_metrics: Any,
    weighted_native_metrics: Any,
    custom_metrics: Any,
    composite_metrics: Any,
    predict_batch_size: int = -1,
    training_batch_size: int = 1,
) -> tuple[str, list[Any]]:
    """``(template, values)`` for the given predictions (``{split: [N, outputs]}``), as described above."""
    text = ResultsText()
    known: dict[str, Any] = {}

    def add(split: str, key: str, label: str, value: Any) -> None:
        known[f"{split}_{key}"] = value
        text.value(f"{label} ({SPLIT_LABELS[split]})", value)

    text.heading("Loss (event-weighted cross-entropy with 'Weight', without regularisation or class weights):")
    for split, d in data.items():
        value = number(cross_entropy(d["Target"], predictions[split], d.get("Weight")), "loss")
        known[f"{split}_loss"] = value
        text.value(SPLIT_LABELS[split], value)

    n_outputs = predictions["train"].shape[1]
    weight_name = next((n for n in ("ScaledWeight", "Weight") if n in data["train"]), "unit weights")
    text.heading(f"ROC AUC, one-vs-rest (weights '{weight_name}', events with negative weights excluded):")
    for k, (positive, rest) in enumerate(nodes(n_outputs, labels)):
        key = "roc_auc" if n_outputs == 1 else f"roc_auc_{k}"
        for split, d in data.items():
            auc = weighted_roc_auc(
                node_truth(d, k, n_outputs), predictions[split][:, k], np.asarray(d.weights_for_plots(), np.float64)
            )
            add(split, key, f"{positive} vs. {rest}", number(auc, key))

    for heading, entries, weighted in (
        ("Native metrics (unweighted):", native_metrics, False),
        ("Weighted native metrics (weights 'Weight'):", weighted_native_metrics, True),
    ):
        specs = native_specs(entries)
        if specs:
            text.heading(heading)
        for name, metric_class, kwargs in specs:
            if weighted_implementation(metric_class) is None:
                class_name = getattr(metric_class, "__name__", str(metric_class))
                text.notes.append(f"metric '{name}' ({class_name}) skipped: OPTIMA has no NumPy implementation of it")
                continue
            for split, d in data.items():
                w = d.get("Weight") if weighted else None
                w = np.ones(len(d)) if w is None else w
                add(
                    split,
                    name,
                    name,
                    number(evaluate_weighted(metric_class, kwargs, d["Target"], predictions[split], w), name),
                )

    if custom_metrics:
        text.heading("Custom metrics:")
    for name, function in custom_metrics or []:
        for split, d in data.items():
            batches = chunks(len(d), predict_batch_size, training_batch_size)
            add(split, name, name, custom_value(function, name, d, predictions[split], batches))

    if composite_metrics:
        text.heading("Composite metrics:")
    for name, inputs, function in composite_metrics or []:
        missing = [n for n in inputs if n not in known]
        if missing:
            text.notes.append(f"composite metric '{name}' skipped: {', '.join(missing)} not available here")
            continue
        known[name] = number(function(*(known[n] for n in inputs)), name)
        text.value(name, known[name])
    return text.template(), text.values
