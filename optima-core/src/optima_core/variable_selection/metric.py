"""The target metric of the variable selection (``var_metric``), computed from predictions for every backend.

``'loss'`` is the event-weighted cross-entropy of the predictions (binary for one output, categorical for
one-hot targets), computed here with NumPy: the original asked the backend for its loss, which did not work with
Lightning. The built-in MLPs of both backends are trained with exactly this loss; a run-config model trained with
another loss is still judged by cross-entropy (use a named metric to judge it by something else).
Any other name is looked up among the run-config's ``native_metrics`` (evaluated with unit weights),
``weighted_native_metrics`` (with the ``Weight`` column) and ``custom_metrics`` (called as
``metric((inputs, targets, weights), predictions)`` on the whole validation set), all through the shared
implementations of :mod:`optima_core.metrics.predictions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optima_core.metrics.predictions import custom_value, native_specs, weighted_native_value
from optima_core.metrics.weighted import weighted_cross_entropy


@dataclass(frozen=True)
class TargetMetric:
    """``var_metric`` resolved: its name, kind ('loss', 'native', 'weighted', 'custom') and how to compute it."""

    name: str
    kind: str
    function: Callable[[Any, np.ndarray], float]

    def __call__(self, data: Any, predictions: np.ndarray) -> float:
        return float(self.function(data, predictions))

    def descriptor(self) -> Any:
        """What the hooks receive as ``metric``: ``'loss'`` or the run-config's ``(name, spec)`` entry."""
        return self.name if self.kind == "loss" else (self.name, self.kind)


def resolve_metric(run_config: Any) -> TargetMetric:
    """The :class:`TargetMetric` named by ``run_config.var_metric``; a clear error for an unknown name."""
    name = str(run_config.var_metric)
    if name == "loss":
        return TargetMetric(
            "loss", "loss", lambda data, pred: weighted_cross_entropy(data["Target"], pred, data.get("Weight"))
        )
    for kind, entries in (("native", run_config.native_metrics), ("weighted", run_config.weighted_native_metrics)):
        for entry_name, metric_class, kwargs in native_specs(entries):
            if entry_name == name:

                def native(
                    data: Mapping[str, Any], pred: np.ndarray, spec: Any = (metric_class, kwargs, kind == "weighted")
                ) -> float:
                    return weighted_native_value(spec[0], spec[1], data, pred, weighted=spec[2])

                return TargetMetric(name, kind, native)
    for entry_name, function in run_config.custom_metrics or []:
        if entry_name == name:

            def custom(data: Mapping[str, Any], pred: np.ndarray, function: Any = function) -> float:
                return float(custom_value(function, name, data, pred))

            return TargetMetric(name, "custom", custom)
    known = [n for n, _ in [*(run_config.native_metrics or []), *(run_config.weighted_native_metrics or [])]]
    known += [n for n, _ in run_config.custom_metrics or []]
    raise ValueError(
        f"var_metric '{name}' is neither 'loss' nor a native, weighted native or custom metric of the run-config "
        f"(known: {', '.join(repr(k) for k in ['loss', *known])})"
    )
