"""Weighted one-vs-rest ROC curves of one output node on several splits, with the AUC of each in the legend.

Events with negative weights are left out: with them a weighted ROC curve can run backwards (non-monotonic).
The curve and its area use the same rules as :func:`optima_core.metrics.weighted_roc_auc` (tied scores give a
diagonal segment), so the AUC in the legend is the value the evaluation reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optima_core.metrics import weighted_roc_auc
from optima_plots.style import hep_style, new_figure, save_figure

NEGATIVE_WEIGHTS_NOTE = "events with negative weights excluded"


def roc_curve(is_positive: np.ndarray, score: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rest efficiency, positive efficiency)`` from (0, 0) to (1, 1), scanning the threshold from the top.

    Events with negative weights are dropped. Empty arrays if either side has no positive total weight.
    """
    is_positive = np.asarray(is_positive, dtype=bool).reshape(-1)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    weight = np.asarray(weight, dtype=np.float64).reshape(-1)
    keep = weight >= 0
    is_positive, score, weight = is_positive[keep], score[keep], weight[keep]
    w_pos, w_rest = weight[is_positive].sum(), weight[~is_positive].sum()
    if w_pos <= 0 or w_rest <= 0:
        return np.empty(0), np.empty(0)
    order = np.argsort(-score, kind="mergesort")
    score, is_positive, weight = score[order], is_positive[order], weight[order]
    starts = np.r_[0, np.flatnonzero(np.diff(score)) + 1]
    pos = np.add.reduceat(np.where(is_positive, weight, 0.0), starts)
    rest = np.add.reduceat(np.where(~is_positive, weight, 0.0), starts)
    return np.r_[0.0, np.cumsum(rest)] / w_rest, np.r_[0.0, np.cumsum(pos)] / w_pos


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
            fpr, tpr = roc_curve(is_positive, score, weight)
            auc = weighted_roc_auc(
                np.asarray(is_positive, dtype=bool).reshape(-1), np.asarray(score), np.asarray(weight)
            )
            aucs.append(auc)
            if fpr.size:
                ax.plot(fpr, tpr, label=f"{split_label} (AUC = {auc:.4f})")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel(f"{rest_label[:1].upper()}{rest_label[1:]} efficiency")
        ax.set_ylabel(f"{positive_label} efficiency")
        ax.legend(loc="lower right", title=f"{positive_label} vs. {rest_label}\n({NEGATIVE_WEIGHTS_NOTE})")
        return save_figure(figure, path_stem), aucs
