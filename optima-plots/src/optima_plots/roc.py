"""Weighted one-vs-rest ROC curves of one output node on several splits, with the AUC of each in the legend.

The curve and its area are the core's (:func:`optima_core.metrics.weighted_roc_curve` and ``weighted_roc_auc``:
events with negative weights left out, tied scores give a diagonal segment), so the AUC in the legend is the value
the evaluation reports. The experiment label (:mod:`optima_plots.labels`) is drawn above the axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optima_core.metrics import weighted_roc_auc, weighted_roc_curve
from optima_plots.labels import draw_plot_label
from optima_plots.style import hep_style, new_figure, save_figure

NEGATIVE_WEIGHTS_NOTE = "events with negative weights excluded"


def plot_roc_curves(
    splits: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    positive_label: str,
    rest_label: str,
    path_stem: str | Path,
) -> tuple[list[Path], list[float]]:
    """One ROC curve per ``(split_label, is_positive, score, weight)``; returns the files and the AUC per split."""
    aucs = []
    with hep_style():
        figure, ax = new_figure(6.0, 6.0)
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="random")
        for split_label, is_positive, score, weight in splits:
            fpr, tpr = weighted_roc_curve(is_positive, score, weight)
            auc = weighted_roc_auc(is_positive, score, weight)
            aucs.append(auc)
            if fpr.size:
                ax.plot(fpr, tpr, label=f"{split_label} (AUC = {auc:.4f})")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel(f"{rest_label[:1].upper()}{rest_label[1:]} efficiency")
        ax.set_ylabel(f"{positive_label} efficiency")
        ax.legend(loc="lower right", title=f"{positive_label} vs. {rest_label}\n({NEGATIVE_WEIGHTS_NOTE})")
        draw_plot_label(ax)
        return save_figure(figure, path_stem), aucs
