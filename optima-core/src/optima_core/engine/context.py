"""What every stage of a run shares: the run-config, plugins, resources, output folder, search space and inputs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.clusters.local import ResourcePlan
from optima_core.config.loader import RunConfig
from optima_core.engine.background import BackgroundTask
from optima_core.engine.phases import PhaseRecorder
from optima_core.errors import OptimaUserError
from optima_core.plugins.hooks import Hooks
from optima_core.plugins.manager import OptimaPluginManager
from optima_core.search.space import SearchSpace, parse_search_space
from optima_core.training.job import RunReference

SPLITS = ("train", "val", "test")


def split_dicts(result: Any, crossvalidation: bool) -> list[dict[str, Any]]:
    """Turn ``get_experiment_inputs``' tuple (of datasets, or of per-fold lists) into one dict per fold."""
    if not isinstance(result, (tuple, list)) or len(result) not in (2, 3):
        raise OptimaUserError(
            "get_experiment_inputs must return (train, val) or (train, val, test); "
            f"got {type(result).__name__} of length {len(result) if hasattr(result, '__len__') else '?'}"
        )
    from optima_core.inputs.store import as_event_data

    if not crossvalidation:
        return [{name: as_event_data(data) for name, data in zip(SPLITS, result, strict=False)}]
    folds = len(result[0])
    return [
        {name: as_event_data(result[i][fold]) for i, name in enumerate(SPLITS[: len(result)])} for fold in range(folds)
    ]


def input_kinds(run_config: Any) -> tuple[bool, ...]:
    """The inputs a run uses, by ``inputs_for_crossvalidation``: an optimization trains its trials on one split
    and cross-validates the selected ones; training with fixed hyperparameters uses one kind."""
    if any(run_config.get(flag) for flag in ("perform_variable_opt", "perform_main_hyperopt", "perform_PBT_hyperopt")):
        return (False, True)
    return (bool(run_config.get("crossvalidation_for_fixed_hps")),)


#: The hooks that produce a run's datasets.
INPUT_HOOKS = ("get_experiment_inputs", "get_inputs", "get_training_data")


def inputs_need_ray(manager: OptimaPluginManager) -> bool:
    """Whether a run-config or plugin replaces a hook that produces the datasets: it may return Ray Datasets, which
    need Ray running; the built-in ones never do, so their inputs are checked before Ray starts."""
    from optima_core.inputs import plugin as builtin_inputs

    return any(p != builtin_inputs.__name__ for hook in INPUT_HOOKS for p in manager.hook_providers(hook))


def experiment_inputs(
    manager: OptimaPluginManager, run_config: Any, input_handler: Any, output_dir: Path | None, crossvalidation: bool
) -> list[dict[str, Any]]:
    """The datasets ``get_experiment_inputs`` returns (loaded and checked), as one dict per fold."""
    from optima_core.plugins.active import using_manager

    with using_manager(manager):
        result = manager.hooks.get_experiment_inputs(
            run_config=run_config,
            input_handler=input_handler,
            output_dir=str(output_dir) if output_dir is not None else None,
            inputs_for_crossvalidation=crossvalidation,
            disable_printing=False,
        )
    if result is None:
        raise OptimaUserError("get_experiment_inputs returned None: expected (train, val) or (train, val, test)")
    return split_dicts(result, crossvalidation)


def new_input_handler(hooks: Hooks, run_config: Any) -> Any:
    """An instance of the InputHandler class the plugins provide (the built-in one unless replaced)."""
    handler_class = hooks.InputHandler()
    if handler_class is None:
        raise RuntimeError("no plugin provides the InputHandler class (the built-in one is always registered)")
    return handler_class(run_config)


@dataclass
class RunContext:
    """Shared state of one ``optima run``; the run-config's search space is parsed once, here."""

    run_config: RunConfig
    manager: OptimaPluginManager
    plan: ResourcePlan
    output: Path
    reference: RunReference
    resume: bool = False
    input_handler: Any = None
    search_space: SearchSpace = field(init=False)
    #: How long each phase of the run took (``"phases"`` of the manifest).
    phases: PhaseRecorder = field(default_factory=PhaseRecorder)
    _inputs: dict[bool, list[dict[str, Any]]] = field(default_factory=dict)
    _background_figures: list[BackgroundTask] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.search_space = parse_search_space(self.run_config.search_space)

    @property
    def hooks(self) -> Hooks:
        return self.manager.hooks

    def input_vars(self) -> list[Any]:
        """The variables in use; loading the inputs once fills them in when the run-config lists none."""
        if self.input_handler.get_vars() is None:
            self.inputs(False)
        variables = self.input_handler.get_vars()
        if variables is None:
            raise OptimaUserError(
                "the InputHandler knows no input variables after loading the inputs: expected input_vars in the "
                "run-config, or a get_inputs/get_experiment_inputs that returns named input variables"
            )
        return list(variables)

    def inputs(self, crossvalidation: bool) -> list[dict[str, Any]]:
        """The datasets (one dict per fold; a single dict without cross-validation), loaded once per kind."""
        if crossvalidation not in self._inputs:
            self._inputs[crossvalidation] = experiment_inputs(
                self.manager, self.run_config, self.input_handler, self.output, crossvalidation
            )
        return self._inputs[crossvalidation]

    def loaded_inputs(self) -> dict[bool, list[dict[str, Any]]]:
        """The datasets loaded so far, by kind (``True``: per cross-validation fold); loads nothing."""
        return dict(self._inputs)

    def load_inputs(self) -> Callable[[], None]:
        """Load, and so check, every input the run uses before its output folder exists (so that bad data leave
        no folder behind); returns what writes the input plots into the folder, to call once it exists."""
        from optima_core.inputs.output_writes import holding_output_writes
        from optima_core.logs import hold_for_file

        hold_for_file()
        with holding_output_writes() as held:
            for crossvalidation in input_kinds(self.run_config):
                self.inputs(crossvalidation)

        def write_held() -> None:
            from optima_core.plugins.active import using_manager

            with using_manager(self.manager):
                for write in held:
                    write()

        return write_held

    def start_input_plots(self, write: Callable[[], None]) -> None:
        """Draw the input plots (``write``, from :meth:`load_inputs`) in the background, off the critical path."""
        self.draw_in_background("input plots", None, write)

    def draw_in_background(self, phase: str, stage: str | None, draw: Callable[[], None]) -> None:
        """Run ``draw`` off the critical path, timed as ``phase`` (of ``stage``): in a thread, whose figures
        importable by name are drawn by a low-priority side process (:mod:`~optima_core.engine.side_process`).
        :meth:`finish_background_figures` waits for it."""
        from optima_core.engine.side_process import side_processes_allowed

        def timed() -> None:
            with self.phases.phase(phase, stage), side_processes_allowed():
                draw()

        what = phase if stage is None else f"{phase} [{stage}]"
        self._background_figures.append(BackgroundTask(what, timed))

    def finish_background_figures(self, *, raise_error: bool = True, timeout: float | None = None) -> None:
        """Wait for the figures drawn in the background; an error drawing them is raised here (or, for a run that
        failed already, logged). Called before the driver draws figures itself (matplotlib's style settings are
        global) and before the run ends."""
        tasks, self._background_figures = self._background_figures, []
        for task in tasks:
            if raise_error:
                task.join()
                continue
            task.join_quietly(timeout)
            if not task.done():
                logging.getLogger(__name__).warning("the %s were not finished when the run stopped", task.name)
            elif task.error is not None:
                logging.getLogger(__name__).warning("the %s failed: %s", task.name, task.error)

    def fold_seeds(self, folds: int, *, reuse: bool = False, fixed: bool = False) -> list[int]:
        """Per-fold seeds: the run's seed for all (reuse), one new seed for all (fixed), or one new seed each."""
        import numpy as np

        base = int(self.run_config.random_seed)
        if reuse:
            return [base] * folds
        drawn = np.random.SeedSequence(base).generate_state(folds, dtype=np.uint32).tolist()
        return [int(drawn[0])] * folds if fixed else [int(s) for s in drawn]
