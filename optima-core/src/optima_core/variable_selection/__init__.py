"""Input-variable selection: backward elimination with variable-importance evaluators registered as plugins.

Entry points: :func:`run_variable_selection` (the selection on a finished pre-HPO) and :func:`apply_selection`
(restrict the run's inputs to the selected variables); the stage object of ``optima run`` that runs the pre-HPO and
both is :class:`optima_core.engine.selection_stage.VariableSelectionStage`. Evaluators (``shuffle``, ``retrain``,
``hybrid``, ``custom``, or third-party) are chosen by ``variable_optimization_mode``.

Importing this package imports nothing heavy (every command loads its ``plugin`` module): the entry points are
loaded from :mod:`~optima_core.variable_selection.stage` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optima_core.variable_selection.stage import (
        VariableSelectionResult,
        apply_selection,
        run_variable_selection,
    )

__all__ = ["VariableSelectionResult", "apply_selection", "run_variable_selection"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from optima_core.variable_selection import stage

        return getattr(stage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
