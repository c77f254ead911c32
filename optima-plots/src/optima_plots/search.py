"""Overviews of a hyperparameter search: metric histories of all trials, and parallel coordinates of the trials.

Both write ``<path_stem>.png`` (100 dpi) and ``<path_stem>.pdf`` and return the two paths.

The core hands the parallel-coordinates view one value per trial: the selection metric at the trial's best valid
epoch (the value trial selection ranks), in a column named after what it is (e.g. ``val_loss at best valid epoch``),
with the epoch in ``best_epoch``; the colour bar and the legend repeat that name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_plots.style import hep_style, new_figure, save_figure

#: Columns of a search frame that are not hyperparameters.
NON_HYPERPARAMETER_COLUMNS = frozenset(
    {"trial_id", "trial", "id", "status", "epoch", "best_epoch", "training_iteration"}
)
MISSING_LABEL = "None"


def _best_first(values: Sequence[float] | np.ndarray, mode: str) -> np.ndarray:
    """Indices sorted from the best value to the worst (NaN last)."""
    array = np.asarray(values, dtype=np.float64)
    key = np.where(np.isnan(array), np.inf, array if mode == "min" else -array)
    return np.argsort(key, kind="mergesort")


def plot_metric_histories(
    histories: Sequence[tuple[Any, Any]],
    metric: str,
    path_stem: str | Path,
    mode: str = "min",
    n_best: int = 3,
) -> list[Path]:
    """The target ``metric`` against ``epoch``: one thin grey line per trial, the ``n_best`` trials in colour.

    ``histories`` holds ``(trial_id, DataFrame)`` with columns ``epoch`` and ``metric``; a trial's best epoch
    (``mode`` 'min' or 'max') decides its rank. Trials without the metric column are skipped.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    usable = [(trial, frame) for trial, frame in histories if metric in frame and len(frame)]
    best_values = [float(getattr(frame[metric], mode)()) for _, frame in usable]
    ranking = list(_best_first(best_values, mode))
    highlighted = set(ranking[:n_best])
    with hep_style():
        figure, ax = new_figure(7.0, 5.0)
        for index, (_, frame) in enumerate(usable):
            if index not in highlighted:
                ax.plot(frame["epoch"], frame[metric], color="grey", alpha=0.4, linewidth=0.8)
        for rank, index in enumerate(ranking[:n_best]):
            trial, frame = usable[index]
            label = f"#{rank + 1}: {trial} ({mode} {best_values[index]:.4g})"
            ax.plot(frame["epoch"], frame[metric], linewidth=2.0, color=f"C{rank}", label=label, zorder=3)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{len(usable)} trials", fontsize="medium")
        if highlighted:
            ax.legend(loc="best", title="best trials", fontsize="small")
        return save_figure(figure, path_stem)


def _is_numeric(column: Any) -> bool:
    values = [v for v in column if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return (
        bool(values)
        and all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)
        and not any(isinstance(v, (bool, np.bool_)) for v in values)
    )


def _axis_positions(column: Any) -> tuple[np.ndarray, list[float], list[str], bool]:
    """Positions in [0, 1] (missing values at -0.08), tick positions and labels, and whether the axis is log."""
    values = list(column)
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values])
    positions = np.full(len(values), -0.08)
    ticks: list[float] = []
    labels: list[str] = []
    logarithmic = False
    if _is_numeric(values):
        numbers = np.array([np.nan if m else float(v) for v, m in zip(values, missing, strict=True)])
        low, high = np.nanmin(numbers), np.nanmax(numbers)
        logarithmic = bool(low > 0 and high / low > 100)
        scaled = np.log10(numbers) if logarithmic else numbers
        span = (np.nanmax(scaled) - np.nanmin(scaled)) or 1.0
        positions[~missing] = ((scaled - np.nanmin(scaled)) / span)[~missing]
        distinct = np.unique(numbers[~missing])
        if distinct.size <= 10 and np.all(distinct == np.round(distinct)) and not logarithmic:
            ticks, labels = list((distinct - low) / span), [f"{v:g}" for v in distinct]  # every integer value
        else:
            ticks, labels = [0.0, 1.0], [f"{low:.3g}", f"{high:.3g}"]
    else:
        categories = sorted({str(v) for v, m in zip(values, missing, strict=True) if not m})
        spots = np.linspace(0.0, 1.0, len(categories)) if len(categories) > 1 else np.array([0.5])
        lookup = dict(zip(categories, spots, strict=True))
        positions[~missing] = [lookup[str(v)] for v, m in zip(values, missing, strict=True) if not m]
        ticks, labels = list(spots), categories
    if missing.any():
        ticks.append(-0.08)
        labels.append(MISSING_LABEL)
    return positions, ticks, labels, logarithmic


def _best_origin(frame: Any, row: int) -> str:
    """`` (trial t, epoch e)`` for the legend, from the frame's ``trial_id`` and ``best_epoch`` columns if present."""
    parts = []
    if "trial_id" in frame:
        parts.append(f"trial {frame['trial_id'].iloc[row]}")
    if "best_epoch" in frame and frame["best_epoch"].iloc[row] is not None:
        epoch = frame["best_epoch"].iloc[row]
        if not (isinstance(epoch, float) and np.isnan(epoch)):
            parts.append(f"epoch {int(epoch)}")
    return f" ({', '.join(parts)})" if parts else ""


def plot_search(
    frame: Any,
    metric: str,
    mode: str,
    path_stem: str | Path,
    hyperparameters: Sequence[str] | None = None,
) -> list[Path]:
    """Parallel coordinates: one vertical axis per hyperparameter, one line per trial coloured by ``metric``.

    ``frame`` is a pandas DataFrame with one row per trial. Numeric hyperparameters are scaled to their range
    (logarithmically when positive and spanning more than a factor 100), categorical ones are spread evenly;
    missing values (hierarchical search spaces) sit below the axis at ``None``. The best trial (``mode``) is drawn
    thick, in black; its legend names it (``trial_id``) and its epoch (``best_epoch``) where the frame has them.
    ``hyperparameters`` defaults to every column except ``metric`` and bookkeeping columns.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    import matplotlib

    names = list(hyperparameters or [c for c in frame.columns if c != metric and c not in NON_HYPERPARAMETER_COLUMNS])
    if not names:
        raise ValueError("the search frame has no hyperparameter columns")
    metric_values = np.asarray(frame[metric], dtype=np.float64)
    axes_data = [_axis_positions(frame[name]) for name in names]
    lines = np.column_stack([axis[0] for axis in axes_data])
    finite = metric_values[np.isfinite(metric_values)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    norm = matplotlib.colors.Normalize(vmin=low, vmax=high if high > low else low + 1.0)
    colormap = matplotlib.colormaps["viridis" if mode == "max" else "viridis_r"]  # the best trials are yellow
    x = np.arange(len(names))
    with hep_style():
        figure, ax = new_figure(max(4.5, 1.3 * len(names) + 2.0), 5.0)
        for index in _best_first(metric_values, mode)[::-1]:  # the best drawn last, on top
            value = metric_values[index]
            color = colormap(norm(value)) if np.isfinite(value) else "lightgrey"
            ax.plot(x, lines[index], color=color, alpha=0.8, linewidth=1.0)
        best = _best_first(metric_values, mode)[0]
        if np.isfinite(metric_values[best]):
            label = f"best: {metric_values[best]:.4g}{_best_origin(frame, int(best))}"
            ax.plot(x, lines[best], color="black", linewidth=2.5, label=label, zorder=4)
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
        for position, (_, ticks, labels, _) in zip(x, axes_data, strict=True):
            ax.axvline(position, color="black", linewidth=0.8)
            for tick, label in zip(ticks, labels, strict=True):
                ax.annotate(label, (position, tick), xytext=(3, 0), textcoords="offset points", fontsize=8, va="center")
        tick_names = [f"{name} (log)" if axis[3] else name for name, axis in zip(names, axes_data, strict=True)]
        ax.set_xticks(x, tick_names, rotation=30, ha="right")
        ax.tick_params(axis="x", which="both", top=False)
        ax.tick_params(axis="x", which="minor", bottom=False)
        ax.set_yticks([])
        ax.set_xlim(-0.2, len(names) - 0.6)
        ax.set_ylim(-0.15, 1.08)
        colorbar = figure.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax)
        colorbar.set_label(metric)
        return save_figure(figure, path_stem)
