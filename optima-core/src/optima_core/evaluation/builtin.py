"""The built-in ``evaluate``: the loss and every metric of one trained classifier on every split, and its figures.

The model is loaded through its backend (:meth:`optima_core.backends.TrainingBackend.load_model`), which gives
predictions without gradients and the framework objects the hooks receive. Targets are binary (one sigmoid output,
one "node": first class vs. the second) or one-hot (one softmax output per class, each node one class vs. the rest).
Values, on each split (training, validation, testing if present):

* the loss: the ``get_loss`` hook on the split's backend-native dataset (the built-ins: the model's loss,
  event-weighted with ``Weight``, without regularisation penalties);
* the weighted ROC AUC per node (:func:`optima_core.metrics.weighted_roc_auc`, weights ``ScaledWeight`` else
  ``Weight``, negative weights excluded);
* native metrics: the ``get_native_metric_values`` hook on the split without event weights;
* weighted native metrics: the same hook with the weights where the backend's metrics take them (Keras), else the
  NumPy implementations of :mod:`optima_core.metrics.weighted`;
* custom metrics and then composite metrics, through :mod:`optima_core.metrics.predictions`.

Figures are drawn by the plot producer registered under the name ``'evaluation'`` (``optima-plots``), called as
``draw(data, predictions, labels, fig_dir)``. Without one, the values are still computed and the run says once
that figures are skipped, and why.
"""

from __future__ import annotations

import importlib.util
import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.errors import OptimaUserError
from optima_core.evaluation.results import Evaluation, ResultsText
from optima_core.inputs.dataset import EventData
from optima_core.logs import say
from optima_core.metrics import weighted_roc_auc
from optima_core.metrics.predictions import (
    batch_ranges,
    composite_value,
    custom_value,
    missing_inputs,
    native_specs,
    scalar,
    weighted_native_value,
)
from optima_core.metrics.weighted import weighted_implementation

SPLITS = ("train", "val", "test")
LONG_NAMES = {"train": "training", "val": "validation", "test": "testing"}
#: The name of the plot producer that draws the figures of one evaluated model.
EVALUATION_PLOT = "evaluation"

_TOLD: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()  # managers told that plots are skipped


def split_data(dataset_split: Sequence[Any]) -> dict[str, EventData]:
    """``{'train': ..., 'val': ...[, 'test': ...]}`` as EventData (from EventData, Ray datasets or column dicts)."""
    from optima_core.inputs.store import as_event_data

    parts = list(dataset_split)
    if len(parts) not in (2, 3):
        raise ValueError(f"evaluate expects (train, val) or (train, val, test) datasets, got {len(parts)}")
    return {name: as_event_data(part, what="evaluate") for name, part in zip(SPLITS, parts, strict=False)}


def label_list(n_classes: int, labels: Sequence[str] | None) -> list[str]:
    """``labels`` padded with ``class <i>`` up to ``n_classes``."""
    given = list(labels or [])
    return [str(given[i]) if i < len(given) else f"class {i}" for i in range(n_classes)]


def nodes(n_outputs: int, labels: Sequence[str]) -> list[tuple[str, str]]:
    """``(positive label, rest label)`` of every output node."""
    if n_outputs == 1:
        return [(labels[0], labels[1] if len(labels) == 2 else "rest")]
    return [(label, "rest") for label in labels]


def node_truth(data: EventData, node: int, n_outputs: int) -> np.ndarray:
    """True for the events of the node's class (binary: ``Target == 1``)."""
    return data.class_index() == (0 if n_outputs == 1 else node)


def skip_reason() -> str:
    """Why no plot producer named ``'evaluation'`` is registered."""
    from optima_core.plugins.manager import DISABLE_ENV

    disabled = [name.strip() for name in os.environ.get(DISABLE_ENV, "").split(",")]
    if {"plots", "optima-plots", "optima_plots"} & set(disabled):
        return f"optima-plots is disabled ({DISABLE_ENV}={os.environ[DISABLE_ENV]})"
    if importlib.util.find_spec("optima_plots") is None:
        return "optima-plots is not installed"
    return "no loaded plugin registers it (see 'optima plugins')"


def say_once_if_plots_skipped(manager: Any) -> None:
    """Say once per run (per manager) why the evaluation has no figures, if no producer ``'evaluation'`` exists.

    Called where the figures would be drawn, and by the driver after a cross-validation (whose models are
    evaluated in Ray workers, where nothing said reaches the console)."""
    if manager.plots().get(EVALUATION_PLOT) is not None or _TOLD.get(id(manager)) is manager:
        return
    _TOLD[id(manager)] = manager
    say(
        f"plots skipped: no plot producer '{EVALUATION_PLOT}' is registered ({skip_reason()}); "
        "evaluation.txt and evaluation.json are written without figures"
    )


def draw_figures(
    manager: Any, data: dict[str, EventData], predictions: dict[str, np.ndarray], labels: list[str], fig_dir: Any
) -> None:
    """Ask the plot producer ``'evaluation'`` for the figures; without one, say once per run why there are none."""
    producer = manager.plots().get(EVALUATION_PLOT)
    if producer is None:
        say_once_if_plots_skipped(manager)
        return
    from optima_core.plugins.active import using_manager

    with using_manager(manager):
        producer.load()(data, predictions, labels, fig_dir)


def evaluate(
    run_config: Any,
    model_path: Any,
    model_config: Any,
    dataset_split: Any,
    input_handler: Any,
    fig_dir: Any,
    native_metrics: Any,
    weighted_native_metrics: Any,
    custom_metrics: Any,
    composite_metrics: Any,
    class_labels: Any,
    cpus: Any,
    print_results: bool,
    return_unfilled: bool,
) -> str | Evaluation:
    """Compute the values described in the module docstring and request the figures (``fig_dir=None``: none).

    Returns the results text, or with ``return_unfilled`` an :class:`Evaluation` ``(template, values)``.
    ``cpus`` is not used. Custom metrics are averaged over prediction batches when the run-config's
    ``predict_batch_size`` is positive (rounded up to whole ``batch_size`` batches).
    """
    from optima_core.engine.models import load_through_backend
    from optima_core.plugins.active import active_manager

    manager = active_manager("the built-in evaluate")
    backend = manager.descriptor("backend", run_config.model_type).load()
    data = split_data(dataset_split)
    config = dict(model_config or {})
    loaded = load_through_backend(backend, Path(model_path), run_config, manager.hooks, input_handler, config, data)
    predictions = {
        name: np.asarray(loaded.predict_events(d), np.float64).reshape(len(d), -1) for name, d in data.items()
    }
    n_outputs = predictions["train"].shape[1]
    n_targets = data["train"]["Target"].reshape(len(data["train"]), -1).shape[1]
    if n_outputs != n_targets:
        raise OptimaUserError(
            f"the model has {n_outputs} output(s) but the targets have {n_targets} column(s); "
            "the built-in evaluate supports one sigmoid output for binary targets or one softmax output per class"
        )
    labels = label_list(data["train"].n_classes, class_labels)
    if fig_dir is not None:
        draw_figures(manager, data, predictions, labels, fig_dir)
    model = _ModelEvaluation(run_config, config, input_handler, manager.hooks, loaded, backend, data, predictions)
    evaluation = model.results(labels, native_metrics, weighted_native_metrics, custom_metrics, composite_metrics)
    text = evaluation[0].format(*evaluation[1])
    if print_results:
        say(text)
    return evaluation if return_unfilled else text


class _ModelEvaluation:
    """One model's evaluation: the hooks, the loaded model, the data and predictions of every split."""

    def __init__(
        self,
        run_config: Any,
        model_config: dict[str, Any],
        input_handler: Any,
        hooks: Any,
        loaded: Any,
        backend: Any,
        data: dict[str, EventData],
        predictions: dict[str, np.ndarray],
    ) -> None:
        self.run_config, self.model_config, self.input_handler, self.hooks = (
            run_config,
            model_config,
            input_handler,
            hooks,
        )
        self.loaded, self.backend, self.data, self.predictions = loaded, backend, data, predictions
        self.text = ResultsText()
        self.known: dict[str, Any] = {}

    def add(self, split: str, name: str, label: str, value: Any) -> None:
        self.known[f"{split}_{name}"] = value
        self.text.value(f"{label} ({LONG_NAMES[split]})", value, (split, name))

    def results(self, labels: list[str], native: Any, weighted: Any, custom: Any, composite: Any) -> Evaluation:
        self.losses()
        self.roc_aucs(labels)
        self.native_metrics(native_specs(native), weighted=False)
        self.native_metrics(native_specs(weighted), weighted=True)
        self.custom_metrics(custom or [])
        self.composite_metrics(composite or [])
        return self.text.evaluation()

    def losses(self) -> None:
        values = {}
        for split in self.data:
            loss = self.hooks.get_loss(
                run_config=self.run_config,
                model_config=self.model_config,
                model=self.loaded.model,
                dataset=self.loaded.dataset(split, weighted=True),
                input_handler=self.input_handler,
            )
            if loss is None:
                self.text.notes.append(f"loss skipped: no get_loss implementation for model_type '{self.backend.name}'")
                return
            values[split] = scalar(loss, "loss")
        self.text.heading("Loss (the get_loss hook; built-in: the model's loss, event-weighted with 'Weight'):")
        for split, value in values.items():
            self.known[f"{split}_loss"] = value
            self.text.value(LONG_NAMES[split], value, (split, "loss"))

    def roc_aucs(self, labels: list[str]) -> None:
        n_outputs = self.predictions["train"].shape[1]
        weight_name = next((n for n in ("ScaledWeight", "Weight") if n in self.data["train"]), "unit weights")
        self.text.heading(f"ROC AUC, one-vs-rest (weights '{weight_name}', events with negative weights excluded):")
        for k, (positive, rest) in enumerate(nodes(n_outputs, labels)):
            key = "roc_auc" if n_outputs == 1 else f"roc_auc_{k}"
            for split, d in self.data.items():
                truth = node_truth(d, k, n_outputs)
                auc = weighted_roc_auc(truth, self.predictions[split][:, k], d.weights_for_plots())
                self.add(split, key, f"{positive} vs. {rest}", auc)

    def native_metrics(self, specs: list[tuple[str, Any, dict[str, Any]]], weighted: bool) -> None:
        """Native metrics through the hook; weighted ones through NumPy where the backend's metrics take no weights."""
        if not specs:
            return
        by_hook = not weighted or self.backend.weights_metrics_natively
        if not by_hook:
            for name, metric_class, _ in specs:
                if weighted_implementation(metric_class) is None:
                    class_name = getattr(metric_class, "__name__", str(metric_class))
                    self.text.notes.append(
                        f"weighted metric '{name}' ({class_name}) skipped: {self.backend.name} metrics take no event "
                        "weights and OPTIMA has no NumPy implementation of it"
                    )
            specs = [spec for spec in specs if weighted_implementation(spec[1]) is not None]
        values: dict[str, list[Any]] = {}
        for split, d in self.data.items():
            if by_hook:
                found = self._hook_values(specs, split, weighted)
                if found is None:
                    self.text.notes.append(
                        f"native metrics skipped: no get_native_metric_values implementation for model_type "
                        f"'{self.backend.name}'"
                    )
                    return
            else:
                found = [weighted_native_value(c, kw, d, self.predictions[split], weighted=True) for _, c, kw in specs]
            values[split] = found
        if specs:
            self.text.heading(
                "Weighted native metrics (weights 'Weight'):" if weighted else "Native metrics (unweighted):"
            )
        for index, (name, _, _) in enumerate(specs):
            for split in self.data:
                self.add(split, name, name, values[split][index])

    def _hook_values(
        self, specs: list[tuple[str, Any, dict[str, Any]]], split: str, weighted: bool
    ) -> list[Any] | None:
        result = self.hooks.get_native_metric_values(
            run_config=self.run_config,
            native_metrics=self.loaded.metric_objects(specs),
            model_config=self.model_config,
            model=self.loaded.model,
            dataset_or_dataloader=self.loaded.dataset(split, weighted=weighted),
            input_handler=self.input_handler,
        )
        if result is None:
            return None
        results = list(result) if isinstance(result, (list, tuple)) else [result]
        if len(results) != len(specs):
            raise OptimaUserError(
                f"get_native_metric_values returned {len(results)} value(s) for {len(specs)} metric(s) "
                f"({', '.join(name for name, _, _ in specs)}); expected one per metric, in their order"
            )
        return [scalar(value, name) for value, (name, _, _) in zip(results, specs, strict=True)]

    def custom_metrics(self, entries: Any) -> None:
        if entries:
            self.text.heading("Custom metrics:")
        predict_batch_size = int(getattr(self.run_config, "predict_batch_size", -1) or -1)
        training_batch_size = int(self.model_config.get("batch_size", 1) or 1)
        for name, function in entries:
            for split, d in self.data.items():
                ranges = batch_ranges(len(d), predict_batch_size, training_batch_size)
                self.add(split, name, name, custom_value(function, name, d, self.predictions[split], ranges))

    def composite_metrics(self, entries: Any) -> None:
        if entries:
            self.text.heading("Composite metrics:")
        for name, inputs, function in entries:
            missing = missing_inputs(self.known, inputs)
            if missing:
                self.text.notes.append(f"composite metric '{name}' skipped: {', '.join(missing)} not available here")
                continue
            self.known[name] = composite_value(function, inputs, self.known, name)
            self.text.value(name, self.known[name], ("composite", name))
