"""The ``shuffle`` evaluator: permutation importance on the fixed fold models, no retraining.

For a candidate set, every variable a fold model takes but the set lacks is permuted across the validation events
of that fold (``shuffle_input_var`` hook; the built-in permutes columns of one copy of the ``Input`` matrix) and
the target metric is computed from the model's predictions. Evaluations of one iteration (candidates x folds x
repeats) run on the selection's scoring actors, one or more calls per fold model (:mod:`optima_core.variable_selection.scoring`): the driver
never loads a model; each worker loads it once and keeps it between iterations, and validation data is never
re-read or copied beyond the one permuted ``Input`` matrix per evaluation. When the fold models were just retrained
for a re-evaluation, their trials already made this iteration's evaluations (:meth:`ShuffleEvaluator.planned_scores`)
and filed them next to each model: no scoring actor has to load the framework again after every training.

Every evaluation is seeded from ``random_seed``, the iteration, the candidate, the fold and the repeat (see
:func:`shuffle_rng`), so a variable selection repeated with the same run-config shuffles the same way whatever order
the workers run the evaluations in.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from optima_core.errors import OptimaUserError
from optima_core.inputs.dataset import EventData
from optima_core.variable_selection.base import Evaluator
from optima_core.variable_selection.scoring import ModelToScore, ScoreJob, read_filed_jobs, score_models
from optima_core.variable_selection.session import EvaluationOutcome

#: The label under which :meth:`ShuffleEvaluator.reference` evaluates the set the candidates come from.
REFERENCE_LABEL = "<reference>"

#: The seed of the shuffle being done. A ContextVar because the reference fixes the arguments of
#: ``shuffle_input_var(run_config, input_handler, model_config, dataset, vars_to_shuffle)``: none can carry a seed or
#: a generator, and evaluations may run in several threads of one process (a ContextVar is per thread; a global
#: would be shared).
_SHUFFLE_SEED: ContextVar[tuple[int, ...] | None] = ContextVar("optima_shuffle_seed", default=None)


@contextmanager
def seeded_shuffles(seed: Sequence[int]) -> Iterator[None]:
    """Within the block (and this thread), :func:`shuffle_rng` returns generators seeded with ``seed``."""
    token = _SHUFFLE_SEED.set(tuple(int(part) for part in seed))
    try:
        yield
    finally:
        _SHUFFLE_SEED.reset(token)


def shuffle_rng() -> np.random.Generator:
    """The generator for the shuffle being done: seeded by the evaluator (reproducible), else fresh OS entropy."""
    seed = _SHUFFLE_SEED.get()
    return np.random.default_rng(None if seed is None else np.random.SeedSequence(seed))


def _text_seed(text: str) -> int:
    return zlib.crc32(text.encode())


def shuffle_columns(dataset: Any, variables: list[Any], vars_to_shuffle: list[Any], rng: np.random.Generator) -> Any:
    """A copy of ``dataset`` (EventData or mapping) whose ``Input`` columns of ``vars_to_shuffle`` are permuted."""
    inputs = np.array(dataset["Input"], copy=True)
    for variable in vars_to_shuffle:
        column = variables.index(variable)
        inputs[:, column] = inputs[rng.permutation(len(inputs)), column]
    if isinstance(dataset, EventData):
        return dataset.with_columns(Input=inputs)
    return {**dict(dataset.items()), "Input": inputs}


#: The plugin whose ``create_variable_sets_to_try`` is the built-in one (leave-one-out sets).
BUILTIN_SETS_PLUGIN = "optima_core.variable_selection.plugin"


def shuffle_jobs(
    model_vars: Sequence[Any],
    row: int,
    variable_sets: dict[str, list[Any]],
    num_repeats: int,
    iteration: str,
    seed: int,
) -> tuple[list[ScoreJob], list[tuple[str, int, int]]]:
    """The evaluations of one fold model (row ``row``) for ``variable_sets``, and where each value goes
    (label, row, repeat). Every evaluation is seeded from ``seed``, the iteration, the label, the row and the repeat."""
    jobs: list[ScoreJob] = []
    where: list[tuple[str, int, int]] = []
    for label, variables in variable_sets.items():
        to_shuffle = tuple(v for v in model_vars if v not in variables)
        unknown = [v for v in variables if v not in model_vars]
        if unknown:
            raise OptimaUserError(
                f"variable set '{label}' contains {unknown}, which the fold model does not take: the shuffle "
                "evaluator can only remove variables"
            )
        repeats = num_repeats if to_shuffle else 1  # without shuffling every repeat is the same
        for repeat in range(repeats):
            jobs.append(ScoreJob(to_shuffle, (seed, _text_seed(iteration), _text_seed(label), row, repeat)))
            where.append((label, row, repeat))
    return jobs, where


class ShuffleEvaluator(Evaluator):
    name = "shuffle"

    def evaluate(self, variable_sets: dict[str, list[Any]], num_repeats: int, iteration: str) -> EvaluationOutcome:
        """Values of a model's evaluations already filed by the trial that trained it (:meth:`planned_scores`) are
        read; the others are computed on the scoring actors."""
        session = self.session
        models = session.models
        base_seed = int(session.run_config.random_seed)
        values = {label: np.full((len(models), num_repeats), np.nan) for label in variable_sets}
        requests: list[tuple[int, ModelToScore]] = []
        slots: list[list[tuple[str, int, int]]] = []
        for row, entry in enumerate(models):
            try:
                jobs, where = shuffle_jobs(entry.input_vars, row, variable_sets, num_repeats, iteration, base_seed)
            except OptimaUserError as error:
                raise OptimaUserError(f"{error} (fold model {entry.path.name})") from None
            missing_jobs: list[ScoreJob] = []
            missing_where: list[tuple[str, int, int]] = []
            for job, slot, value in zip(jobs, where, read_filed_jobs(entry.path, jobs), strict=True):
                if value is None:
                    missing_jobs.append(job)
                    missing_where.append(slot)
                else:
                    label, at, repeat = slot
                    values[label][at, repeat] = value
            if missing_jobs:
                requests.append(
                    (entry.fold, ModelToScore(str(entry.path), tuple(entry.input_vars), tuple(missing_jobs)))
                )
                slots.append(missing_where)
        results = score_models(session, requests)
        for where, scores in zip(slots, results, strict=True):
            for (label, row, repeat), value in zip(where, scores, strict=True):
                values[label][row, repeat] = value
        return EvaluationOutcome(values)

    def reference(self, variables: list[Any], num_repeats: int, iteration: str) -> np.ndarray:
        """The set the candidates come from, evaluated like them (its extra variables shuffled, same models)."""
        return self.evaluate({REFERENCE_LABEL: list(variables)}, num_repeats, iteration).values[REFERENCE_LABEL]

    def next_shuffle(self) -> ShuffleEvaluator:
        return self

    def planned_scores(
        self, variables: list[Any], num_repeats: int, iteration: str, folds: int
    ) -> tuple[tuple[ScoreJob, ...], ...] | None:
        """Per fold, the evaluations iteration ``iteration`` will make of new fold models that take ``variables``
        (the models retrained for a re-evaluation, if that set is accepted), so their trials can make them while
        the model is loaded, instead of new scoring actors loading the framework again after the training.

        Only with the built-in variable sets (leave-one-out, known in advance); None otherwise. A planned value
        is used only if the next iteration asks for exactly that evaluation (same variables shuffled, same seed),
        so a wrong guess costs time, never a different result.
        """
        providers = self.session.context.manager.hook_providers("create_variable_sets_to_try")
        if not providers or providers[0] != BUILTIN_SETS_PLUGIN:
            return None
        from optima_core.variable_selection.plugin import create_variable_sets_to_try

        sets = create_variable_sets_to_try(None, None, None, list(self.session.all_vars), list(variables))
        if not sets:
            return None
        base_seed = int(self.session.run_config.random_seed)
        sets = {str(label): list(subset) for label, subset in sets.items()}
        return tuple(
            tuple(shuffle_jobs(tuple(variables), fold, sets, num_repeats, iteration, base_seed)[0])
            for fold in range(folds)
        )
