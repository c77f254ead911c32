"""Training with fixed hyperparameters (all three ``perform_*`` flags False): one model, or one per fold.

The search space then holds only fixed values. With ``crossvalidation_for_fixed_hps`` every fold is trained
(in parallel); otherwise a single model. Early stopping and the overtraining conditions apply as during an
optimization, and the weights of the best epoch are kept. Models and their per-epoch metric histories go to
``<output>/models``; the summary to ``results.txt``.
"""

from __future__ import annotations

from optima_core.engine.context import RunContext
from optima_core.engine.crossvalidation import FoldPlan, train_folds
from optima_core.engine.stage import Stage, StageResult
from optima_core.logs import say

#: The label of the training with fixed hyperparameters (its models go to ``<output>/models``).
FIXED_LABEL = "fixed"


class FixedStage(Stage):
    """Train the fixed hyperparameters of the search space: one model, or one per fold."""

    name = FIXED_LABEL

    def run(self, context: RunContext, previous: StageResult | None) -> StageResult:
        run_config = context.run_config
        crossvalidation = bool(run_config.crossvalidation_for_fixed_hps)
        plan = FoldPlan(
            label=FIXED_LABEL,
            model_config=dict(run_config.search_space),
            max_epochs=run_config.max_epochs,
            use_early_stopping=True,
            use_overtraining_conditions=True,
            restore_best_weights=True,
            crossvalidation=crossvalidation,
            fixed_seed=run_config.fixed_seed_for_crossvalidation,
        )
        folds = context.inputs(crossvalidation)
        what = f"{len(folds)}-fold cross-validation" if crossvalidation else "a single model"
        say(f"Training fixed hyperparameters ({what}) with up to {context.plan.concurrent_trials} trainings at once")
        input_vars = previous.input_vars if previous is not None else context.input_vars()
        results = train_folds(context, plan, context.output / "models", input_vars)
        (context.output / "results.txt").write_text(results.text + "\n")
        return StageResult(
            self.name,
            context.output,
            input_vars,
            crossvalidation={FIXED_LABEL: results},
            failed_trials=list(results.failed),
        )
