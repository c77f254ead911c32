"""Input-variable selection: backward elimination with variable-importance evaluators registered as plugins.

Entry points: :func:`perform_variable_selection` (pre-HPO + selection + restricting the inputs, for the
orchestrator) and :func:`run_variable_selection` (the selection on an existing pre-HPO result). Evaluators
(``shuffle``, ``retrain``, ``hybrid``, ``custom``, or third-party) are chosen by ``variable_optimization_mode``.
"""

from optima_core.variable_selection.stage import (
    VariableSelectionResult,
    perform_variable_selection,
    run_variable_selection,
)

__all__ = ["VariableSelectionResult", "perform_variable_selection", "run_variable_selection"]
