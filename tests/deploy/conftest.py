"""Fixtures of the ONNX bundle tests: one small cross-validated run per backend, shared by a test module."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "engine"))

from engine_helpers import VARIABLES, write_events

#: A 3 x 64 MLP with fixed hyperparameters: the fold models are trained without any search.
FIXED_MLP = 'search_space = {"batch_size": 256, "num_layers": 3, "units": 64, "learning_rate": 0.005}'


def write_run_config(folder: Path, events: Path, model_type: str, extra: str = "", **values: Any) -> Path:
    """A run-config training fixed hyperparameters with cross-validation; ``values`` override the settings."""
    settings: dict[str, Any] = {
        "perform_variable_opt": False,
        "perform_main_hyperopt": False,
        "perform_PBT_hyperopt": False,
        "crossvalidation_for_fixed_hps": True,
        "model_type": model_type,
        "inputs_file": str(events),
        "input_vars": VARIABLES,
        "input_scaling": {"pt": ("log10", (1.0, 0.0)), "mass": ("sqrt", (1.0, 0.0))},
        "output_path": str(folder / "out"),
        "output_name": "onnx",
        "max_epochs": 2,
        "produce_inputs_plots": False,
        "random_seed": 42,
        **values,
    }
    lines = [f"{key} = {value!r}" for key, value in settings.items()]
    lines.append(FIXED_MLP if "search_space =" not in extra else "")
    lines.append(textwrap.dedent(extra))
    path = folder / "run_config.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_optima(*args: str) -> Any:
    """``optima ARGS`` in-process (``run`` gets ``--cpus 2``); asserts that Ray is down afterwards."""
    import ray
    from click.testing import CliRunner

    from optima_core.cli import cli

    assert not ray.is_initialized()
    arguments = [*args, "--cpus", "2"] if args[0] == "run" else list(args)
    result = CliRunner().invoke(cli, arguments)
    assert not ray.is_initialized(), "optima left Ray running in this process"
    return result


@pytest.fixture(scope="module")
def events_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_events(tmp_path_factory.mktemp("events") / "events.parquet")
