"""The fine-tuning stage: Population Based Training of the mutatable hyperparameters on Ray Tune.

Hyperparameters that support mutation (explicit ``supports_mutation``, or the built-in models' optimizer, loss and
regularisation settings) are explored by PBT; all others are fixed to the previous stage's best-fit or best-value
result (``use_fit_results_for_PBT``). Checkpoints are written at the end of every perturbation interval (see
:func:`~optima_core.training.monitor.pbt_checkpoint_cadence`); a trial that takes over another's checkpoint
continues from that checkpoint's epoch with its own, mutated hyperparameters. Afterwards the best trials are
selected and cross-validated like after the main optimization.
"""

from __future__ import annotations

import random
from typing import Any

from optima_core.engine.context import RunContext
from optima_core.engine.hpo import TARGET, select_and_crossvalidate
from optima_core.engine.stage import Stage, StageResult
from optima_core.engine.trial import SEED_KEY, TrialSettings, run_trial
from optima_core.errors import OptimaUserError
from optima_core.logs import say
from optima_core.training.monitor import pbt_checkpoint_cadence


class PbtStage(Stage):
    """Fine-tune with PBT, then select and cross-validate; everything goes to ``<output>/<name>``."""

    name = "PBT"

    def run(self, context: RunContext, previous: StageResult | None) -> StageResult:
        from ray.tune.schedulers import PopulationBasedTraining

        from optima_core.engine.progress import ProgressPrinter
        from optima_core.engine.tuning import launch_trials
        from optima_core.search.space import mutation_flags
        from optima_core.search.tune_space import pbt_domains, pbt_explore_fn

        name = self.name
        input_vars = previous.input_vars if previous is not None else context.input_vars()
        run_config = context.run_config
        folder = context.output / name
        folder.mkdir(parents=True, exist_ok=True)
        space = context.search_space
        run_config_hooks = context.manager.run_config_hooks
        flags = mutation_flags(
            space,
            context.manager.backends()[run_config.model_type],
            run_config_hooks.provided if run_config_hooks is not None else (),
        )
        fixed_values: dict[str, Any] = {}
        if previous is not None:
            selection = previous.selection(bool(run_config.use_fit_results_for_PBT))
            if selection is not None:
                fixed_values = dict(selection.config)
                say(
                    f"[{name}] non-mutatable hyperparameters fixed from the {selection.kind} trial {selection.trial_id}"
                )
        param_space, mutations = pbt_domains(space, flags, fixed_values)
        if not mutations:
            raise OptimaUserError(
                "Population Based Training needs at least one mutatable hyperparameter in the search space; "
                f"mutatable here: none (searched: {', '.join(sorted(flags)) or 'none'})"
            )
        random.seed(int(run_config.random_seed))  # Ray's PBT draws its perturbations from Python's random module
        frequency, offset = pbt_checkpoint_cadence(
            run_config.checkpoint_frequency, run_config.perturbation_interval, run_config.burn_in_period
        )
        scheduler = PopulationBasedTraining(
            time_attr="epoch",
            perturbation_interval=run_config.perturbation_interval,
            burn_in_period=run_config.burn_in_period,
            hyperparam_mutations=mutations,
            custom_explore_fn=pbt_explore_fn(space, flags),
        )
        settings = TrialSettings(
            reference=context.reference,
            input_vars=tuple(input_vars),
            max_epochs=run_config.max_epochs,
            checkpoint_frequency=frequency,
            checkpoint_offset=offset,
            use_gpu=context.plan.gpus_per_trial > 0,
        )
        data = context.inputs(False)[0]
        num_samples = int(run_config.num_samples_PBT)
        say(
            f"[{name}] population of {num_samples}, mutating {', '.join(sorted(mutations))}; perturbation every "
            f"{run_config.perturbation_interval} epochs after {run_config.burn_in_period}"
        )
        trials_done = context.phases.clock("hpo", name)
        results = launch_trials(
            context,
            run_trial,
            {"settings": settings, "datasets": data},
            name="trials",
            storage=folder / "tune",
            param_space={**param_space, SEED_KEY: int(run_config.random_seed)},
            progress=ProgressPrinter(num_samples, run_config.monitor_name, run_config.monitor_op, at_best_epoch=True),
            tune_options={
                "metric": TARGET,
                "mode": run_config.monitor_op,
                "scheduler": scheduler,
                "num_samples": num_samples,
            },
            checkpoints_to_keep=None,  # PBT may exploit any recent checkpoint; Ray's pruning races with it
        )
        trials_done()
        return select_and_crossvalidate(context, results, name, folder, input_vars)
