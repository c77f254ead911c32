"""The metrics of a run-config, evaluated after every epoch the same way for every backend.

Backend-native metrics are computed by the backend (it knows its metric objects). Everything else happens here,
from predictions as NumPy arrays: weighted native metrics for backends without sample weights (Lightning),
custom metrics ``(input_batch, y_pred_batch)``, composite metrics and overtraining conditions. Names get the
``train_``/``val_`` prefixes; composite metrics are reported under their bare name; overtraining conditions are
evaluated but not reported.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optima_core.metrics.weighted import evaluate_weighted

SPLIT_PREFIXES = {"train": "train_", "val": "val_"}

NativeSpec = tuple[str, Any, dict[str, Any]]  # (name, MetricClass, kwargs)
CustomSpec = tuple[str, Callable[..., Any]]
CompositeSpec = tuple[str, tuple[str, ...], Callable[..., Any]]


def _native(entries: Any) -> list[NativeSpec]:
    return [(name, spec[0], dict(spec[1])) for name, spec in (entries or [])]


@dataclass
class MetricPlan:
    """Which metrics a run-config asks for, and how to evaluate those that are not backend-native."""

    native: list[NativeSpec] = field(default_factory=list)
    weighted_native: list[NativeSpec] = field(default_factory=list)
    custom: list[CustomSpec] = field(default_factory=list)
    composite: list[CompositeSpec] = field(default_factory=list)
    overtraining: list[CompositeSpec] = field(default_factory=list)
    predict_batch_size: int = -1
    conventional_batch_axis: bool = True

    @classmethod
    def from_run_config(cls, run_config: Any) -> MetricPlan:
        return cls(
            native=_native(run_config.native_metrics),
            weighted_native=_native(run_config.weighted_native_metrics),
            custom=[(name, function) for name, function in run_config.custom_metrics],
            composite=[(n, tuple(inputs), f) for n, inputs, f in run_config.composite_metrics],
            overtraining=[(n, tuple(inputs), f) for n, inputs, f in run_config.overtraining_conditions],
            predict_batch_size=run_config.predict_batch_size,
            conventional_batch_axis=run_config.conventional_batch_axis,
        )

    def needs_predictions(self, backend_weights_natively: bool) -> bool:
        return bool(self.custom) or (bool(self.weighted_native) and not backend_weights_natively)

    # -- evaluation -----------------------------------------------------------------------------------------

    def weighted_values(self, split: str, data: Mapping[str, Any], predictions: np.ndarray) -> dict[str, float]:
        """Weighted native metrics computed here (for backends that cannot weight their own metrics)."""
        prefix = SPLIT_PREFIXES[split]
        weights = _weights(data)
        return {
            prefix + name: evaluate_weighted(metric_class, kwargs, data["Target"], predictions, weights)
            for name, metric_class, kwargs in self.weighted_native
        }

    def custom_values(
        self, split: str, data: Mapping[str, Any], predictions: np.ndarray, training_batch_size: int
    ) -> dict[str, float]:
        """Custom metrics on one split, over the whole split or averaged over prediction batches."""
        if not self.custom:
            return {}
        prefix = SPLIT_PREFIXES[split]
        inputs, targets = data["Input"], data["Target"]
        weights = data.get("Weight")
        chunks = _chunks(len(targets), self.predict_batch_size, training_batch_size, self.conventional_batch_axis)
        values: dict[str, float] = {}
        for name, function in self.custom:
            total = 0.0
            for start, stop in chunks:
                batch: tuple[Any, ...] = (inputs[start:stop], targets[start:stop])
                if weights is not None:
                    batch += (weights[start:stop],)
                total += _scalar(function(batch, predictions[start:stop]), name) * (stop - start)
            values[prefix + name] = total / max(len(targets), 1)
        return values

    def composite_values(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """Composite metrics, in order, each allowed to use the ones before it."""
        known = dict(metrics)
        values: dict[str, Any] = {}
        for name, inputs, function in self.composite:
            values[name] = known[name] = _scalar(function(*_lookup(known, inputs, name)), name)
        return values

    def overtraining_verdicts(self, metrics: Mapping[str, Any]) -> dict[str, bool]:
        """Each overtraining condition's verdict for one epoch (True: overtraining detected)."""
        return {name: bool(function(*_lookup(metrics, inputs, name))) for name, inputs, function in self.overtraining}


def _weights(data: Mapping[str, Any]) -> np.ndarray:
    if "Weight" in data:
        return np.asarray(data["Weight"], dtype=np.float64).reshape(-1)
    return np.ones(len(data["Target"]))


def _chunks(length: int, predict_batch_size: int, training_batch_size: int, batch_axis: bool) -> list[tuple[int, int]]:
    if predict_batch_size is None or predict_batch_size <= 0 or not batch_axis or length == 0:
        return [(0, length)]
    size = math.ceil(predict_batch_size / training_batch_size) * training_batch_size
    return [(start, min(start + size, length)) for start in range(0, length, size)]


def _lookup(metrics: Mapping[str, Any], names: tuple[str, ...], owner: str) -> list[Any]:
    missing = [n for n in names if n not in metrics]
    if missing:
        raise KeyError(
            f"metric '{owner}' needs {', '.join(repr(m) for m in missing)}, which was not reported; "
            f"reported: {', '.join(sorted(metrics))}"
        )
    return [metrics[n] for n in names]


def _scalar(value: Any, name: str) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real):
        return float(value)
    array = np.asarray(value)
    if array.size == 1:
        return array.reshape(()).item()
    raise TypeError(f"metric '{name}' returned {type(value).__name__} of shape {array.shape}; expected a number")
