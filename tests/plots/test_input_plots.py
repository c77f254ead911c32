"""Input plots: one figure per variable (PNG + PDF), classes labelled, a scaled panel for non-linear scalings."""

from __future__ import annotations

import struct
import types
from pathlib import Path

import numpy as np
import pytest

from optima_core.builtin.input_handler import InputHandler
from optima_core.config.loader import RunConfig
from optima_core.config.parameters import defaults
from optima_core.inputs.dataset import EventData
from optima_core.plugins.active import using_manager
from optima_core.plugins.manager import create_plugin_manager

pytest.importorskip("mplhep")


def make_data(n: int = 400) -> EventData:
    rng = np.random.default_rng(0)
    target = (np.arange(n) % 2).astype(np.float32)
    inputs = np.column_stack([rng.gamma(2.0, 20.0, n) + 1.0, rng.normal(size=n), rng.poisson(2.0, n)])
    weights = rng.normal(1.0, 0.5, n)  # some negative
    return EventData(
        {"Input": inputs, "Target": target, "Weight": np.ones(n), "ScaledWeight": weights},
        ["pt", "eta/phi", "n_jets"],
    )


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def run_config(**values: object) -> RunConfig:
    return RunConfig({**defaults(), **values})


def test_the_plugin_writes_a_png_and_a_pdf_per_variable(tmp_path: Path) -> None:
    manager = create_plugin_manager()
    assert "plots" in manager.hook_providers("plot_input_data")
    config = run_config(input_scaling={"pt": ("log10", (1.0, 0.0))}, evaluation_class_labels=["Higgs", "Top"])
    with using_manager(manager):  # the hook draws with the run's 'input_data' figure
        handled = manager.hooks.plot_input_data(
            run_config=config, dataset=make_data(), outdir=tmp_path / "inputs", input_vars_list=None
        )
    assert handled is True
    names = sorted(p.name for p in (tmp_path / "inputs").iterdir())
    assert names == ["eta_phi.pdf", "eta_phi.png", "n_jets.pdf", "n_jets.png", "pt.pdf", "pt.png"]
    for stem in ("pt", "eta_phi", "n_jets"):
        assert (tmp_path / "inputs" / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"
    wide, _ = png_size(tmp_path / "inputs" / "pt.png")
    narrow, height = png_size(tmp_path / "inputs" / "n_jets.png")
    assert wide == 2 * narrow, "log10-scaled variables get a second panel"
    assert wide <= 1600 and height <= 800


def test_only_the_requested_variables_are_drawn(tmp_path: Path) -> None:
    manager = create_plugin_manager()
    with using_manager(manager):
        manager.hooks.plot_input_data(
            run_config=run_config(), dataset=make_data(), outdir=tmp_path, input_vars_list=["n_jets"]
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n_jets.pdf", "n_jets.png"]


def test_labels_and_scaled_axis_are_drawn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    from optima_plots import inputs

    drawn: list[Figure] = []
    original = Figure.savefig

    def record(self: Figure, *args: object, **kwargs: object) -> None:
        drawn.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    inputs.plot_input_distributions(
        make_data(), tmp_path, ["pt"], {"pt": ("sqrt", (2.0, 1.0))}, ["Signal", "Background"]
    )
    axes = drawn[0].axes
    assert len(axes) == 2
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["Signal", "Background"]
    assert axes[0].get_xlabel() == "pt" and axes[1].get_xlabel() == "sqrt(2 * pt + 1)"


def test_the_pipeline_draws_into_the_inputs_folder(tmp_path: Path) -> None:
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.exponential(size=80) + 0.1})
    frame["Weight"] = 1.0
    frame["target"] = np.arange(80) % 2
    frame.to_parquet(tmp_path / "data.parquet")
    config = run_config(inputs_file=str(tmp_path / "data.parquet"), input_scaling={"b": ("log10", (1.0, 0.0))})
    manager = create_plugin_manager(run_config_module=types.ModuleType("empty_rc"))
    with using_manager(manager):
        manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=InputHandler(config),
            output_dir=tmp_path / "out",
            inputs_for_crossvalidation=False,
            disable_printing=True,
        )
    assert sorted(p.name for p in (tmp_path / "out" / "inputs").iterdir()) == ["a.pdf", "a.png", "b.pdf", "b.png"]


def test_binning_gives_one_bin_per_integer_value_and_quantile_bins_otherwise() -> None:
    from optima_plots.inputs import binning

    assert binning(np.array([0.0, 1.0, 2.0, 2.0])).tolist() == [-0.5, 0.5, 1.5, 2.5]
    edges = binning(np.random.default_rng(0).normal(size=1000))
    assert len(edges) == 41 and edges[0] > -5 and edges[-1] < 5
    assert len(binning(np.full(10, 3.5))) == 41
