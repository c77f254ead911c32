"""Output-distribution figures: stacked per class on one split, and unit-area per class on every split with ratios.

``scores`` is the model output of one node (one column of the predictions) per event, ``classes`` the class index
of every event (label order, see :func:`optima_core.inputs.dataset.class_index`) and ``weights`` the event
weights to fill the histograms with (the evaluation uses ``ScaledWeight``, the original event weights). Outputs
inside [0, 1] (sigmoid/softmax) are binned in 40 equal bins over [0, 1], other outputs over their range; values
outside the range are counted in the edge bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optima_plots.style import hep_style, new_figure, save_figure

N_BINS = 40
SPLIT_LINESTYLES = ("-", "--", ":")


def output_edges(*scores: np.ndarray) -> np.ndarray:
    """40 equal bins over [0, 1] for probabilities, else over the range of all finite ``scores``."""
    values = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1) for s in scores])
    values = values[np.isfinite(values)]
    if values.size == 0 or (values.min() >= 0.0 and values.max() <= 1.0):
        return np.linspace(0.0, 1.0, N_BINS + 1)
    low, high = float(values.min()), float(values.max())
    if not high > low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, N_BINS + 1)


def histogram(scores: np.ndarray, weights: np.ndarray, edges: np.ndarray, unit_area: bool = False) -> np.ndarray:
    """Weighted histogram with the edge bins holding the overflow; ``unit_area``: divided by its area."""
    counts, _ = np.histogram(np.clip(scores, edges[0], edges[-1]), bins=edges, weights=weights)
    if unit_area:
        area = float(np.sum(counts * np.diff(edges)))
        return counts / area if area != 0 else counts
    return counts


def plot_stacked_outputs(
    scores: np.ndarray,
    classes: np.ndarray,
    weights: np.ndarray,
    labels: Sequence[str],
    node_label: str,
    split_label: str,
    path_stem: str | Path,
) -> list[Path]:
    """Stacked weighted histograms of one output node, one layer per class (each summing to its total weight).

    The last class is drawn at the bottom and the first (signal) on top. The y axis is logarithmic when the class
    totals differ by more than a factor 50.
    """
    edges = output_edges(scores)
    hists = [histogram(scores[classes == k], weights[classes == k], edges) for k in range(len(labels))]
    totals = np.array([h.sum() for h in hists])
    with hep_style():
        figure, ax = new_figure(7.0, 5.0)
        baseline = np.zeros(len(edges) - 1)
        for k in reversed(range(len(labels))):
            ax.stairs(baseline + hists[k], edges, baseline=baseline.copy(), fill=True, label=labels[k], color=f"C{k}")
            baseline = baseline + hists[k]
        positive = totals[totals > 0]
        if positive.size > 1 and positive.max() / positive.min() > 50:
            ax.set_yscale("log")
            ax.set_ylim(bottom=max(positive.min() * 1e-4, 1e-12))
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], names[::-1], title=f"{split_label} split", loc="best")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_xlabel(f"Output: {node_label}")
        ax.set_ylabel("Weighted events / bin")
        return save_figure(figure, path_stem)


def plot_normalised_outputs(
    splits: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    labels: Sequence[str],
    node_label: str,
    path_stem: str | Path,
) -> list[Path]:
    """Unit-area histograms of one output node per class and split, with ratio panels to the first split.

    ``splits`` holds ``(split_label, scores, classes, weights)``, the reference split (training) first. Each
    further split gets a ratio panel ``split / reference`` per class (empty reference bins are left blank).
    """
    edges = output_edges(*(s[1] for s in splits))
    hists = [
        [histogram(scores[cls == k], weights[cls == k], edges, unit_area=True) for k in range(len(labels))]
        for _, scores, cls, weights in splits
    ]
    n_ratios = len(splits) - 1
    with hep_style():
        figure, axes = new_figure(
            7.0,
            4.0 + 1.0 * n_ratios,
            nrows=1 + n_ratios,
            sharex=True,
            squeeze=False,
            gridspec_kw={"height_ratios": [3] + [1] * n_ratios},
        )
        axes = axes[:, 0]
        for s, (split_label, *_) in enumerate(splits):
            for k, label in enumerate(labels):
                linestyle = SPLIT_LINESTYLES[s % len(SPLIT_LINESTYLES)]
                axes[0].stairs(hists[s][k], edges, color=f"C{k}", linestyle=linestyle, label=f"{label} ({split_label})")
        axes[0].set_ylabel("Normalised to unit area")
        axes[0].legend(loc="best", ncol=2 if len(labels) * len(splits) > 4 else 1, fontsize="small")
        reference_label = splits[0][0]
        for r in range(1, len(splits)):
            ax = axes[r]
            for k in range(len(labels)):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(hists[0][k] != 0, hists[r][k] / hists[0][k], np.nan)
                ax.stairs(ratio, edges, color=f"C{k}", linestyle=SPLIT_LINESTYLES[r % len(SPLIT_LINESTYLES)])
            ax.axhline(1.0, color="grey", linewidth=0.8)
            ax.set_ylim(0.0, 2.0)
            ax.set_ylabel(f"{splits[r][0]} / {reference_label}", fontsize="small")
        axes[-1].set_xlim(edges[0], edges[-1])
        axes[-1].set_xlabel(f"Output: {node_label}")
        return save_figure(figure, path_stem)
