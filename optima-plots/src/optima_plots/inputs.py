"""Input-variable plots: one weighted histogram per variable and class, before and after the non-linear scaling.

For each variable one figure is written as ``<variable>.png`` (100 dpi, about 1100x450 pixels) and
``<variable>.pdf``. The left panel shows the raw values; a right panel shows the values after the variable's
``log10`` / ``sqrt`` scaling (``scale * x + offset`` first) and is drawn only for such scalings, since a linear
scaling does not change a histogram's shape. Every class is normalised to unit area so shapes can be compared, with
error bars of ``sqrt(sum of w**2)`` per bin (:mod:`optima_plots.binned`); events are weighted with
``ScaledWeight`` (the original weights, signed) if present, else ``Weight``. Values outside the 0.1-99.9 % quantile
range are drawn in the edge bins; integer variables with few values get one bin per value. Look and saving are
:mod:`optima_plots.style`'s, the experiment label (:mod:`optima_plots.labels`) above the panels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_plots.binned import binned
from optima_plots.labels import draw_plot_label
from optima_plots.style import WIDE_MAX_WIDTH, hep_style, new_figure, save_figure

N_BINS = 40
MAX_DISCRETE_VALUES = 30
PANEL_SIZE = (5.5, 4.5)


def file_stem(variable: Any) -> str:
    """A safe file name for a variable (index tuples become ``1_2_3``)."""
    name = variable if isinstance(variable, str) else "_".join(str(i) for i in variable)
    return re.sub(r"[^\w.+-]+", "_", name).strip("_") or "variable"


def apply_scaling(values: np.ndarray, scaling: tuple[str, tuple[float, float]]) -> np.ndarray:
    """``scale * x + offset``, then the non-linearity (``log10``, ``sqrt``; anything else: none)."""
    scale_type, (scale, offset) = scaling
    shifted = values.astype(np.float64) * scale + offset
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale_type == "log10":
            return np.log10(shifted)
        if scale_type == "sqrt":
            return np.sqrt(shifted)
    return shifted


def binning(values: np.ndarray) -> np.ndarray:
    """Bin edges: one bin per value for few integers, else ``N_BINS`` over the 0.1-99.9 % quantiles."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.linspace(0.0, 1.0, N_BINS + 1)
    unique = np.unique(finite)
    if unique.size <= MAX_DISCRETE_VALUES and np.all(unique == np.round(unique)):
        return np.arange(unique[0] - 0.5, unique[-1] + 1.0)
    low, high = np.quantile(finite, [0.001, 0.999])
    if not high > low:
        low, high = float(finite.min()) - 0.5, float(finite.max()) + 0.5
    return np.linspace(low, high, N_BINS + 1)


def _draw_panel(ax: Any, values: np.ndarray, classes: np.ndarray, weights: np.ndarray, labels: list[str]) -> None:
    import mplhep

    edges = binning(values)
    for index, label in enumerate(labels):
        in_class = classes == index
        if not in_class.any():
            continue
        hist = binned(values[in_class], weights[in_class], edges, unit_area=True)
        mplhep.histplot(
            hist.values, edges, yerr=hist.errors, ax=ax, label=label, histtype="step", color=f"C{index}", flow=None
        )
    ax.set_ylabel("Weighted density (unit area)")
    ax.legend(loc="best")


def class_labels(n_classes: int, labels: Sequence[str] | None) -> list[str]:
    """``labels``, completed with ``class <i>`` for classes without one."""
    given = list(labels or [])
    return [given[i] if i < len(given) else f"class {i}" for i in range(n_classes)]


def plot_input_distributions(
    dataset: Any,
    outdir: str | Path,
    variables: Sequence[Any] | None = None,
    scalings: Mapping[Any, tuple[str, tuple[float, float]]] | None = None,
    labels: Sequence[str] | None = None,
) -> list[Path]:
    """Write the figures described in the module docstring into ``outdir``; return the files written."""
    from optima_core.inputs.store import as_event_data

    data = as_event_data(dataset, what="plot_input_data")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    classes = data.class_index()
    weights = np.asarray(data.weights_for_plots(), dtype=np.float64)
    names = class_labels(data.n_classes, labels)
    written: list[Path] = []
    for variable in variables if variables is not None else data.variables:
        values = np.asarray(data.variable_column(variable), dtype=np.float64)
        scaling = (scalings or {}).get(variable, ("linear", (1.0, 0.0)))
        nonlinear = scaling[0] != "linear"
        with hep_style():
            figure, axes = new_figure(
                PANEL_SIZE[0] * (2 if nonlinear else 1),
                PANEL_SIZE[1],
                max_width=WIDE_MAX_WIDTH,
                ncols=2 if nonlinear else 1,
                squeeze=False,
            )
            axes = axes[0]
            _draw_panel(axes[0], values, classes, weights, names)
            axes[0].set_xlabel(str(variable))
            if nonlinear:
                scale_type, (scale, offset) = scaling
                _draw_panel(axes[1], apply_scaling(values, scaling), classes, weights, names)
                axes[1].set_xlabel(f"{scale_type}({scale:g} * {variable} + {offset:g})")
            draw_plot_label(axes[0], axes[-1])
            written += save_figure(figure, outdir / file_stem(variable))
    return written
