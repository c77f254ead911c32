"""``OPTIMA.core.variable_optimization``: the original's variable-importance functions, for a run-config's
``evaluate_variable_importance`` (``variable_optimization_mode = 'custom'``) that builds on the built-in ones.

* ``get_models_with_inputs(models, input_vars)`` -- ``[(model_path, input_vars, validation_dataset)]`` from
  ``[(model_path, [train, val(, test)])]``, as the original documents.
* ``evaluate_vars_shuffle(...)`` / ``evaluate_vars_retrain(...)`` -- the documented signatures, run by the built-in
  ``shuffle`` / ``retrain`` evaluators (:mod:`optima_core.variable_selection`). They score the fold models of the
  running selection that ``models_with_inputs`` names, so they can only be called while a variable selection runs
  (from ``evaluate_variable_importance``). Arguments the original needed for its own process pools
  (``training_func``, the pool factories, ``placement_group``, ``cpus_per_model``, ...) are accepted and not used:
  the evaluators take them from the run. Returned: ``{label: values}`` with one row per fold model and one column
  per repeat, and with ``return_models_with_inputs=True`` also ``{label: models_with_inputs}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from OPTIMA._compat import export

if TYPE_CHECKING:
    from optima_core.variable_selection.session import SelectionSession

REPLACED = {
    "perform_variable_optimization": "the variable selection runs with perform_variable_opt = True "
    "(optima_core.variable_selection.run_variable_selection)",
    "ShufflerAndPredictor": "the shuffle evaluator scores the loaded fold models in threads "
    "(optima_core.variable_selection.shuffle)",
}

__all__ = ["evaluate_vars_retrain", "evaluate_vars_shuffle", "get_models_with_inputs"]
__getattr__, __dir__ = export(__name__, globals(), {}, REPLACED)


def get_models_with_inputs(models: Sequence[tuple[str, Sequence[Any]]], input_vars: Sequence[Any]) -> list[Any]:
    """``(model_path, input_vars, validation_dataset)`` for each ``(model_path, [train, val(, test)])``."""
    return [(path, list(input_vars), datasets[1]) for path, datasets in models]


def _running_selection() -> tuple[SelectionSession, str]:
    """The session and iteration of the variable selection whose ``evaluate_variable_importance`` is running."""
    from optima_core.errors import OptimaUserError
    from optima_core.variable_selection.session import current_selection

    running = current_selection()
    if running is None:
        raise OptimaUserError(
            "OPTIMA.core.variable_optimization.evaluate_vars_shuffle/evaluate_vars_retrain were called outside a "
            "variable selection: expected a call from the run-config's evaluate_variable_importance while "
            "perform_variable_opt = True and variable_optimization_mode = 'custom'"
        )
    return running


def _evaluate(
    mode: str,
    models_with_inputs: Sequence[Any],
    var_sets_to_try: Mapping[str, Sequence[Any]],
    num_repeats: int,
    return_models_with_inputs: bool,
) -> Any:
    from optima_core.errors import OptimaUserError
    from optima_core.variable_selection.retrain import RetrainEvaluator
    from optima_core.variable_selection.shuffle import ShuffleEvaluator

    session, iteration = _running_selection()
    by_path = {str(entry.path): entry for entry in session.models}
    unknown = [str(item[0]) for item in models_with_inputs if str(item[0]) not in by_path]
    if unknown:
        raise OptimaUserError(
            f"evaluate_vars_{mode}: models_with_inputs names {unknown}: expected fold models of the running "
            f"selection ({sorted(by_path)})"
        )
    scoped = dataclasses.replace(session, models=[by_path[str(item[0])] for item in models_with_inputs])
    evaluator = ShuffleEvaluator(scoped) if mode == "shuffle" else RetrainEvaluator(scoped)
    sets = {str(label): list(variables) for label, variables in var_sets_to_try.items()}
    outcome = evaluator.evaluate(sets, int(num_repeats), iteration)
    if not return_models_with_inputs:
        return outcome.values
    models = outcome.models or {}
    return outcome.values, {
        label: scoped.models_with_inputs(models[label]) if label in models else list(models_with_inputs)
        for label in sets
    }


def evaluate_vars_shuffle(
    model_config: Any,
    models_with_inputs: Sequence[Any],
    run_config: Any,
    metric: Any,
    input_handler: Any,
    var_sets_to_try: Mapping[str, Sequence[Any]],
    training_func: Any = None,
    get_ShufflerAndPredictor_pool: Any = None,  # noqa: N803 - the original's parameter name
    delete_ShufflerAndPredictor_pool: Any = None,  # noqa: N803
    temp_output_path: Any = None,
    num_repeats: int = 1,
    cpus_per_model: int = 1,
    gpus_per_model: int = 0,
    placement_group: Any = None,
    custom_metrics: Any = None,
    composite_metrics: Any = None,
    native_metrics: Any = None,
    weighted_native_metrics: Any = None,
    rng: Any = None,
    return_models_with_inputs: bool = False,
) -> Any:
    """Score each variable set by shuffling the other variables of the validation data (the ``shuffle`` evaluator)."""
    return _evaluate("shuffle", models_with_inputs, var_sets_to_try, num_repeats, return_models_with_inputs)


def evaluate_vars_retrain(
    model_config: Any,
    models_with_inputs: Sequence[Any],
    run_config: Any,
    metric: Any,
    input_handler: Any,
    var_sets_to_try: Mapping[str, Sequence[Any]],
    training_func: Any = None,
    get_ShufflerAndPredictor_pool: Any = None,  # noqa: N803 - the original's parameter name
    delete_ShufflerAndPredictor_pool: Any = None,  # noqa: N803
    temp_output_path: Any = None,
    num_repeats: int = 1,
    cpus_per_model: int = 1,
    gpus_per_model: int = 0,
    placement_group: Any = None,
    custom_metrics: Any = None,
    composite_metrics: Any = None,
    native_metrics: Any = None,
    weighted_native_metrics: Any = None,
    rng: Any = None,
    return_models_with_inputs: bool = False,
) -> Any:
    """Score each variable set by training new fold models on it (the ``retrain`` evaluator)."""
    return _evaluate("retrain", models_with_inputs, var_sets_to_try, num_repeats, return_models_with_inputs)
