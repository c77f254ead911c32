"""The built-in ``evaluate``: figures of a trained classifier and its loss and metrics on every split.

Predictions come from :func:`optima_core.engine.models.load_predictor`, which hides the backend (Keras or
Lightning) and never tracks gradients. Targets are binary (one sigmoid output, one "node": first class vs. the
second) or one-hot (one softmax output per class, each node one class vs. the rest).

Figures (into ``fig_dir``, each as PNG at 100 dpi and PDF, ``<k>`` = output node):

* ``outputs_stacked_node<k>``: stacked per-class output distributions on the test split (validation if there is
  none), weighted with ``ScaledWeight`` (else ``Weight``), each class summing to its total weight;
* ``outputs_normalised_node<k>``: per class and split, unit area, with val/train and test/train ratio panels;
* ``roc_node<k>``: one-vs-rest ROC curves on every split, AUC in the legend, negative weights excluded.

Values (see :mod:`optima_plots.results` for the text): on each split the loss (event-weighted cross-entropy
with ``Weight``, without regularisation or class weights), the weighted ROC AUC per node (``ScaledWeight``, negative
weights excluded), native metrics (unweighted) and weighted native metrics (``Weight``) through the NumPy
implementations of :mod:`optima_core.metrics.weighted`, custom metrics, then composite metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.inputs.dataset import EventData
from optima_plots.style import label_list

SPLITS = ("train", "val", "test")
LONG_NAMES = {"train": "training", "val": "validation", "test": "testing"}


def split_data(dataset_split: Sequence[Any]) -> dict[str, EventData]:
    """``{'train': ..., 'val': ...[, 'test': ...]}`` as EventData (from EventData, stored data or column dicts)."""
    from optima_core.inputs.store import StoredEventData, as_event_data

    parts = list(dataset_split)
    if len(parts) not in (2, 3):
        raise ValueError(f"evaluate expects (train, val) or (train, val, test) datasets, got {len(parts)}")
    converted = {}
    for name, part in zip(SPLITS, parts, strict=False):
        if isinstance(part, StoredEventData):
            part = part.get()
        converted[name] = as_event_data(part, what="evaluate")
    return converted


def as_columns(predictions: Any, n_events: int) -> np.ndarray:
    """Predictions as float64 ``[N, outputs]``."""
    array = np.asarray(predictions, dtype=np.float64)
    return array.reshape(n_events, -1)


def nodes(n_outputs: int, labels: Sequence[str]) -> list[tuple[str, str]]:
    """``(positive label, rest label)`` of every output node."""
    if n_outputs == 1:
        return [(labels[0], labels[1] if len(labels) == 2 else "rest")]
    return [(label, "rest") for label in labels]


def node_truth(data: EventData, node: int, n_outputs: int) -> np.ndarray:
    """True for the events of the node's class (binary: ``Target == 1``)."""
    classes = data.class_index()
    return classes == (0 if n_outputs == 1 else node)


def draw_figures(
    data: dict[str, EventData], predictions: dict[str, np.ndarray], labels: Sequence[str], fig_dir: str | Path
) -> list[Path]:
    """Write the figures listed in the module docstring; return the files."""
    from optima_plots.outputs import plot_normalised_outputs, plot_stacked_outputs
    from optima_plots.roc import plot_roc_curves

    fig_dir = Path(fig_dir)
    n_outputs = next(iter(predictions.values())).shape[1]
    shown = "test" if "test" in data else "val"
    weights = {name: np.asarray(d.weights_for_plots(), dtype=np.float64) for name, d in data.items()}
    written: list[Path] = []
    for k, (positive, rest) in enumerate(nodes(n_outputs, labels)):
        node_label = f"{positive} vs. {rest}" if n_outputs == 1 else positive
        written += plot_stacked_outputs(
            predictions[shown][:, k],
            data[shown].class_index(),
            weights[shown],
            labels,
            node_label,
            LONG_NAMES[shown],
            fig_dir / f"outputs_stacked_node{k}",
        )
        per_split = [(name, predictions[name][:, k], d.class_index(), weights[name]) for name, d in data.items()]
        written += plot_normalised_outputs(per_split, labels, node_label, fig_dir / f"outputs_normalised_node{k}")
        roc_splits = [
            (LONG_NAMES[name], node_truth(d, k, n_outputs), predictions[name][:, k], weights[name])
            for name, d in data.items()
        ]
        files, _ = plot_roc_curves(roc_splits, positive, rest, fig_dir / f"roc_node{k}")
        written += files
    return written


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
) -> str | tuple[str, list[Any]]:
    """Draw the figures and compute the values described in the module docstring.

    Returns the results text, or with ``return_unfilled`` the tuple ``(template, values)`` where ``template``
    holds one ``{}`` per value (``template.format(*values)`` is the text). ``fig_dir=None`` skips the figures.
    ``cpus`` is not used: predictions run batched in this process. Custom metrics are averaged over prediction
    batches when the run-config's ``predict_batch_size`` is positive (rounded up to whole ``batch_size`` batches).
    """
    from optima_core.engine.models import load_predictor
    from optima_plots.results import compute_results

    data = split_data(dataset_split)
    predict = load_predictor(run_config, model_path, input_handler, list(data.values()))
    predictions = {name: as_columns(predict(d["Input"]), len(d)) for name, d in data.items()}
    n_classes = data["train"].n_classes
    n_outputs = predictions["train"].shape[1]
    n_targets = data["train"]["Target"].shape[1]
    if n_outputs != n_targets:
        raise ValueError(
            f"the model has {n_outputs} output(s) but the targets have {n_targets} column(s); "
            "the built-in evaluate supports one sigmoid output for binary targets or one softmax output per class"
        )
    labels = label_list(n_classes, class_labels)
    if fig_dir is not None:
        draw_figures(data, predictions, labels, fig_dir)
    template, values = compute_results(
        data,
        predictions,
        labels,
        native_metrics=native_metrics,
        weighted_native_metrics=weighted_native_metrics,
        custom_metrics=custom_metrics,
        composite_metrics=composite_metrics,
        predict_batch_size=int(getattr(run_config, "predict_batch_size", -1) or -1),
        training_batch_size=int((model_config or {}).get("batch_size", 1) or 1),
    )
    text = template.format(*values)
    if print_results:
        print(text)
    return (template, values) if return_unfilled else text
