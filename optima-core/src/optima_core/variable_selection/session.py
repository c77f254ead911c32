"""What evaluators work with: the fold datasets, the current fold models, the target metric, and helpers.

The fold datasets (all variables the selection started with) are loaded once by the run; evaluators never re-read
them. :meth:`SelectionSession.fold_data` restricts a fold to a variable set by selecting ``Input`` columns (one
copy of the ``Input`` matrix per call; the other columns are shared).

The built-in evaluators score models in Ray workers (:meth:`SelectionSession.baseline`,
:mod:`optima_core.variable_selection.scoring`), so the driver never loads a framework; :meth:`SelectionSession.score`
and :meth:`SelectionSession.predictor` load a model in the calling process, for third-party evaluators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.engine.context import RunContext
from optima_core.engine.crossvalidation import FoldPlan
from optima_core.errors import OptimaUserError
from optima_core.inputs.dataset import EventData
from optima_core.plugins.hooks import Hooks
from optima_core.variable_selection.metric import TargetMetric
from optima_core.variable_selection.scoring import ModelToScore, ScoreJob, ScorerPool, score_models


@dataclass(frozen=True)
class ModelEntry:
    """One fold model: the saved file, the variables it takes (in order) and its fold."""

    path: Path
    input_vars: tuple[Any, ...]
    fold: int


@dataclass
class EvaluationOutcome:
    """Metric values per variable-set label (``[folds, repeats]``), and optionally new models per label."""

    values: dict[str, np.ndarray]
    models: dict[str, list[ModelEntry]] | None = None


def restrict(data: EventData, variables: list[Any] | tuple[Any, ...]) -> EventData:
    """``data`` with only the ``Input`` columns of ``variables``, in that order (other columns shared)."""
    if list(variables) == list(data.variables):
        return data
    missing = [v for v in variables if v not in data.variables]
    if missing:
        raise OptimaUserError(f"variables {missing} are not in the dataset (it has {data.variables})")
    index = [data.variables.index(v) for v in variables]
    return EventData({**data.arrays(), "Input": data["Input"][:, index]}, list(variables), data.meta)


@dataclass
class SelectionSession:
    """Shared state of one variable selection."""

    context: RunContext
    folds: list[dict[str, EventData]]
    all_vars: list[Any]
    model_config: dict[str, Any]
    plan: FoldPlan
    metric: TargetMetric
    models: list[ModelEntry]
    folder: Path
    #: The Ray actors that score models for the built-in evaluators (released before every training).
    scorers: ScorerPool = field(default_factory=ScorerPool)
    #: Where the models retrained for (variable set, repeat) were exported (see the ``retrain`` evaluator).
    retrained: dict[tuple[tuple[Any, ...], int], Path] = field(default_factory=dict)
    _predictors: dict[Path, Callable[[EventData], np.ndarray]] = field(default_factory=dict)

    @property
    def run_config(self) -> Any:
        return self.context.run_config

    @property
    def hooks(self) -> Hooks:
        return self.context.hooks

    @property
    def cpus(self) -> int:
        return max(int(self.context.plan.cpus), 1)

    def handler_for(self, variables: list[Any] | tuple[Any, ...]) -> Any:
        handler = self.context.input_handler.copy()
        handler.set_vars(list(variables))
        return handler

    def fold_data(self, fold: int, variables: list[Any] | tuple[Any, ...], split: str = "val") -> EventData:
        return restrict(self.folds[fold][split], variables)

    def fold_split(self, fold: int, variables: list[Any] | tuple[Any, ...]) -> dict[str, EventData]:
        return {name: restrict(data, variables) for name, data in self.folds[fold].items()}

    def models_with_inputs(self, models: list[ModelEntry] | None = None) -> list[tuple[str, list[Any], EventData]]:
        """The reference's ``models_with_inputs``: ``(model_path, input_vars, validation_dataset)`` per fold."""
        return [(str(m.path), list(m.input_vars), self.fold_data(m.fold, m.input_vars)) for m in models or self.models]

    def predictor(self, entry: ModelEntry) -> Callable[[EventData], np.ndarray]:
        """``predict_events(data)`` of a fold model, loaded once per file through its backend."""
        if entry.path not in self._predictors:
            from optima_core.engine.models import load_model

            split = self.fold_split(entry.fold, entry.input_vars)
            self._predictors[entry.path] = load_model(
                self.run_config,
                entry.path,
                self.handler_for(entry.input_vars),
                tuple(split[s] for s in ("train", "val", "test") if s in split),
                manager=self.context.manager,
            ).predict_events
        return self._predictors[entry.path]

    def forget_predictors(self, keep: list[ModelEntry]) -> None:
        """Drop loaded models no longer in use (retrained models of candidates that were not kept)."""
        wanted = {m.path for m in keep}
        for path in [p for p in self._predictors if p not in wanted]:
            del self._predictors[path]

    def score(self, entry: ModelEntry, data: EventData) -> float:
        """The target metric of ``entry``'s model on ``data`` (whose Input columns are ``entry.input_vars``)."""
        predictions = np.asarray(self.predictor(entry)(data))
        value = self.metric(data, predictions)
        return value if np.isfinite(value) else float("nan")

    def run_parallel(self, tasks: Sequence[Callable[[], float]]) -> list[float]:
        """Run ``tasks`` on a thread pool as wide as the CPUs of the run (the numerical work releases the GIL)."""
        if len(tasks) <= 1:
            return [task() for task in tasks]
        with ThreadPoolExecutor(max_workers=min(self.cpus, len(tasks))) as pool:
            return list(pool.map(lambda task: task(), tasks))

    def baseline(self, models: list[ModelEntry] | None = None) -> np.ndarray:
        """The metric of the current fold models on their unmodified validation data, ``[folds, 1]``, computed in
        Ray workers (:mod:`optima_core.variable_selection.scoring`)."""
        requests = [
            (m.fold, ModelToScore(str(m.path), tuple(m.input_vars), (ScoreJob(),))) for m in models or self.models
        ]
        return np.asarray([values[0] for values in score_models(self, requests)], dtype=float)[:, None]


#: The selection (and iteration) whose run-config ``evaluate_variable_importance`` is running: what
#: ``OPTIMA.core.variable_optimization``'s ``evaluate_vars_shuffle``/``evaluate_vars_retrain`` score with.
_running: ContextVar[tuple[SelectionSession, str] | None] = ContextVar("optima_running_selection", default=None)


@contextmanager
def running_selection(session: SelectionSession, iteration: str) -> Iterator[None]:
    """Make ``session`` the running selection while the run-config's evaluator runs."""
    token = _running.set((session, iteration))
    try:
        yield
    finally:
        _running.reset(token)


def current_selection() -> tuple[SelectionSession, str] | None:
    """The running selection and iteration, or None outside the run-config's evaluator."""
    return _running.get()
