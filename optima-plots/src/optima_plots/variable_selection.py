"""The course of an input-variable selection: the target metric against the iteration, each dropped variable named."""

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
