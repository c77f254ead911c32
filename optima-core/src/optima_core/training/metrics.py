"""The metrics of a run-config, evaluated after every epoch the same way for every backend.

Backend-native metrics are computed by the backend (it knows its metric objects). Everything else happens here,
from predictions as NumPy arrays: weighted native metrics for backends without sample weights (Lightning),
custom metrics ``(input_batch, y_pred_batch)``, composite metrics and overtraining conditions. Names get the
``train_``/``val_`` prefixes; composite metrics are reported under their bare name; overtraining conditions are
evaluated but not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optima_core.metrics.predictions import (
    NativeSpec,
    batch_ranges,
    composite_value,
    custom_value,
    native_specs,
    weighted_native_value,
)

SPLIT_PREFIXES = {"train": "train_", "val": "val_"}

CustomSpec = tuple[str, Callable[..., Any]]
CompositeSpec = tuple[str, tuple[str, ...], Callable[..., Any]]


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
            native=native_specs(run_config.native_metrics),
            weighted_native=native_specs(run_config.weighted_native_metrics),
            custom=[(name, function) for name, function in run_config.custom_metrics],
            composite=[(n, tuple(inputs), f) for n, inputs, f in run_config.composite_metrics],
            overtraining=[(n, tuple(inputs), f) for n, inputs, f in run_config.overtraining_conditions],
            predict_batch_size=run_config.predict_batch_size,
            conventional_batch_axis=run_config.conventional_batch_axis,
        )

    def needs_predictions(self, backend_weights_natively: bool) -> bool:
        return bool(self.custom) or (bool(self.weighted_native) and not backend_weights_natively)

    # -- evaluation (the shared implementations of optima_core.metrics.predictions) ----------------------------

    def weighted_values(self, split: str, data: Mapping[str, Any], predictions: np.ndarray) -> dict[str, float]:
        """Weighted native metrics computed here (for backends that cannot weight their own metrics)."""
        prefix = SPLIT_PREFIXES[split]
        return {
            prefix + name: weighted_native_value(metric_class, kwargs, data, predictions, weighted=True)
            for name, metric_class, kwargs in self.weighted_native
        }

    def custom_values(
        self, split: str, data: Mapping[str, Any], predictions: np.ndarray, training_batch_size: int
    ) -> dict[str, float]:
        """Custom metrics on one split, over the whole split or averaged over prediction batches."""
        if not self.custom:
            return {}
        prefix = SPLIT_PREFIXES[split]
        ranges = batch_ranges(
            len(data["Target"]), self.predict_batch_size, training_batch_size, self.conventional_batch_axis
        )
        return {
            prefix + name: custom_value(function, name, data, predictions, ranges) for name, function in self.custom
        }

    def composite_values(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """Composite metrics, in order, each allowed to use the ones before it."""
        known = dict(metrics)
        values: dict[str, Any] = {}
        for name, inputs, function in self.composite:
            values[name] = known[name] = composite_value(function, inputs, known, name)
        return values

    def overtraining_verdicts(self, metrics: Mapping[str, Any]) -> dict[str, bool]:
        """Each overtraining condition's verdict for one epoch (True: overtraining detected)."""
        return {
            name: bool(composite_value(function, inputs, metrics, name)) for name, inputs, function in self.overtraining
        }
