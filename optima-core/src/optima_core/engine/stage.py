"""What a stage of ``optima run`` is: a :class:`Stage` object whose ``run`` returns one :class:`StageResult`.

The orchestrator runs the stages the run-config asks for in order, handing each the result of the one before.
Layers, each importing only those below it:

* the stages (:mod:`~optima_core.engine.fixed`, :mod:`~optima_core.engine.hpo`, :mod:`~optima_core.engine.pbt`,
  :mod:`~optima_core.engine.selection_stage`) and the orchestrator;
* the variable-selection logic (:mod:`optima_core.variable_selection`);
* the engine's building blocks: the run's context, trial launching (:mod:`~optima_core.engine.tuning`), the
  trainable, cross-validation, progress lines, and this module's types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optima_core.selection import Selection

if TYPE_CHECKING:
    from optima_core.engine.context import RunContext
    from optima_core.engine.crossvalidation import FoldResults


@dataclass
class StageResult:
    """What a stage leaves for the next one and for the report.

    ``input_vars`` are the variables the next stage trains with. Optimization stages fill the selections and the
    cross-validation of each selected trial (keyed by the selection's kind); training with fixed hyperparameters
    fills ``crossvalidation["fixed"]``. ``details`` holds a stage's own record (the variable selection's).
    """

    name: str
    folder: Path
    input_vars: list[Any]
    best_value: Selection | None = None
    best_fit: Selection | None = None
    fit_skipped: dict[str, str] = field(default_factory=dict)
    crossvalidation: dict[str, FoldResults] = field(default_factory=dict)
    failed_trials: list[str] = field(default_factory=list)
    details: Any = None

    def selection(self, use_fit: bool) -> Selection | None:
        """The best-fit selection if asked for and available, else best-value."""
        return (self.best_fit or self.best_value) if use_fit else self.best_value


class Stage(ABC):
    """One step of a run; its output goes to ``<output>/<name>`` (training with fixed values: ``models``)."""

    name: str

    @abstractmethod
    def run(self, context: RunContext, previous: StageResult | None) -> StageResult:
        """Run the stage on ``previous``'s variables (and selections, where used); ``None`` for the first stage."""
