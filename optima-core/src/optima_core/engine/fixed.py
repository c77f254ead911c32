"""Training with fixed hyperparameters (all three ``perform_*`` flags False): one model, or one per fold.

The search space then holds only fixed values. With ``crossvalidation_for_fixed_hps`` every fold is trained
(in parallel); otherwise a single model. Early stopping and the overtraining conditions apply as during an
optimization, and the weights of the best epoch are kept. Models and their per-epoch metric histories go to
``<output>/models``; the summary to ``results.txt``.
"""

from __future__ import annotations

from typing import Any

from optima_core.engine.context import RunContext
from optima_core.engine.crossvalidation import FoldPlan, train_folds


def train_fixed_hyperparameters(context: RunContext) -> dict[str, Any]:
    run_config = context.run_config
    crossvalidation = bool(run_config.crossvalidation_for_fixed_hps)
    plan = FoldPlan(
        label="fixed",
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
    print(f"Training fixed hyperparameters ({what}) with up to {context.plan.concurrent_trials} trainings at once")
    results = train_folds(context, plan, context.output / "models", context.input_handler.get_vars())
    (context.output / "results.txt").write_text(results.text + "\n")
    return {"values": results.values, "failed": results.failed, "text": results.text}
