"""Input-variable selection figures: the metric against the iteration, and the stability of each variable's decision."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optima_plots.style import hep_style, new_figure, save_figure


def plot_variable_selection(
    iterations: Sequence[dict[str, Any]],
    start: dict[str, float],
    metric: str,
    path_stem: str | Path,
    selected_iteration: int | None = None,
) -> list[Path]:
    """Draw the metric (value ± uncertainty) of the chosen set per iteration; iteration 0 is the start value.

    ``iterations``: one dict per iteration with ``number``, ``value``, ``uncertainty``, ``dropped`` (a label) and
    ``accepted``; ``start``: ``value`` and ``uncertainty`` with every variable. Accepted iterations are drawn
    filled, rejected ones hollow; ``selected_iteration`` (the set returned) is marked. Writes PNG and PDF.
    """
    numbers = [0] + [int(it["number"]) for it in iterations]
    values = [float(start["value"])] + [float(it["value"]) for it in iterations]
    errors = [float(start["uncertainty"])] + [float(it["uncertainty"]) for it in iterations]
    with hep_style():
        figure, ax = new_figure(7.5, 5.0)
        ax.errorbar(numbers, values, yerr=errors, color="C0", linewidth=1.2, capsize=3, zorder=2)
        for it, x, y in zip(iterations, numbers[1:], values[1:], strict=True):
            accepted = bool(it["accepted"])
            ax.plot(x, y, "o", color="C0", markerfacecolor="C0" if accepted else "white", markersize=7, zorder=3)
            ax.annotate(
                f"-{it['dropped']}",
                (x, y),
                textcoords="offset points",
                xytext=(5, 6),
                rotation=35,
                fontsize=8,
                color="black" if accepted else "grey",
            )
        ax.plot(0, values[0], "s", color="C1", markersize=7, zorder=3, label="all variables")
        if selected_iteration is not None and selected_iteration in numbers:
            index = numbers.index(selected_iteration)
            ax.plot(numbers[index], values[index], "*", color="C3", markersize=15, zorder=4, label="selected set")
        ax.plot([], [], "o", color="C0", label="accepted")
        ax.plot([], [], "o", color="C0", markerfacecolor="white", label="rejected")
        ax.set_xlabel("Iteration (variable dropped)")
        ax.set_ylabel(metric)
        ax.set_xticks(numbers)
        ax.margins(x=0.1, y=0.25)
        ax.legend(loc="best", fontsize=8)
        return save_figure(figure, path_stem)


def plot_variable_stability(
    stability: dict[str, dict[str, Any]], metric: str, op: str, path_stem: str | Path
) -> list[Path]:
    """Per variable: the fraction of evaluations in which its removal was judged harmless, and the mean paired
    difference (metric without the variable minus reference) ± its uncertainty.

    ``stability``: the ``"stability"`` record of ``variable_selection.json``
    (:mod:`optima_core.variable_selection.stability`); ``op``: ``'min'`` or ``'max'`` (which side of zero is worse).
    Dropped variables are drawn grey, kept ones blue; a variable whose decision flips between folds is hatched and
    marked "flips". Writes PNG and PDF (``<path_stem>.png``, ``.pdf``).
    """
    if op not in ("min", "max"):
        raise ValueError(f"op must be 'min' or 'max', got {op!r}")
    if not stability:
        raise ValueError("stability is empty: no variable was evaluated")
    order = sorted(stability, key=lambda v: (stability[v]["fraction"], v), reverse=True)
    rows = list(range(len(order)))
    colours = ["0.6" if stability[v]["dropped"] else "C0" for v in order]
    with hep_style():
        figure, (left, right) = new_figure(8.0, min(1.5 + 0.4 * len(order), 6.0), ncols=2, sharey=True)
        fractions = [float(stability[v]["fraction"]) for v in order]
        bars = left.barh(rows, fractions, color=colours, edgecolor="black", linewidth=0.6)
        for bar, variable in zip(bars, order, strict=True):
            entry = stability[variable]
            if entry["flips"]:
                bar.set_hatch("//")
            label = f"{entry['removable']}/{entry['evaluations']}" + (" flips" if entry["flips"] else "")
            inside = bar.get_width() > 0.75
            x = bar.get_width() - 0.02 if inside else bar.get_width() + 0.02
            y = bar.get_y() + bar.get_height() / 2
            left.annotate(label, (x, y), va="center", ha="right" if inside else "left", fontsize=8)
        left.set_xlim(0.0, 1.0)
        left.set_yticks(rows, order, fontsize=9)
        left.invert_yaxis()
        left.set_xlabel("removal harmless (fraction of evaluations)", fontsize=10)
        for ax in (left, right):
            ax.tick_params(axis="y", which="minor", left=False, right=False)
        means = [float(stability[v]["mean_difference"]) for v in order]
        errors = [float(stability[v]["uncertainty"]) for v in order]
        for row, mean, error, colour in zip(rows, means, errors, colours, strict=True):
            right.errorbar(mean, row, xerr=error, fmt="o", color=colour, capsize=3, markersize=5)
        right.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
        worse = "positive" if op == "min" else "negative"
        right.set_xlabel(f"{metric} without - reference ({worse} = worse)", fontsize=10)
        left.plot([], [], "s", color="C0", label="kept")
        left.plot([], [], "s", color="0.6", label="dropped")
        left.legend(loc="lower right", fontsize=8)
        return save_figure(figure, path_stem)
