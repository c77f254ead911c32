"""Stages are objects (issue 10): the orchestrator's loop, one search space per run, one-way imports, and the one
trial-launch helper handing ``--max_pending_trials`` to Ray Tune."""

from __future__ import annotations

import ast
import contextlib
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from optima_core.clusters.local import ResourceRequest, derive_plan
from optima_core.config.loader import RunConfig
from optima_core.config.parameters import defaults
from optima_core.engine import orchestrator
from optima_core.engine.context import RunContext
from optima_core.engine.stage import Stage, StageResult
from optima_core.plugins.manager import create_plugin_manager
from optima_core.training.job import RunReference

SEARCH_SPACE = {
    "units": 8,
    "learning_rate": {"type": "range", "bounds": [1e-3, 1e-2], "sampling": "log"},
    "dropout": {"type": "range", "bounds": [0.0, 0.2], "supports_mutation": True},
}


def run_config(**values: Any) -> RunConfig:
    return RunConfig({**defaults(), "search_space": SEARCH_SPACE, **values})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((False, False, False), [("FixedStage", "fixed")]),
        ((True, False, False), [("VariableSelectionStage", "variable_selection")]),
        ((False, True, True), [("HpoStage", "main_hyperopt"), ("PbtStage", "PBT")]),
        (
            (True, True, True),
            [("VariableSelectionStage", "variable_selection"), ("HpoStage", "main_hyperopt"), ("PbtStage", "PBT")],
        ),
        ((True, False, True), [("VariableSelectionStage", "variable_selection"), ("PbtStage", "PBT")]),
    ],
)
def test_the_run_config_chooses_the_stages_in_order(flags: tuple[bool, bool, bool], expected: list[Any]) -> None:
    config = run_config(
        perform_variable_opt=flags[0], perform_main_hyperopt=flags[1], perform_PBT_hyperopt=flags[2], num_samples_main=7
    )
    stages = orchestrator.stages_for(config)
    assert [(type(stage).__name__, stage.name) for stage in stages] == expected
    assert all(isinstance(stage, Stage) for stage in stages)
    main = [stage for stage in stages if stage.name == "main_hyperopt"]
    assert all(stage.num_samples == 7 for stage in main)  # type: ignore[attr-defined]


class RecordingStage(Stage):
    def __init__(self, name: str, seen: list[tuple[str, StageResult | None]]) -> None:
        self.name = name
        self.seen = seen

    def run(self, context: RunContext, previous: StageResult | None) -> StageResult:
        self.seen.append((self.name, previous))
        variables = previous.input_vars if previous is not None else ["a", "b"]
        return StageResult(self.name, context.output, variables[:-1])


def test_the_orchestrator_runs_each_stage_on_the_result_of_the_one_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, StageResult | None]] = []
    monkeypatch.setattr(orchestrator, "stages_for", lambda config: [RecordingStage(n, seen) for n in ("one", "two")])
    monkeypatch.setattr(orchestrator, "ray_session", lambda plan, address: contextlib.nullcontext())
    monkeypatch.setattr(orchestrator, "prepare_output_folder", lambda config, resume, facts=None: tmp_path)
    monkeypatch.setattr(orchestrator, "log_to_file", lambda folder: folder)
    monkeypatch.setattr(orchestrator.RunContext, "load_inputs", lambda context: lambda: None)
    plan = derive_plan(2, 0, ResourceRequest())
    manager = create_plugin_manager(load_entry_points=False)

    results = orchestrator.run(run_config(), manager, plan, orchestrator.RunOptions())

    assert [r.name for r in results] == ["one", "two"]
    assert seen == [("one", None), ("two", results[0])]
    assert results[1].input_vars == []


def test_the_search_space_is_parsed_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import optima_core.search.space as space_module
    from optima_core.search.optuna_space import define_by_run
    from optima_core.search.space import SearchSpace, mutation_flags
    from optima_core.search.tune_space import pbt_domains, pbt_explore_fn

    parsed: list[str] = []
    parse_entry = space_module._parse_entry

    def counting(name: str, entry: Any) -> Any:
        parsed.append(name)
        return parse_entry(name, entry)

    monkeypatch.setattr(space_module, "_parse_entry", counting)
    manager = create_plugin_manager(load_entry_points=False)
    context = RunContext(
        run_config(), manager, derive_plan(2, 0, ResourceRequest()), tmp_path, RunReference.of(run_config())
    )
    assert isinstance(context.search_space, SearchSpace)
    assert sorted(parsed) == sorted(SEARCH_SPACE)
    # What the stages hand the parsed space to uses it as it is.
    flags = mutation_flags(context.search_space)
    define_by_run(context.search_space)
    pbt_domains(context.search_space, flags, {"learning_rate": 0.005})
    pbt_explore_fn(context.search_space, flags)
    assert sorted(parsed) == sorted(SEARCH_SPACE)


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_variable_selection_does_not_import_the_stages() -> None:
    """The stage layer uses the variable selection, never the other way round (no engine -> vs -> engine loop)."""
    import optima_core.variable_selection as package

    stage_layer = {
        "optima_core.engine.orchestrator",
        "optima_core.engine.hpo",
        "optima_core.engine.pbt",
        "optima_core.engine.fixed",
        "optima_core.engine.selection_stage",
    }
    offending = {
        path.name: sorted(_imported_modules(path) & stage_layer)
        for path in sorted(Path(package.__file__).parent.glob("*.py"))
        if _imported_modules(path) & stage_layer
    }
    assert offending == {}


@pytest.mark.slow
def test_max_pending_trials_reaches_ray_tune(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ray import tune
    from ray.tune.execution.tune_controller import TuneController

    from optima_core.engine.progress import ProgressPrinter
    from optima_core.engine.ray_session import ray_session
    from optima_core.engine.tuning import MAX_PENDING_TRIALS_VARIABLE, launch_trials

    received: list[int] = []
    update = TuneController.update_max_pending_trials

    def recording(self: Any, max_pending_trials: int | None = None) -> None:
        update(self, max_pending_trials)
        received.append(self._max_pending_trials)

    monkeypatch.setattr(TuneController, "update_max_pending_trials", recording)
    monkeypatch.delenv(MAX_PENDING_TRIALS_VARIABLE, raising=False)
    plan = derive_plan(2, 0, ResourceRequest(max_pending_trials=3))
    manager = create_plugin_manager()
    # launch_trials reads the resources, the resume flag and what the Tune callbacks need
    context = SimpleNamespace(
        plan=plan,
        resume=False,
        output=tmp_path,
        run_config=RunConfig(defaults()),
        manager=manager,
        hooks=manager.hooks,
    )

    def trainable(config: dict[str, Any], *, offset: float) -> None:
        tune.report({"score": config["x"] + offset})

    with ray_session(plan):
        results = launch_trials(
            context,  # type: ignore[arg-type]
            trainable,
            {"offset": 0.5},
            name="pending",
            storage=tmp_path,
            param_space={"x": tune.grid_search([1, 2, 3])},
            progress=ProgressPrinter(3, "score", "max"),
        )

    assert received == [3]  # Tune's default here would be max(200, 1.1 * CPUs)
    assert sorted(r.metrics["score"] for r in results) == [1.5, 2.5, 3.5]
    assert MAX_PENDING_TRIALS_VARIABLE not in os.environ
