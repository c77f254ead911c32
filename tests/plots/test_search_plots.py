"""Search overviews: metric histories of all trials (best highlighted) and parallel coordinates of the trials."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from optima_plots.search import plot_metric_histories, plot_search  # noqa: E402


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def record_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from matplotlib.figure import Figure

    drawn: list[Figure] = []
    original = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (drawn.append(self), original(self, *a, **k)))
    return drawn


def histories(n_trials: int = 8) -> list[tuple[str, Any]]:
    rng = np.random.default_rng(0)
    result = []
    for trial in range(n_trials):
        epochs = np.arange(1, 6 + trial)
        loss = 1.0 / epochs + 0.1 * trial + 0.01 * rng.random(len(epochs))
        result.append((f"trial_{trial}", pd.DataFrame({"epoch": epochs, "val_loss": loss})))
    result.append(("no_metric", pd.DataFrame({"epoch": [1, 2], "train_loss": [0.5, 0.4]})))
    return result


def test_metric_histories_highlight_the_best_trials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = record_figures(monkeypatch)
    files = plot_metric_histories(histories(), "val_loss", tmp_path / "histories", mode="min", n_best=3)
    assert [p.name for p in files] == ["histories.png", "histories.pdf"]
    width, height = png_size(files[0])
    assert width <= 800 and height <= 600
    assert files[1].read_bytes()[:5] == b"%PDF-"
    ax = drawn[0].axes[0]
    assert len(ax.get_lines()) == 8  # the trial without the metric is skipped
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [text.split(":")[0] for text in legend] == ["#1", "#2", "#3"]
    assert [text.split(" ")[1] for text in legend] == ["trial_0", "trial_1", "trial_2"]  # lowest val_loss first
    drawn.clear()
    plot_metric_histories(histories(), "val_loss", tmp_path / "max", mode="max", n_best=1)
    assert drawn[0].axes[0].get_legend().get_texts()[0].get_text().startswith("#1: trial_7")
    with pytest.raises(ValueError, match="mode"):
        plot_metric_histories(histories(), "val_loss", tmp_path / "bad", mode="lowest")


def test_parallel_coordinates_of_numeric_categorical_and_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = record_figures(monkeypatch)
    frame = pd.DataFrame(
        {
            "trial_id": [f"t{i}" for i in range(6)],
            "learning_rate": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1],
            "num_layers": [1, 2, 3, 4, 2, 3],
            "activation": ["relu", "swish", "selu", "relu", "swish", "relu"],
            "units_4": [None, None, None, 16.0, None, None],  # hierarchical: only with 4 layers
            "val_auc": [0.71, 0.74, 0.80, 0.77, np.nan, 0.69],
        }
    )
    files = plot_search(frame, "val_auc", "max", tmp_path / "search")
    assert [p.name for p in files] == ["search.png", "search.pdf"]
    assert files[1].read_bytes()[:5] == b"%PDF-"
    width, height = png_size(files[0])
    assert width <= 800 and height <= 600
    ax = drawn[0].axes[0]
    names = ["learning_rate (log)", "num_layers", "activation", "units_4"]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    annotations = {t.get_text() for t in ax.texts}
    assert {"relu", "selu", "swish", "None", "0.0001", "0.1", "1", "2", "3", "4", "16"} <= annotations
    best = [line for line in ax.get_lines() if line.get_label().startswith("best")]
    assert len(best) == 1 and best[0].get_label() == "best: 0.8 (trial t2)"
    y = best[0].get_ydata()
    assert y[0] == pytest.approx(1 / 3)  # lr 1e-3 is a third of the way on the log axis from 1e-4 to 1e-1
    assert y[1] == pytest.approx(2 / 3) and y[3] == pytest.approx(-0.08)  # 3 of 1..4 layers; units_4 missing
    drawn.clear()
    plot_search(frame, "val_auc", "min", tmp_path / "search_min")
    best = [line for line in drawn[0].axes[0].get_lines() if line.get_label().startswith("best")]
    assert best[0].get_label() == "best: 0.69 (trial t5)"


def test_parallel_coordinates_name_the_value_selection_ranks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core's frame: the metric at each trial's best valid epoch, named so, with that epoch per trial."""
    drawn = record_figures(monkeypatch)
    metric = "val_loss at best valid epoch"
    frame = pd.DataFrame(
        {
            "trial_id": ["a", "b", "c"],
            "learning_rate": [1e-3, 3e-3, 1e-2],
            "best_epoch": [4, 2, None],
            metric: [0.42, 0.35, np.nan],
        }
    )
    plot_search(frame, metric, "min", tmp_path / "search")
    ax = drawn[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["learning_rate"]  # best_epoch is no hyperparameter
    best = [line for line in ax.get_lines() if line.get_label().startswith("best")]
    assert [line.get_label() for line in best] == ["best: 0.35 (trial b, epoch 2)"]
    assert drawn[0].axes[1].get_ylabel() == metric  # the colour bar says which value colours the lines
