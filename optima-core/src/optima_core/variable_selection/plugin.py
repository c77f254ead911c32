"""Built-in hook implementations of the variable selection: default variable sets, shuffling, the evaluators."""

from __future__ import annotations

from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import EvaluatorDescriptor

PACKAGE = "optima_core.variable_selection"


@hookimpl
def optima_register_variable_importance_evaluators() -> list[EvaluatorDescriptor]:
    return [
        EvaluatorDescriptor(
            "shuffle", f"{PACKAGE}.shuffle:ShuffleEvaluator", "Permutation importance on the fixed fold models."
        ),
        EvaluatorDescriptor("retrain", f"{PACKAGE}.retrain:RetrainEvaluator", "New fold models for every set."),
        EvaluatorDescriptor(
            "hybrid", f"{PACKAGE}.evaluators:HybridEvaluator", "Shuffle until a rejection, then retrain."
        ),
        EvaluatorDescriptor(
            "custom", f"{PACKAGE}.evaluators:CustomEvaluator", "The run-config's evaluate_variable_importance."
        ),
    ]


@hookimpl
def create_variable_sets_to_try(
    model_config: Any, models_with_inputs: Any, metric: Any, all_vars: Any, vars_remaining: Any
) -> dict[str, list[Any]]:
    """Every leave-one-out subset of ``vars_remaining``, labelled by the variable left out."""
    from optima_core.builtin.input_handler import scaling_key

    return {scaling_key(v): [w for w in vars_remaining if w != v] for v in vars_remaining}


@hookimpl
def shuffle_input_var(
    run_config: Any, input_handler: Any, model_config: Any, dataset: Any, vars_to_shuffle: Any
) -> Any:
    """Permute the ``Input`` columns of ``vars_to_shuffle`` in a copy of the Input matrix (order: the handler's).

    The permutations are reproducible: the shuffle evaluator seeds each call (see ``shuffle.shuffle_rng``).
    """
    from optima_core.variable_selection.shuffle import shuffle_columns, shuffle_rng

    variables = list(getattr(dataset, "variables", None) or input_handler.get_vars())
    return shuffle_columns(dataset, variables, list(vars_to_shuffle), shuffle_rng())
