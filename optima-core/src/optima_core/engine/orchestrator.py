"""Chain the stages of ``optima run`` and pass each result forward.

The orchestrator only sequences: prepare the output folder, start Ray, build the InputHandler, run the stages the
run-config asks for, shut Ray down. Each stage is its own module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optima_core.clusters.local import ResourcePlan
from optima_core.config.loader import RunConfig
from optima_core.engine.context import RunContext
from optima_core.engine.output import prepare_output_folder
from optima_core.engine.ray_session import ray_session
from optima_core.training.job import RunReference


def _input_vars(context: RunContext) -> list[Any]:
    """The variables in use; loading the inputs once fills them in when the run-config lists none."""
    if context.input_handler.get_vars() is None:
        context.inputs(False)
    variables = context.input_handler.get_vars()
    if variables is None:
        raise RuntimeError("the InputHandler knows no input variables after loading the inputs")
    return list(variables)


@dataclass(frozen=True)
class RunOptions:
    resume: bool = False
    address: str | None = None


def run(run_config: RunConfig, manager: Any, plan: ResourcePlan, options: RunOptions) -> dict[str, Any]:
    """Run everything ``run_config`` asks for; returns the summary of the last stage."""
    output = prepare_output_folder(run_config, resume=options.resume)
    print(f"Output folder: {output}")
    reference = RunReference(
        config_path=str(run_config.path.resolve()) if run_config.path else "",
        defaults_path=str(run_config.defaults_path.resolve()) if run_config.defaults_path else None,
    )
    input_handler = manager.hooks.InputHandler()(run_config)
    context = RunContext(
        run_config, manager, plan, output, reference, resume=options.resume, input_handler=input_handler
    )
    optimizing = run_config.perform_variable_opt or run_config.perform_main_hyperopt or run_config.perform_PBT_hyperopt
    with ray_session(plan, options.address):
        if not optimizing:
            from optima_core.engine.fixed import train_fixed_hyperparameters

            return train_fixed_hyperparameters(context)
        input_vars = _input_vars(context)
        summary: dict[str, Any] = {}
        if run_config.perform_variable_opt:
            from optima_core.variable_selection import perform_variable_selection

            input_vars = perform_variable_selection(context, input_vars)
            summary["variable_selection"] = input_vars
        previous = None
        if run_config.perform_main_hyperopt:
            from optima_core.engine.hpo import run_hpo_stage

            previous = run_hpo_stage(
                context, name="main_hyperopt", num_samples=run_config.num_samples_main, input_vars=input_vars
            )
            summary["main_hyperopt"] = previous
        if run_config.perform_PBT_hyperopt:
            from optima_core.engine.pbt import run_pbt_stage

            summary["PBT"] = run_pbt_stage(context, previous=previous, input_vars=input_vars)
        return summary
