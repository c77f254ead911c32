"""Output-distribution figures: stacked per class on one split, and unit-area per class on every split with ratios.

``scores`` is the model output of one node (one column of the predictions) per event, ``classes`` the class index
of every event (label order, see :func:`optima_core.inputs.dataset.class_index`) and ``weights`` the event
weights to fill the histograms with (the evaluation uses ``ScaledWeight``, the original event weights, which may be
negative). Outputs inside [0, 1] (sigmoid/softmax) are binned in 40 equal bins over [0, 1], other outputs over
their range; values outside the range are counted in the edge bins.

Every histogram carries its per-bin statistical uncertainty, ``sqrt(sum of w**2)`` (:mod:`optima_plots.binned`);
the ratio panels propagate the uncertainties of both histograms. Histograms are drawn with mplhep, the experiment
label (:mod:`optima_plots.labels`) above the top panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_plots.binned import Binned, binned, ratio
from optima_plots.labels import draw_plot_label
from optima_plots.style import SPLIT_MARKERS, hep_style, new_figure, save_figure

N_BINS = 40
STAT_LABEL = "Stat. uncertainty"
#: The top of the unit-area panel, relative to the highest bin (with its error bar): room for the legend.
LEGEND_HEADROOM = 1.35


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


def class_histograms(
    scores: np.ndarray, classes: np.ndarray, weights: np.ndarray, n_classes: int, edges: np.ndarray, unit_area: bool
) -> list[Binned]:
    """One weighted histogram (with ``sqrt(sum w**2)`` uncertainties) per class; ``unit_area``: each normalised."""
    return [binned(scores[classes == k], weights[classes == k], edges, unit_area) for k in range(n_classes)]


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

    The last class is drawn at the bottom and the first (signal) on top; a hatched band shows the statistical
    uncertainty of the stacked total. The y axis is logarithmic when the class totals differ by more than a
    factor 50.
    """
    import mplhep

    edges = output_edges(scores)
    hists = class_histograms(scores, classes, weights, len(labels), edges, unit_area=False)
    totals = np.array([h.values.sum() for h in hists])
    order = list(reversed(range(len(labels))))
    total = np.sum([h.values for h in hists], axis=0)
    total_error = np.sqrt(np.sum([h.errors**2 for h in hists], axis=0))
    with hep_style():
        figure, ax = new_figure(7.0, 5.0)
        mplhep.histplot(
            [hists[k].values for k in order],
            edges,
            stack=True,
            histtype="fill",
            label=[labels[k] for k in order],
            color=[f"C{k}" for k in order],
            ax=ax,
        )
        ax.stairs(
            total + total_error,
            edges,
            baseline=total - total_error,
            fill=False,
            hatch="////",
            edgecolor="dimgrey",
            linewidth=0,
            label=STAT_LABEL,
        )
        positive = totals[totals > 0]
        top = float(np.max(total + total_error, initial=0.0))
        if positive.size > 1 and positive.max() / positive.min() > 50:
            ax.set_yscale("log")
            bottom = max(positive.min() * 1e-4, 1e-12)
            if top > bottom:  # the same share of the height for the legend as on a linear axis
                ax.set_ylim(bottom, bottom * (top / bottom) ** LEGEND_HEADROOM)
            else:
                ax.set_ylim(bottom=bottom)
        elif top > 0:
            ax.set_ylim(top=LEGEND_HEADROOM * top)
        by_name = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
        shown = [name for name in [*labels, STAT_LABEL] if name in by_name]  # top of the stack first
        ax.legend([by_name[name] for name in shown], shown, title=f"{split_label} split", loc="best")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_xlabel(f"Output: {node_label}")
        ax.set_ylabel("Weighted events / bin")
        draw_plot_label(ax)
        return save_figure(figure, path_stem)


def _draw_split(ax: Any, hist: Binned, index: int, color: str, label: str) -> None:
    """The reference split as a line with error bars, further splits as points with error bars."""
    import mplhep

    if index == 0:
        mplhep.histplot(
            hist.values, hist.edges, yerr=hist.errors, histtype="step", color=color, label=label, ax=ax, flow=None
        )
    else:
        mplhep.histplot(
            hist.values,
            hist.edges,
            yerr=hist.errors,
            histtype="errorbar",
            color=color,
            marker=SPLIT_MARKERS[index % len(SPLIT_MARKERS)],
            markersize=4,
            label=label,
            ax=ax,
            flow=None,
        )


def plot_normalised_outputs(
    splits: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    labels: Sequence[str],
    node_label: str,
    path_stem: str | Path,
) -> list[Path]:
    """Unit-area histograms of one output node per class and split, with ratio panels to the first split.

    ``splits`` holds ``(split_label, scores, classes, weights)``, the reference split (training) first, drawn as
    lines; further splits are drawn as points. Each further split gets a ratio panel ``split / reference`` per
    class, its error bars combining both splits' statistical uncertainties (bins where the reference is not
    positive are left blank).
    """
    edges = output_edges(*(s[1] for s in splits))
    hists = [class_histograms(scores, cls, weights, len(labels), edges, True) for _, scores, cls, weights in splits]
    n_ratios = len(splits) - 1
    centres = 0.5 * (edges[1:] + edges[:-1])
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
                _draw_split(axes[0], hists[s][k], s, f"C{k}", f"{label} ({split_label})")
        tops = [np.nanmax(h.values + h.errors, initial=0.0) for per_split in hists for h in per_split]
        if max(tops) > 0:  # headroom for the legend above the distributions
            axes[0].set_ylim(top=LEGEND_HEADROOM * max(tops))
        axes[0].set_ylabel("Normalised to unit area")
        axes[0].legend(loc="best", ncol=2 if len(labels) * len(splits) > 4 else 1, fontsize="small")
        draw_plot_label(axes[0])
        reference_label = splits[0][0]
        for r in range(1, len(splits)):
            ax = axes[r]
            for k in range(len(labels)):
                value, error = ratio(hists[r][k], hists[0][k])
                shown = np.isfinite(value)
                if not shown.any():
                    continue
                ax.errorbar(
                    centres[shown],
                    value[shown],
                    yerr=error[shown],
                    color=f"C{k}",
                    marker=SPLIT_MARKERS[r % len(SPLIT_MARKERS)],
                    markersize=3,
                    linestyle="none",
                )
            ax.axhline(1.0, color="grey", linewidth=0.8)
            ax.set_ylim(0.0, 2.0)
            ax.set_ylabel(f"{splits[r][0]} / {reference_label}", fontsize="small")
        axes[-1].set_xlim(edges[0], edges[-1])
        axes[-1].set_xlabel(f"Output: {node_label}")
        return save_figure(figure, path_stem)
