"""HEP-standard figures: sqrt(sum w^2) error bars (also in ratios), the experiment label, negative weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optima_core.config.loader import RunConfig
from optima_core.config.parameters import PARAMETERS_BY_NAME, defaults
from optima_core.hookspecs import hookimpl
from optima_core.plugins.active import using_manager
from optima_core.plugins.manager import create_plugin_manager

pytest.importorskip("mplhep")
pytest.importorskip("hist")

from optima_plots.binned import binned, ratio, weighted_hist
from optima_plots.labels import PlotLabel, current_label, using_plot_label
from optima_plots.outputs import output_edges, plot_normalised_outputs, plot_stacked_outputs

LABELS = ["Higgs", "Top"]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure saved during the test (saved as usual, and kept for inspection)."""
    from matplotlib.figure import Figure

    figures: list[Any] = []
    original = Figure.savefig

    def record(self: Figure, *args: Any, **kwargs: Any) -> None:
        if not figures or figures[-1] is not self:
            figures.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return figures


def numpy_bins(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of weights and sqrt of the sum of squared weights per bin, the overflow counted in the edge bins."""
    clipped = np.clip(values, edges[0], edges[-1])
    sums, _ = np.histogram(clipped, bins=edges, weights=weights)
    squares, _ = np.histogram(clipped, bins=edges, weights=weights**2)
    return sums, np.sqrt(squares)


def error_bars(container: Any) -> dict[float, tuple[float, float]]:
    """``{x: (y, half length)}`` of the vertical error bars of a matplotlib ``ErrorbarContainer``."""
    bars = {}
    for segment in container.lines[2][0].get_segments():
        (x, low), (_, high) = segment
        bars[round(float(x), 9)] = ((low + high) / 2, (high - low) / 2)
    return bars


def all_texts(figure: Any) -> str:
    from matplotlib.text import Text

    return " | ".join(t.get_text() for t in figure.findobj(Text) if t.get_text())


def events(n: int, seed: int, negative_fraction: float = 0.15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 2, n)
    scores = np.clip(rng.normal(0.65 - 0.3 * classes, 0.2), 0.0, 1.0)
    weights = rng.exponential(1.0, n) * np.where(rng.random(n) < negative_fraction, -1.0, 1.0)
    return scores, classes, weights


def test_bin_contents_and_errors_are_the_sums_of_weights_and_squared_weights() -> None:
    edges = np.array([0.0, 0.25, 0.5, 1.0])
    values = np.array([-3.0, 0.1, 0.3, 0.3, 0.6, 1.0, 7.0, np.nan])  # below, inside, on the upper edge, above, NaN
    weights = np.array([0.5, 2.0, -1.5, 3.0, 1.0, -0.25, 2.0, 9.0])
    histogram = weighted_hist(values, weights, edges)
    assert histogram.values().tolist() == pytest.approx([2.5, 1.5, 2.75])
    assert histogram.variances().tolist() == pytest.approx([4.25, 11.25, 5.0625])
    finite = np.isfinite(values)
    expected_sums, expected_errors = numpy_bins(values[finite], weights[finite], edges)
    unit = binned(values, weights, edges, unit_area=True)
    area = float(np.sum(expected_sums * np.diff(edges)))
    np.testing.assert_allclose(unit.values, expected_sums / area)
    np.testing.assert_allclose(unit.errors, expected_errors / area)


def test_a_ratio_propagates_the_errors_of_both_histograms() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    numerator = binned(np.array([0.5, 0.5, 1.5, 2.5]), np.array([1.0, 2.0, 4.0, 1.0]), edges)
    denominator = binned(np.array([0.5, 1.5, 1.5, 2.5]), np.array([2.0, 1.0, 1.0, -1.0]), edges)
    value, error = ratio(numerator, denominator)
    assert value[:2].tolist() == pytest.approx([1.5, 2.0])
    # sqrt(σa² + r² σb²) / b: bin 0: sqrt(5 + 2.25 * 4) / 2; bin 1: sqrt(16 + 4 * 2) / 2
    assert error[:2].tolist() == pytest.approx([np.sqrt(14.0) / 2, np.sqrt(24.0) / 2])
    assert np.isnan(value[2]) and np.isnan(error[2]), "a negative reference bin is left blank"


def test_the_drawn_error_bars_are_sqrt_sum_w2_of_each_bin(drawn: list[Any], tmp_path: Path) -> None:
    splits = [("train", *events(3000, 1)), ("test", *events(800, 2))]
    files = plot_normalised_outputs(splits, LABELS, "Higgs vs. Top", tmp_path / "norm")
    assert [p.name for p in files] == ["norm.png", "norm.pdf"]
    main, ratio_axes = drawn[0].axes
    edges = output_edges(*(s[1] for s in splits))
    centres = np.round(0.5 * (edges[1:] + edges[:-1]), 9)
    # In drawing order (split by split, class by class); mplhep adds empty containers for the legend.
    containers = iter(c for c in main.containers if error_bars(c))
    expected: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    for split_label, scores, classes, weights in splits:
        for k in range(len(LABELS)):
            sums, errors = numpy_bins(scores[classes == k], weights[classes == k], edges)
            area = float(np.sum(sums * np.diff(edges)))
            expected[split_label, k] = sums / area, errors / area
            bars = error_bars(next(containers))
            drawn_y = np.array([bars[x][0] for x in centres])
            drawn_error = np.array([bars[x][1] for x in centres])
            np.testing.assert_allclose(drawn_y, sums / area, atol=1e-12)
            np.testing.assert_allclose(drawn_error, errors / area, atol=1e-12)
    assert next(containers, None) is None
    legend = [t.get_text() for t in main.get_legend().get_texts()]
    assert legend == ["Higgs (train)", "Top (train)", "Higgs (test)", "Top (test)"]
    for k, container in enumerate(ratio_axes.containers):
        (test_y, test_err), (train_y, train_err) = expected["test", k], expected["train", k]
        shown = train_y > 0
        r = test_y[shown] / train_y[shown]
        bars = error_bars(container)
        assert sorted(bars) == pytest.approx(sorted(centres[shown]))
        np.testing.assert_allclose([bars[x][0] for x in centres[shown]], r)
        np.testing.assert_allclose(
            [bars[x][1] for x in centres[shown]], np.hypot(test_err[shown], r * train_err[shown]) / train_y[shown]
        )


def test_the_stacked_figure_shows_the_uncertainty_of_the_total(drawn: list[Any], tmp_path: Path) -> None:
    scores, classes, weights = events(2000, 3)
    plot_stacked_outputs(scores, classes, weights, LABELS, "Higgs vs. Top", "testing", tmp_path / "stack")
    (ax,) = drawn[0].axes
    edges = output_edges(scores)
    total, error = numpy_bins(scores, weights, edges)
    (band,) = [p for p in ax.patches if p.get_label() == "Stat. uncertainty"]
    upper, band_edges, lower = band.get_data()
    np.testing.assert_allclose(band_edges, edges)
    np.testing.assert_allclose(upper, total + error, atol=1e-9)
    np.testing.assert_allclose(lower, total - error, atol=1e-9)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [*LABELS, "Stat. uncertainty"]


def test_the_label_and_luminosity_text_appear_on_every_physics_plot(drawn: list[Any], tmp_path: Path) -> None:
    from optima_plots.inputs import plot_input_distributions
    from optima_plots.roc import plot_roc_curves

    scores, classes, weights = events(600, 4)
    with using_plot_label(PlotLabel("CMS Preliminary", "138 fb$^{-1}$ (13 TeV)")):
        assert current_label().parts() == ("CMS", "Preliminary")
        plot_stacked_outputs(scores, classes, weights, LABELS, "Higgs vs. Top", "testing", tmp_path / "s")
        plot_normalised_outputs([("train", scores, classes, weights)] * 2, LABELS, "Higgs vs. Top", tmp_path / "n")
        plot_roc_curves([("testing", classes == 0, scores, weights)], "Higgs", "Top", tmp_path / "r")
    for figure in drawn:
        texts = all_texts(figure)
        assert "CMS" in texts and "Preliminary" in texts and "138 fb$^{-1}$ (13 TeV)" in texts
    assert current_label() == PlotLabel("Simulation", None)
    drawn.clear()
    plot_input_distributions(_input_data(), tmp_path / "inputs", ["x"], None, LABELS)
    assert "Simulation" in all_texts(drawn[0]) and "fb" not in all_texts(drawn[0])


def _input_data() -> Any:
    from optima_core.inputs.dataset import EventData

    scores, classes, weights = events(500, 5)
    columns = {"Input": scores[:, None], "Target": (classes == 0).astype(np.float32), "ScaledWeight": weights}
    return EventData(columns, ["x"])


def test_the_run_config_sets_the_label_of_the_input_plots(drawn: list[Any], tmp_path: Path) -> None:
    config = RunConfig({**defaults(), "plot_label": "LHCb Simulation", "plot_lumi_text": "5.4 fb$^{-1}$"})
    manager = create_plugin_manager()
    with using_manager(manager):
        manager.hooks.plot_input_data(run_config=config, dataset=_input_data(), outdir=tmp_path, input_vars_list=None)
    texts = all_texts(drawn[0])
    assert "LHCb" in texts and "Simulation" in texts and "5.4 fb$^{-1}$" in texts
    assert defaults()["plot_label"] == "Simulation" and defaults()["plot_lumi_text"] is None


class _LabelSeenByEvaluate:
    """An ``evaluate`` implementation that reports the plot label in force while it runs."""

    @hookimpl
    def evaluate(self, run_config: Any) -> PlotLabel:
        return current_label()


def test_the_run_config_sets_the_label_of_the_evaluation_figures() -> None:
    manager = create_plugin_manager()
    manager.pm.register(_LabelSeenByEvaluate(), name="probe")
    assert manager.hook_providers("evaluate")[-1] == "optima_core.builtin.plugin"
    config = RunConfig({**defaults(), "plot_label": "ATLAS Internal", "plot_lumi_text": "13.6 TeV"})
    arguments = {name: None for name in manager.pm.hook.evaluate.spec.argnames}
    seen = manager.pm.hook.evaluate(**{**arguments, "run_config": config})
    assert seen == PlotLabel("ATLAS Internal", "13.6 TeV")
    assert current_label() == PlotLabel(), "the label is reset after the evaluation"


@pytest.mark.parametrize(("name", "bad"), [("plot_label", None), ("plot_label", 3), ("plot_lumi_text", ["13 TeV"])])
def test_label_parameters_refuse_non_strings(name: str, bad: Any) -> None:
    assert PARAMETERS_BY_NAME[name].check(bad) is not None
    assert PARAMETERS_BY_NAME[name].check("13 TeV") is None


def test_bins_with_negative_weights_break_no_figure(drawn: list[Any], tmp_path: Path) -> None:
    from optima_plots.inputs import plot_input_distributions

    rng = np.random.default_rng(7)
    n = 1200
    classes = np.arange(n) % 2
    scores = rng.random(n)
    weights = rng.exponential(1.0, n)
    weights[(scores > 0.7) & (classes == 1)] *= -1.0  # whole bins of the background are negative
    weights[classes == 1] *= 1e-3  # and the classes differ by a lot: the stacked figure goes logarithmic
    files = plot_stacked_outputs(scores, classes, weights, LABELS, "Higgs vs. Top", "testing", tmp_path / "s")
    files += plot_normalised_outputs(
        [("train", scores, classes, weights), ("test", scores[::-1], classes, -weights)], LABELS, "out", tmp_path / "n"
    )
    files += plot_input_distributions(_input_data(), tmp_path / "in", ["x"], {"x": ("log10", (1.0, -0.5))}, LABELS)
    assert all(p.stat().st_size > 1000 for p in files) and len(files) == 6
    assert drawn[0].axes[0].get_yscale() == "log"
    negative = binned(scores[classes == 1], weights[classes == 1], output_edges(scores))
    assert (negative.values < 0).any() and np.all(negative.errors >= 0) and np.all(np.isfinite(negative.errors))


@pytest.mark.slow
@pytest.mark.lightning
def test_a_run_config_label_reaches_the_figures_of_the_builtin_evaluate(drawn: list[Any], tmp_path: Path) -> None:
    """The core's ``evaluate`` with a trained Lightning model: every figure it draws carries the run-config's label."""
    pytest.importorskip("lightning")
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
    from evaluation_helpers import evaluate, run_config_for, train

    model = train("Lightning", 2, tmp_path)
    extra = 'plot_label = "ATLAS Simulation Internal"\nplot_lumi_text = "13.6 TeV"\n'
    outcome = evaluate(model, tmp_path / "figs", run_config=run_config_for(tmp_path, "Lightning", extra, "_label"))
    assert outcome is not None
    assert sorted(p.name for p in (tmp_path / "figs").glob("*.png")) == [
        "outputs_normalised_node0.png",
        "outputs_stacked_node0.png",
        "roc_node0.png",
    ]
    assert len(drawn) == 3
    for figure in drawn:
        texts = all_texts(figure)
        assert "ATLAS" in texts and "Simulation Internal" in texts and "13.6 TeV" in texts
    assert current_label() == PlotLabel()


def test_the_evaluate_wrapper_is_not_named_as_the_provider() -> None:
    """`optima check` names the hook's first provider; a wrapper that only passes the call on is not one."""
    providers = create_plugin_manager().hook_providers("evaluate")
    assert "plots" not in providers
    assert providers[0] == "optima_core.builtin.plugin"


def test_the_pdf_keeps_the_layout_computed_for_the_png(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The constrained layout runs once per figure (it measured every tick label twice before), each file is drawn
    once (not once more without rendering, as matplotlib does before printing a figure that still has a layout
    engine), and the PDF shows the same axes positions as the PNG."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from optima_plots.style import hep_style, new_figure, save_figure

    layouts: list[int] = []
    draws: list[int] = []
    positions: list[list[tuple[float, ...]]] = []
    original_execute, original_savefig = ConstrainedLayoutEngine.execute, Figure.savefig
    original_draw = Figure.draw

    def counted_draw(self: Figure, renderer: Any) -> Any:
        draws.append(1)
        return original_draw(self, renderer)

    def counted(self: Any, figure: Any) -> Any:
        layouts.append(1)
        return original_execute(self, figure)

    def save_and_record(self: Figure, *args: Any, **kwargs: Any) -> None:
        original_savefig(self, *args, **kwargs)
        positions.append([tuple(ax.get_position().bounds) for ax in self.axes])

    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", counted)
    monkeypatch.setattr(Figure, "savefig", save_and_record)
    monkeypatch.setattr(Figure, "draw", counted_draw)
    with hep_style():
        figure, axes = new_figure(11.0, 4.5, max_width=11.0, ncols=2)
        for ax in axes:
            ax.plot(np.arange(10), np.arange(10) ** 3)
            ax.set_ylabel("a long y label, measured by the layout")
        written = save_figure(figure, tmp_path / "figure")
    assert [path.suffix for path in written] == [".png", ".pdf"]
    assert all(path.stat().st_size > 0 for path in written)
    assert len(layouts) == 1
    assert len(draws) == 2  # the PNG, the PDF: no draw only to run the layout
    assert len(positions) == 2 and positions[0] == positions[1]
    assert positions[0][0] != (0.125, 0.11, 0.775, 0.77)  # the constrained layout moved the axes (not the default)


def test_the_png_is_the_one_savefig_draws_with_the_constrained_layout(tmp_path: Path) -> None:
    """Running the layout engine directly instead of in ``savefig``'s extra draw changes no pixel of the PNG."""
    from optima_plots.style import hep_style, new_figure, save_figure

    def figure_with_long_labels() -> Any:
        figure, axes = new_figure(11.0, 4.5, max_width=11.0, ncols=2)
        for ax in axes:
            ax.plot(np.arange(10), np.arange(10) ** 5)
            ax.set_ylabel("a long y label, measured by the layout")
            ax.legend(["a curve"], loc="best")
        return figure

    with hep_style():
        figure_with_long_labels().savefig(tmp_path / "by_savefig.png", dpi=100)
        (png, _pdf) = save_figure(figure_with_long_labels(), tmp_path / "by_save_figure")
    assert png.read_bytes() == (tmp_path / "by_savefig.png").read_bytes()
