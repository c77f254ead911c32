"""The figures of the evaluation, drawn by optima-plots from predictions the core computed (plot producer 'evaluation')."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from optima_core.evaluation.builtin import draw_figures as request_figures
from optima_core.hookspecs import hookimpl
from optima_core.inputs.dataset import EventData
from optima_core.metrics import weighted_roc_auc, weighted_roc_curve
from optima_core.plugins.descriptors import PlotDescriptor
from optima_core.plugins.manager import create_plugin_manager

pytest.importorskip("matplotlib")

VARS = ["a", "b", "c"]
LABELS = {2: ["Higgs", "Top"], 3: ["Higgs", "Top", "W"]}


def make_events(n: int, classes: int, seed: int) -> tuple[EventData, np.ndarray]:
    """Events with about 10 % negative ``ScaledWeight`` and model-like outputs ``[n, nodes]`` that separate them."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, classes, n)
    target = (label == 0).astype(np.float32) if classes == 2 else np.eye(classes)[label]
    columns = {"Input": rng.normal(size=(n, 3)), "Target": target, "ScaledWeight": rng.normal(1.0, 0.8, n)}
    if classes == 2:
        outputs = 1.0 / (1.0 + np.exp(-(2.0 * (label == 0) - 1.0 + rng.normal(size=n))))[:, None]
    else:
        logits = 2.0 * np.eye(classes)[label] + rng.normal(size=(n, classes))
        outputs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return EventData(columns, VARS), outputs


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def expected_files(nodes: int) -> set[str]:
    kinds = ("outputs_stacked", "outputs_normalised", "roc")
    return {f"{kind}_node{k}{suffix}" for kind in kinds for k in range(nodes) for suffix in (".png", ".pdf")}


@pytest.mark.parametrize("classes", [2, 3])
def test_the_core_requests_the_evaluation_figures_by_name(classes: int, tmp_path: Path) -> None:
    splits = {
        name: make_events(n, classes, seed) for name, n, seed in (("train", 600, 1), ("val", 200, 2), ("test", 200, 3))
    }
    data = {name: events for name, (events, _) in splits.items()}
    predictions = {name: outputs for name, (_, outputs) in splits.items()}
    manager = create_plugin_manager()
    assert manager.plots()["evaluation"].target == "optima_plots.evaluation:draw_figures"
    request_figures(manager, data, predictions, LABELS[classes], tmp_path / "figs")
    nodes = 1 if classes == 2 else classes
    assert {p.name for p in (tmp_path / "figs").iterdir()} == expected_files(nodes)
    for path in (tmp_path / "figs").iterdir():
        if path.suffix == ".png":
            width, height = png_size(path)
            assert 200 < width <= 800 and 200 < height <= 600  # pitfall 18: no 4800x3600 PNGs
        else:
            assert path.read_bytes()[:5] == b"%PDF-"


def test_without_a_test_split_the_validation_split_is_shown(tmp_path: Path) -> None:
    splits = {name: make_events(n, 2, seed) for name, n, seed in (("train", 300, 1), ("val", 100, 2))}
    data = {name: d for name, (d, _) in splits.items()}
    request_figures(create_plugin_manager(), data, {name: p for name, (_, p) in splits.items()}, LABELS[2], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected_files(1))


def unfiltered_auc(is_positive: np.ndarray, score: np.ndarray, weight: np.ndarray) -> float:
    """The AUC keeping negative weights (what the evaluation must not report)."""
    order = np.argsort(-score, kind="mergesort")
    is_positive, weight = is_positive[order], weight[order]
    tpr = np.r_[0.0, np.cumsum(np.where(is_positive, weight, 0.0))] / weight[is_positive].sum()
    fpr = np.r_[0.0, np.cumsum(np.where(~is_positive, weight, 0.0))] / weight[~is_positive].sum()
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def test_negative_weights_are_left_out_of_the_roc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from optima_plots.roc import plot_roc_curves

    rng = np.random.default_rng(5)
    is_positive = rng.random(3000) < 0.4
    score = rng.random(3000) + 0.3 * is_positive
    weight = np.where(rng.random(3000) < 0.2, -3.0 * rng.random(3000), rng.random(3000))
    weight[(score > 1.0) & ~is_positive] = -2.0  # negative-weight background at high score: matters for the AUC
    kept = weight >= 0
    filtered = weighted_roc_auc(is_positive[kept], score[kept], weight[kept])
    assert abs(filtered - unfiltered_auc(is_positive, score, weight)) > 0.02

    fpr, tpr = weighted_roc_curve(is_positive, score, weight)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2 == pytest.approx(filtered)

    drawn: list[Figure] = []
    original = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (drawn.append(self), original(self, *a, **k)))
    files, aucs = plot_roc_curves([("training", is_positive, score, weight)], "Signal", "Background", tmp_path / "r")
    assert aucs == [pytest.approx(filtered)]
    assert [p.name for p in files] == ["r.png", "r.pdf"]
    legend = drawn[0].axes[0].get_legend()
    assert "negative weights excluded" in legend.get_title().get_text()
    assert f"AUC = {filtered:.4f}" in " ".join(t.get_text() for t in legend.get_texts())


ROC_CALLS: list[str] = []


def replacement_roc(splits: list, positive_label: str, rest_label: str, path_stem: Path) -> tuple[list, list]:
    """A plugin's ``roc_curves`` figure: records the call instead of drawing."""
    ROC_CALLS.append(f"{positive_label} vs. {rest_label}")
    return [], []


class _RocReplacement:
    """A plugin replacing the built-in ``roc_curves`` figure (``PlotDescriptor(..., replaces=True)``)."""

    @hookimpl
    def optima_register_plots(self) -> list[PlotDescriptor]:
        return [PlotDescriptor("roc_curves", f"{__name__}:replacement_roc", replaces=True)]


def test_a_plugin_replacing_roc_curves_draws_the_evaluation_roc(tmp_path: Path) -> None:
    splits = {name: make_events(n, 2, seed) for name, n, seed in (("train", 300, 1), ("val", 100, 2))}
    manager = create_plugin_manager()
    manager.pm.register(_RocReplacement(), name="mine")
    ROC_CALLS.clear()
    data = {name: d for name, (d, _) in splits.items()}
    request_figures(manager, data, {name: p for name, (_, p) in splits.items()}, LABELS[2], tmp_path)
    assert ROC_CALLS == ["Higgs vs. Top"]
    assert not list(tmp_path.glob("roc_node*"))
    assert list(tmp_path.glob("outputs_stacked_node0.png"))
