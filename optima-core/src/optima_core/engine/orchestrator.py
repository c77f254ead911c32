"""Chain the stages of ``optima run`` and pass each result forward.

The orchestrator only sequences: build the InputHandler and load the inputs (every check of the data runs before
the output folder and Ray exist, so bad data leave no folder behind; Ray starts first only when a replaced input
hook may return Ray Datasets), prepare the output folder, start Ray, run the stages the run-config asks for
(:func:`stages_for`) one after the other, each on the result of the one before, shut Ray down.
Each stage is a :class:`~optima_core.engine.stage.Stage` in its own module.
After every stage, and when the run ends for any reason, ``report.html`` is rewritten (:mod:`optima_core.report`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

from optima_core.clusters.local import ResourcePlan
from optima_core.config.loader import RunConfig
from optima_core.engine.context import RunContext, inputs_need_ray, new_input_handler
from optima_core.engine.driver_imports import import_stage_modules, import_tensorboardx_without_torch
from optima_core.engine.fixed import FixedStage
from optima_core.engine.hpo import MAIN_HPO_NAME, HpoStage
from optima_core.engine.interruption import (
    STOPPING_WAIT_S,
    interruptible,
    raise_if_interrupted,
    stop_requested,
)
from optima_core.engine.output import holding_output_folder, output_folder, prepare_output_folder
from optima_core.engine.pbt import PbtStage
from optima_core.engine.phases import ShutDownClock, record_start_up
from optima_core.engine.ray_session import ray_session, ray_session_in_background
from optima_core.engine.selection_stage import VariableSelectionStage
from optima_core.engine.stage import Stage, StageResult
from optima_core.inputs.memory import collections_skip_older_objects, release_unused_memory
from optima_core.logs import log_to_file, say
from optima_core.plugins.manager import OptimaPluginManager
from optima_core.report.build import write_report_quietly
from optima_core.report.record import start_facts
from optima_core.training.job import RunReference


@dataclass(frozen=True)
class RunOptions:
    resume: bool = False
    address: str | None = None


def stages_for(run_config: RunConfig) -> list[Stage]:
    """The stages ``run_config`` asks for, in order; training with fixed hyperparameters when it asks for none."""
    stages: list[Stage] = []
    if run_config.perform_variable_opt:
        stages.append(VariableSelectionStage())
    if run_config.perform_main_hyperopt:
        stages.append(HpoStage(MAIN_HPO_NAME, int(run_config.num_samples_main)))
    if run_config.perform_PBT_hyperopt:
        stages.append(PbtStage())
    return stages or [FixedStage()]


def run(
    run_config: RunConfig, manager: OptimaPluginManager, plan: ResourcePlan, options: RunOptions
) -> list[StageResult]:
    """Run every stage ``run_config`` asks for; returns their results in order.

    Ctrl-C or SIGTERM ends the run with :class:`~optima_core.engine.interruption.RunInterrupted`, after Ray is shut
    down and the output folder released; no later stage runs on partial results.
    """
    with interruptible(), collections_skip_older_objects():
        return _run_stages(run_config, manager, plan, options)


def finish_background_figures_quietly(context: RunContext) -> None:
    """Wait for the figures a run that ended draws in the background (not long, if a stop signal ended it); never
    raise."""
    context.finish_background_figures(raise_error=False, timeout=STOPPING_WAIT_S if stop_requested() else None)


def _run_stages(
    run_config: RunConfig, manager: OptimaPluginManager, plan: ResourcePlan, options: RunOptions
) -> list[StageResult]:
    output = output_folder(run_config)
    reference = RunReference.of(run_config)
    input_handler = new_input_handler(manager.hooks, run_config)
    context = RunContext(
        run_config, manager, plan, output, reference, resume=options.resume, input_handler=input_handler
    )
    results: list[StageResult] = []
    phases = context.phases
    record_start_up(phases)
    # Ray (``session``) shuts down before the output folder (``folder``) is released, so the shut-down is recorded.
    with ExitStack() as folder, ExitStack() as session:
        shut_down = ShutDownClock(phases)
        session.callback(shut_down.stop)
        ray_ready: Callable[[], object] = lambda: None  # noqa: E731
        if inputs_need_ray(manager):  # a replaced input hook may return Ray Datasets
            session.enter_context(ray_session(plan, options.address))
        else:  # Ray starts while the inputs load
            ray_ready = session.enter_context(ray_session_in_background(ray_session(plan, options.address)))
        with phases.phase("inputs"):
            write_input_plots = context.load_inputs()
        prepare_output_folder(run_config, resume=options.resume, facts=start_facts(context))
        folder.enter_context(holding_output_folder(output))
        folder.callback(write_report_quietly, output)  # the report also of a failed or interrupted run
        folder.callback(phases.detach)
        folder.callback(finish_background_figures_quietly, context)  # a failed run still waits for them
        log_to_file(output)
        phases.attach(output)
        say(f"Output folder: {output}")
        import_tensorboardx_without_torch()  # before the input plots' thread starts
        context.start_input_plots(write_input_plots)
        import_stage_modules()  # while Ray starts: the main thread would only wait for it
        with phases.phase("ray start-up"):
            ray_ready()
        for stage in stages_for(run_config):
            raise_if_interrupted()  # a stop signal whose exception Python swallowed (see the function)
            results.append(stage.run(context, results[-1] if results else None))
            write_report_quietly(output)
            release_unused_memory()  # what a stage's results and Tune's bookkeeping freed, before the next trials
        context.finish_background_figures()
        shut_down.start()
    return results
