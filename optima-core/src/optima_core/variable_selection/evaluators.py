"""The ``hybrid`` and ``custom`` evaluators (``shuffle`` and ``retrain`` have their own modules).

``hybrid``: shuffle (cheap) until the first rejected iteration, then the stage reverts to the best set (or the last
accepted one, ``hybrid_revert_to_best_before_switch``) and continues with retraining, ``num_repeats_hybrid_retrain``
evaluations per set.

``custom``: the run-config's ``evaluate_variable_importance`` hook, called with the reference's arguments. It
returns ``{label: values}`` (a number, one value per fold or ``[folds, repeats]``), or when called with
``return_models_with_inputs=True`` the tuple ``(values, models_with_inputs_by_label)``, whose entries
``(model_path, input_vars, validation_dataset)`` replace the fold models if that set is accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from optima_core.errors import OptimaUserError
from optima_core.variable_selection.base import Evaluator
from optima_core.variable_selection.retrain import RetrainEvaluator
from optima_core.variable_selection.session import (
    EvaluationOutcome,
    ModelEntry,
    SelectionSession,
    running_selection,
)
from optima_core.variable_selection.shuffle import ShuffleEvaluator


class HybridEvaluator(Evaluator):
    name = "hybrid"

    def __init__(self, session: SelectionSession) -> None:
        super().__init__(session)
        self.shuffle = ShuffleEvaluator(session)
        self.retrain = RetrainEvaluator(session)
        self.retraining = False

    @property
    def phase(self) -> str:
        return "hybrid/retrain" if self.retraining else "hybrid/shuffle"

    def num_repeats(self) -> int:
        run_config = self.session.run_config
        return int(run_config.num_repeats_hybrid_retrain if self.retraining else run_config.num_repeats)

    def evaluate(self, variable_sets: dict[str, list[Any]], num_repeats: int, iteration: str) -> EvaluationOutcome:
        active = self.retrain if self.retraining else self.shuffle
        return active.evaluate(variable_sets, num_repeats, iteration)

    def reference(self, variables: list[Any], num_repeats: int, iteration: str) -> Any:
        return None if self.retraining else self.shuffle.reference(variables, num_repeats, iteration)

    def next_shuffle(self) -> ShuffleEvaluator | None:
        return None if self.retraining else self.shuffle

    def on_rejected(self) -> bool:
        if self.retraining:
            return False
        self.retraining = True
        return True


def normalize_outcome(result: Any, labels: list[str]) -> EvaluationOutcome:
    """An :class:`EvaluationOutcome` from what an evaluator or the hook returned; clear errors otherwise."""
    if isinstance(result, EvaluationOutcome):
        values, models = result.values, result.models
    elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], dict):
        values, models = result
    elif isinstance(result, dict):
        values, models = result, None
    else:
        raise OptimaUserError(
            "a variable-importance evaluator must return {label: values} or (values, models_with_inputs_by_label); "
            f"got {type(result).__name__}"
        )
    missing = [label for label in labels if label not in values]
    if missing:
        raise OptimaUserError(f"the evaluator returned no metric values for the variable set(s) {missing}")
    arrays: dict[str, np.ndarray] = {}
    for label in labels:
        array = np.asarray(values[label], dtype=float)
        if array.ndim == 0:
            array = array.reshape(1, 1)
        elif array.ndim == 1:
            array = array[:, None]
        arrays[label] = array
    converted: dict[str, list[ModelEntry]] | None = None
    if models:
        converted = {}
        for label, entries in models.items():
            converted[label] = [
                entry if isinstance(entry, ModelEntry) else ModelEntry(Path(entry[0]), tuple(entry[1]), index)
                for index, entry in enumerate(entries)
            ]
    return EvaluationOutcome(arrays, converted)


class CustomEvaluator(Evaluator):
    """Calls the run-config's ``evaluate_variable_importance``."""

    name = "custom"

    def evaluate(self, variable_sets: dict[str, list[Any]], num_repeats: int, iteration: str) -> EvaluationOutcome:
        session = self.session
        hooks = session.hooks
        output_dir = session.folder / "custom" / iteration
        output_dir.mkdir(parents=True, exist_ok=True)
        with running_selection(session, iteration):
            result = hooks.evaluate_variable_importance(
                run_config=session.run_config,
                model_config=dict(session.model_config),
                models_with_inputs=session.models_with_inputs(),
                variable_sets={label: list(v) for label, v in variable_sets.items()},
                metric=session.metric.descriptor(),
                num_repeats=num_repeats,
                input_handler=session.handler_for(session.models[0].input_vars),
                output_dir=str(output_dir),
                cpus=session.cpus,
                return_models_with_inputs=True,
                # the same again under the original's names, for a function written for it
                var_sets_to_try={label: list(v) for label, v in variable_sets.items()},
                temp_output_path=str(output_dir),
                cpus_per_model=1,
                gpus_per_model=0,
                custom_metrics=session.run_config.get("custom_metrics"),
                composite_metrics=session.run_config.get("composite_metrics"),
                native_metrics=session.run_config.get("native_metrics"),
                weighted_native_metrics=session.run_config.get("weighted_native_metrics"),
                rng=np.random.default_rng(session.run_config.get("random_seed")),
            )
        if result is None:
            raise OptimaUserError(
                "variable_optimization_mode is 'custom' but no evaluate_variable_importance implementation "
                "returned a result: define evaluate_variable_importance in the run-config"
            )
        return normalize_outcome(result, list(variable_sets))
