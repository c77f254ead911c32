"""The stability figure of the variable selection: one row per variable, bars of the harmless fraction, differences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")

from optima_plots.variable_selection import plot_variable_stability

STABILITY = {
    "a_shift": {"removable": 0, "evaluations": 15, "fraction": 0.0, "mean_difference": 0.08, "uncertainty": 0.01,
                "flips": False, "dropped": False},
    "noise1": {"removable": 14, "evaluations": 15, "fraction": 14 / 15, "mean_difference": 0.0002,
               "uncertainty": 0.0004, "flips": False, "dropped": True},
    "weak": {"removable": 6, "evaluations": 9, "fraction": 6 / 9, "mean_difference": 0.003, "uncertainty": 0.002,
             "flips": True, "dropped": False},
}  # fmt: skip


def record_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from matplotlib.figure import Figure

    drawn: list[Figure] = []
    original = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (drawn.append(self), original(self, *a, **k)))
    return drawn


def test_stability_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = record_figures(monkeypatch)
    files = plot_variable_stability(STABILITY, "loss", "min", tmp_path / "variable_selection" / "stability")
    assert [p.name for p in files] == ["stability.png", "stability.pdf"]
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and files[1].read_bytes()[:5] == b"%PDF-"
    left, right = drawn[0].axes[:2]
    # rows sorted by the harmless fraction, most removable first (the y axis is inverted)
    assert [t.get_text() for t in left.get_yticklabels()] == ["noise1", "weak", "a_shift"]
    widths = [patch.get_width() for patch in left.patches]
    assert widths == pytest.approx([14 / 15, 6 / 9, 0.0])
    assert [bool(patch.get_hatch()) for patch in left.patches] == [False, True, False]  # flips are hatched
    labels = [text.get_text() for text in left.texts]
    assert "6/9 flips" in labels and "14/15" in labels
    assert "positive = worse" in right.get_xlabel()
    plot_variable_stability(STABILITY, "auc", "max", tmp_path / "max")
    assert "negative = worse" in drawn[-1].axes[1].get_xlabel()


def test_stability_figure_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="op must be 'min' or 'max', got 'lowest'"):
        plot_variable_stability(STABILITY, "loss", "lowest", tmp_path / "x")
    with pytest.raises(ValueError, match="stability is empty"):
        plot_variable_stability({}, "loss", "min", tmp_path / "x")
