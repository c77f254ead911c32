"""The interface of a variable-importance evaluator, as registered through ``optima_register_variable_importance_evaluators``.

An :class:`~optima_core.plugins.descriptors.EvaluatorDescriptor` names a class (lazily, ``"module:Class"``). The
stage instantiates it once per selection with the :class:`~optima_core.variable_selection.session.SelectionSession`
and calls :meth:`Evaluator.evaluate` once per iteration. A third-party evaluator may subclass :class:`Evaluator`
or just provide the same methods; ``evaluate`` may also return a plain ``{label: values}`` dict or a
``(values, models_by_label)`` tuple like the run-config hook ``evaluate_variable_importance``.
"""

from __future__ import annotations

from typing import Any

from optima_core.variable_selection.session import EvaluationOutcome, SelectionSession


class Evaluator:
    """Base class: evaluates variable sets; may change phase after a rejected iteration (hybrid)."""

    name = "evaluator"

    def __init__(self, session: SelectionSession) -> None:
        self.session = session

    @property
    def phase(self) -> str:
        """Shown in the progress lines and the table (the evaluator's name, or hybrid's current phase)."""
        return self.name

    def num_repeats(self) -> int:
        return int(self.session.run_config.num_repeats)

    def evaluate(self, variable_sets: dict[str, list[Any]], num_repeats: int, iteration: str) -> EvaluationOutcome:
        """Metric values ``[folds, repeats]`` per label; ``iteration`` names a folder for anything written."""
        raise NotImplementedError

    def reference(self, variables: list[Any], num_repeats: int, iteration: str) -> Any:
        """Values ``[folds, repeats]`` of ``variables`` (the set an iteration's candidates come from) for the
        stability record, if this evaluator can measure them cheaply; None (the default): the stage reuses the
        evaluation it already made of that set."""
        return None

    def next_shuffle(self) -> Any:
        """The :class:`~optima_core.variable_selection.shuffle.ShuffleEvaluator` the next iteration will evaluate
        with if this one's candidate is accepted, or None (the default) if it will not shuffle. The stage lets the
        re-evaluation's trials make that shuffle's evaluations of the models they train."""
        return None

    def on_rejected(self) -> bool:
        """Called after a rejected iteration; True if the evaluator switched phase and the stage should revert."""
        return False
