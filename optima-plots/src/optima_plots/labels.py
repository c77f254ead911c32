"""The experiment label and the luminosity / energy text drawn above every physics plot.

The run-config parameters ``plot_label`` (default ``"Simulation"``) and ``plot_lumi_text`` (default ``None``) set
them. The label sits above the top-left corner of the axes, in the style of mplhep's experiment labels: a first
word with at least two capital letters is the experiment's name (``ATLAS``, ``CMS``, ``LHCb``) and is set in bold,
the rest in italic (``"ATLAS Simulation Internal"``); ``""`` draws no label. The luminosity text (e.g.
``"140 fb$^{-1}$ (13 TeV)"``, matplotlib mathtext allowed) sits above the top-right corner.

The figure functions keep the signatures the stages call them with, so the values travel in a context variable:
:func:`using_plot_label` sets them around a call, and optima-plots' hook implementations (``plot_input_data``, and
a wrapper around ``evaluate``) do so with the run-config they receive. Outside such a block the defaults apply.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_LABEL = "Simulation"


@dataclass(frozen=True)
class PlotLabel:
    """What is written above a physics plot: ``text`` at the top left, ``lumi_text`` at the top right."""

    text: str = DEFAULT_LABEL
    lumi_text: str | None = None

    def parts(self) -> tuple[str, str]:
        """``(experiment, rest)``: the bold experiment name (may be empty) and the italic remainder."""
        first, _, rest = self.text.strip().partition(" ")
        if sum(ch.isupper() for ch in first) >= 2:
            return first, rest.strip()
        return "", self.text.strip()


_CURRENT: contextvars.ContextVar[PlotLabel | None] = contextvars.ContextVar("optima_plot_label", default=None)


def current_label() -> PlotLabel:
    """The label set by the innermost :func:`using_plot_label`, else the defaults."""
    return _CURRENT.get() or PlotLabel()


@contextlib.contextmanager
def using_plot_label(label: PlotLabel) -> Iterator[None]:
    """Draw ``label`` on the physics plots made inside the block."""
    token = _CURRENT.set(label)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def label_from_run_config(run_config: Any) -> PlotLabel:
    """The run-config's ``plot_label`` and ``plot_lumi_text`` (their defaults where it has none)."""
    from optima_core.inputs.settings import setting

    text = setting(run_config, "plot_label")
    lumi_text = setting(run_config, "plot_lumi_text")
    return PlotLabel("" if text is None else str(text), None if lumi_text in (None, "") else str(lumi_text))


def draw_plot_label(ax: Any, right_ax: Any = None, label: PlotLabel | None = None) -> None:
    """Write the label above ``ax`` (left) and the luminosity text above ``right_ax`` (right; default ``ax``).

    Both are axes titles, so constrained layout keeps room for them.
    """
    label = label or current_label()
    experiment, rest = label.parts()
    if experiment:
        title = ax.set_title(experiment, loc="left", fontweight="bold", fontstyle="normal")
        if rest:
            ax.annotate(
                rest,
                xy=(1.0, 0.0),
                xycoords=title,
                xytext=(4, 0),
                textcoords="offset points",
                va="bottom",
                ha="left",
                fontsize=title.get_fontsize(),
                fontstyle="italic",
            )
    elif rest:
        ax.set_title(rest, loc="left", fontstyle="italic", fontweight="normal")
    if label.lumi_text:
        (right_ax if right_ax is not None else ax).set_title(label.lumi_text, loc="right", fontweight="normal")
