"""A plugin replaces a built-in figure explicitly (``PlotDescriptor(..., replaces=True)``) and is the one drawn."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optima_core.builtin.input_handler import InputHandler
from optima_core.config.loader import RunConfig
from optima_core.config.parameters import defaults
from optima_core.hookspecs import hookimpl
from optima_core.plugins.active import using_manager
from optima_core.plugins.descriptors import PlotDescriptor
from optima_core.plugins.manager import PluginError, create_plugin_manager

pytest.importorskip("mplhep")

DRAWN: list[tuple[Any, ...]] = []


def draw_my_input_plots(dataset: Any, outdir: Any, variables: Any, scalings: Any, labels: Any) -> None:
    """A user's own input figures (here: a record of the call and one marker file)."""
    DRAWN.append((list(variables), dict(scalings), labels))
    Path(outdir).mkdir(parents=True, exist_ok=True)
    (Path(outdir) / "my_inputs.txt").write_text(", ".join(map(str, variables)))


class MyInputPlots:
    def __init__(self, replaces: bool) -> None:
        self.replaces = replaces

    @hookimpl
    def optima_register_plots(self) -> list[PlotDescriptor]:
        return [PlotDescriptor("input_data", draw_my_input_plots, "my input figures", replaces=self.replaces)]


def write_inputs(path: Path) -> Path:
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.exponential(size=80) + 0.1})
    frame["Weight"] = 1.0
    frame["target"] = np.arange(80) % 2
    frame.to_parquet(path)
    return path


def load_inputs(manager: Any, tmp_path: Path) -> None:
    """The built-in input pipeline of a run (it draws the input plots into ``<output>/inputs``)."""
    config = RunConfig(
        {
            **defaults(),
            "inputs_file": str(write_inputs(tmp_path / "data.parquet")),
            "input_scaling": {"b": ("log10", (1.0, 0.0))},
        }
    )
    with using_manager(manager):
        manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=InputHandler(config),
            output_dir=tmp_path / "out",
            inputs_for_crossvalidation=False,
            disable_printing=True,
        )


def test_a_plugin_replacing_input_data_is_the_figure_drawn(tmp_path: Path) -> None:
    DRAWN.clear()
    manager = create_plugin_manager(run_config_module=types.ModuleType("empty_rc"))
    manager.pm.register(MyInputPlots(replaces=True), name="my_plots")
    assert manager.plots()["input_data"].provider == "'my_plots'"
    assert manager.replaced()["plots"] == {"input_data": "'plots' (optima-plots)"}
    load_inputs(manager, tmp_path)
    ((variables, scalings, labels),) = DRAWN
    assert variables == ["a", "b"] and scalings["b"] == ("log10", (1.0, 0.0)) and labels == ["Signal", "Background"]
    assert sorted(p.name for p in (tmp_path / "out" / "inputs").iterdir()) == ["my_inputs.txt"]


def test_a_plain_second_input_data_figure_is_refused_naming_both(tmp_path: Path) -> None:
    manager = create_plugin_manager(run_config_module=types.ModuleType("empty_rc"))
    manager.pm.register(MyInputPlots(replaces=False), name="my_plots")
    with pytest.raises(
        PluginError, match=r"two plugins register a plot named 'input_data': 'plots' \(optima-plots\) and 'my_plots'"
    ):
        load_inputs(manager, tmp_path)
