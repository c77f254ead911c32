"""Shared figure conventions of every OPTIMA figure: HEP style, colours and markers, sizes, saving as PNG + PDF.

mplhep's ROOT style is used when mplhep is installed, plain matplotlib otherwise. Figures are built with
matplotlib's object API (``matplotlib.figure.Figure``: no pyplot, no GUI backend; PNGs are rendered by Agg).
Every figure is written twice: a PNG at 100 dpi (for the report and a quick look) and a PDF (vector, for papers).
A figure is at most 8 x 6 inches (PNG at most 800 x 600 pixels); figures of side-by-side panels may be up to
:data:`WIDE_MAX_WIDTH` inches wide. Classes are coloured ``C0``, ``C1``, ... in label order; splits of the data
are told apart by :data:`SPLIT_MARKERS`. The experiment label above physics plots is :mod:`optima_plots.labels`'.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DPI = 100
MAX_SIZE = (8.0, 6.0)
#: The widest a figure of side-by-side panels (input variables before and after scaling) may be.
WIDE_MAX_WIDTH = 11.0
#: Suffixes written by :func:`save_figure`: PNG for the report, PDF for papers.
FORMATS = (".png", ".pdf")
#: Marker per split (training, validation, testing) where splits are drawn as points.
SPLIT_MARKERS = ("o", "s", "^")
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


def new_figure(
    width: float, height: float, *, max_width: float = MAX_SIZE[0], **subplot_kwargs: Any
) -> tuple[Any, Any]:
    """A constrained-layout figure (size capped at ``max_width`` x :data:`MAX_SIZE`'s height) and its subplots.

    ``subplot_kwargs`` go to ``Figure.subplots``.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(min(width, max_width), min(height, MAX_SIZE[1])), layout="constrained")
    return figure, figure.subplots(**subplot_kwargs)


def save_figure(figure: Any, path_stem: str | Path) -> list[Path]:
    """Write ``<path_stem>.png`` and ``<path_stem>.pdf`` (parent folders created); return both paths.

    The layout is computed once, before the first file, and kept for both: with a layout engine set, ``savefig``
    draws the whole figure once without rendering just to run the engine (a third of the time of writing both
    files), so the engine is run directly and then removed, not replaced by matplotlib's ``"none"`` placeholder
    (with any engine set, ``savefig`` makes that extra draw). Both files show the same layout, the one ``savefig``
    would have computed: the PNG is byte-identical.
    """
    import matplotlib

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
    # None means "no engine" only while the rc settings ask for no automatic layout
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        figure.set_layout_engine(None)  # keeps the positions the layout just computed
    written = []
    for suffix in FORMATS:
        path = stem.with_name(stem.name + suffix)
        figure.savefig(path, dpi=DPI)
        written.append(path)
    return written
