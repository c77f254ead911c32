"""The figures of one evaluated classifier, drawn from the predictions the core's evaluation computed.

Registered as the plot producer ``'evaluation'``; :mod:`optima_core.evaluation.builtin` requests it by name and
calls ``draw_figures(data, predictions, labels, fig_dir)`` (``predictions``: ``{split: [events, outputs]}``), which
requests ``'output_distributions'`` and ``'roc_curves'`` by name in turn. The numbers (loss, AUC, metrics) are the
core's; this module only draws.

Figures (into ``fig_dir``, each as PNG at 100 dpi and PDF, ``<k>`` = output node):

* ``outputs_stacked_node<k>``: stacked per-class output distributions on the test split (validation if there is
  none), weighted with ``ScaledWeight`` (else ``Weight``), each class summing to its total weight;
* ``outputs_normalised_node<k>``: per class and split, unit area, with val/train and test/train ratio panels;
* ``roc_node<k>``: one-vs-rest ROC curves on every split, AUC in the legend, negative weights excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optima_core.evaluation.builtin import LONG_NAMES, node_truth, nodes
from optima_core.inputs.dataset import EventData


def draw_figures(
    data: dict[str, EventData], predictions: dict[str, np.ndarray], labels: Sequence[str], fig_dir: str | Path
) -> list[Path]:
    """Write the figures listed in the module docstring; return the files.

    The stacked output distributions and the ROC curves are drawn by the figures registered as
    ``'output_distributions'`` and ``'roc_curves'`` in the run's plugin manager (a plugin may replace them).
    """
    from optima_core.plugins.active import active_manager
    from optima_plots.outputs import plot_normalised_outputs

    manager = active_manager("optima-plots' evaluation figures")
    plot_stacked_outputs = manager.descriptor("plot", "output_distributions").load()
    plot_roc_curves = manager.descriptor("plot", "roc_curves").load()
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
