"""The input-variable selection as a stage of ``optima run``: pre-HPO, backward elimination, restricted inputs.

The pre-HPO is an :class:`~optima_core.engine.hpo.HpoStage` named ``variable_opt_hyperopt`` with
``num_samples_variableOpt`` trials; the elimination (:mod:`optima_core.variable_selection`) starts from the fold
models of its selected trial. Afterwards the InputHandler and the loaded inputs hold only the selected variables,
so the stages that follow need nothing else; the result's ``input_vars`` are the selected variables and its
``details`` the :class:`~optima_core.variable_selection.stage.VariableSelectionResult`.
"""

from __future__ import annotations

from optima_core.engine.context import RunContext
from optima_core.engine.hpo import HpoStage
from optima_core.engine.stage import Stage, StageResult

#: The stage folder (and Optuna study) of the optimization that trains the models the selection starts from.
PRE_HPO_NAME = "variable_opt_hyperopt"


class VariableSelectionStage(Stage):
    """Pre-HPO, then backward elimination; output in ``<output>/variable_opt_hyperopt`` and ``variable_selection``."""

    name = "variable_selection"

    def run(self, context: RunContext, previous: StageResult | None) -> StageResult:
        from optima_core.variable_selection.stage import apply_selection, run_variable_selection

        pre_hpo = HpoStage(PRE_HPO_NAME, int(context.run_config.num_samples_variableOpt)).run(context, previous)
        with context.phases.phase("variable selection", self.name):  # the elimination, after its pre-HPO
            selection = run_variable_selection(context, pre_hpo)
            apply_selection(context, selection.selected)
        return StageResult(self.name, selection.folder, list(selection.selected), details=selection)
