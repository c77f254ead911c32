"""Shared figure conventions of the evaluation and search plots: HEP style, sizes, saving as PNG + PDF.

mplhep's ROOT style is used when mplhep is installed, plain matplotlib otherwise. Figures are built with
matplotlib's object API (``matplotlib.figure.Figure``: no pyplot, no GUI backend; PNGs are rendered by Agg).
Every figure is at most 8 x 6 inches and written at 100 dpi, so a PNG is at most 800 x 600 pixels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DPI = 100
MAX_SIZE = (8.0, 6.0)
STYLE_OVERRIDES = {"font.size": 12, "legend.fontsize": 10, "axes.labelsize": 13}


@contextlib.contextmanager
def hep_style() -> Iterator[None]:
    """mplhep's ROOT style (plain matplotlib if mplhep is missing), with fonts sized for small figures."""
    import matplotlib.style

    styles: list[Any] = [STYLE_OVERRIDES]
    try:
        import mplhep

        styles.insert(0, mplhep.style.ROOT)
    except ImportError:
        pass
    with matplotlib.style.context(styles):
        yield


def new_figure(width: float, height: float, **subplot_kwargs: Any) -> tuple[Any, Any]:
    """A constrained-layout figure (size capped at :data:`MAX_SIZE`) and its ``subplots(**subplot_kwargs)``."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(min(width, MAX_SIZE[0]), min(height, MAX_SIZE[1])), layout="constrained")
    return figure, figure.subplots(**subplot_kwargs)


def save_figure(figure: Any, path_stem: str | Path) -> list[Path]:
    """Write ``<path_stem>.png`` and ``<path_stem>.pdf`` (parent folders created); return both paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".pdf"):
        path = stem.with_name(stem.name + suffix)
        figure.savefig(path, dpi=DPI)
        written.append(path)
    return written
