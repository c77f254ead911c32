"""Chain the stages of ``optima run`` and pass each result forward.

The orchestrator only sequences: prepare the output folder, start Ray, build the InputHandler, run the stages the
run-config asks for (:func:`stages_for`) one after the other, each on the result of the one before, shut Ray down.
Each stage is a :class:`~optima_core.engine.stage.Stage` in its own module.
"""

from __future__ import annotations

from dataclasses import dataclass

from optima_core.clusters.local import ResourcePlan
from optima_core.config.loader import RunConfig
from optima_core.engine.context import RunContext, new_input_handler
from optima_core.engine.fixed import FixedStage
from optima_core.engine.hpo import MAIN_HPO_NAME, HpoStage
from optima_core.engine.output import holding_output_folder, prepare_output_folder
from optima_core.engine.pbt import PbtStage
from optima_core.engine.ray_session import ray_session
from optima_core.engine.selection_stage import VariableSelectionStage
from optima_core.engine.stage import Stage, StageResult
from optima_core.logs import log_to_file
from optima_core.plugins.manager import OptimaPluginManager
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
    """Run every stage ``run_config`` asks for; returns their results in order."""
    output = prepare_output_folder(run_config, resume=options.resume)
    log_to_file(output)
    print(f"Output folder: {output}")
    reference = RunReference(
        config_path=str(run_config.path.resolve()) if run_config.path else "",
        defaults_path=str(run_config.defaults_path.resolve()) if run_config.defaults_path else None,
    )
    input_handler = new_input_handler(manager.hooks, run_config)
    context = RunContext(
        run_config, manager, plan, output, reference, resume=options.resume, input_handler=input_handler
    )
    results: list[StageResult] = []
    with holding_output_folder(output), ray_session(plan, options.address):
        for stage in stages_for(run_config):
            results.append(stage.run(context, results[-1] if results else None))
    return results
