"""Fixtures of the end-to-end tests of ``optima run`` (the helpers are in ``engine_helpers``)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import BACKENDS, SEARCH_SPACE, VARIABLES, Backend, CliOutcome, ConfigWriter, write_events


@pytest.fixture(scope="session")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_events(tmp_path_factory.mktemp("events") / "events.parquet")


@pytest.fixture
def write_config(tmp_path: Path, events_file: Path) -> ConfigWriter:
    """``write_config(model_type, name="run_config.py", extra="", **values) -> path`` of a run-config in tmp_path.

    ``values`` are assignments (``repr``'d) that override the base; ``extra`` is source appended verbatim.
    """

    def write(model_type: str, name: str = "run_config.py", extra: str = "", **values: Any) -> Path:
        settings: dict[str, Any] = {
            "perform_variable_opt": False,
            "perform_main_hyperopt": True,
            "perform_PBT_hyperopt": False,
            "model_type": model_type,
            "inputs_file": str(events_file),
            "input_vars": VARIABLES,
            "input_scaling": {"pt": ("log10", (1.0, 0.0))},
            "output_path": str(tmp_path / "out"),
            "output_name": "e2e",
            "validation_fraction": 0.4,
            "test_fraction": 0.2,
            "max_epochs": 8,
            "ASHA_grace_period": 2,
            "random_seed": 42,
            **values,
        }
        lines = ["from optima_core.metrics import WeightedAUC", 'custom_metrics = [("auc", WeightedAUC())]']
        lines += [f"{key} = {value!r}" for key, value in settings.items()]
        if "search_space =" not in extra:
            lines.append(textwrap.dedent(SEARCH_SPACE))
        lines.append(textwrap.dedent(extra))
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return write


@pytest.fixture(
    params=[
        pytest.param("Lightning", marks=pytest.mark.lightning),
        pytest.param("Keras", marks=pytest.mark.keras),
    ],
)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in turn; skipped when its framework is not installed."""
    kit = BACKENDS[request.param]
    for module in kit.frameworks:
        pytest.importorskip(module)
    return kit


@pytest.fixture
def lightning() -> Backend:
    kit = BACKENDS["Lightning"]
    for module in kit.frameworks:
        pytest.importorskip(module)
    return kit


@pytest.fixture
def optima_run() -> Callable[..., CliOutcome]:
    """``optima_run(config, *args)``: ``optima run CONFIG --cpus 2 *args`` in-process; Ray must be down afterwards."""
    import ray
    from click.testing import CliRunner

    from optima_core.cli import cli

    def invoke(config: Path, *args: str) -> CliOutcome:
        assert not ray.is_initialized()
        result = CliRunner().invoke(cli, ["run", str(config), "--cpus", "2", *args])
        assert not ray.is_initialized(), "optima run left Ray running in this process"
        return CliOutcome(result.exit_code, result.output, result.exception)

    return invoke
