"""The ``shuffle`` evaluator: permutation importance on the fixed fold models, no retraining.

For a candidate set, every variable a fold model takes but the set lacks is permuted across the validation events
of that fold (``shuffle_input_var`` hook; the built-in permutes columns of one copy of the ``Input`` matrix) and
the target metric is computed from the model's predictions. Evaluations of one iteration (candidates x folds x
repeats) run on the selection's scoring actors, one or more calls per fold model (:mod:`optima_core.variable_selection.scoring`): the driver
never loads a model; each worker loads it once and keeps it between iterations, and validation data is never
re-read or copied beyond the one permuted ``Input`` matrix per evaluation.

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
from optima_core.variable_selection.scoring import ModelToScore, ScoreJob, score_models
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


class ShuffleEvaluator(Evaluator):
    name = "shuffle"

    def evaluate(self, variable_sets: dict[str, list[Any]], num_repeats: int, iteration: str) -> EvaluationOutcome:
        session = self.session
        models = session.models
        base_seed = int(session.run_config.random_seed)
        requests: list[tuple[int, ModelToScore]] = []
        slots: list[list[tuple[str, int, int]]] = []
        for row, entry in enumerate(models):
            jobs: list[ScoreJob] = []
            where: list[tuple[str, int, int]] = []
            for label, variables in variable_sets.items():
                to_shuffle = tuple(v for v in entry.input_vars if v not in variables)
                unknown = [v for v in variables if v not in entry.input_vars]
                if unknown:
                    raise OptimaUserError(
                        f"variable set '{label}' contains {unknown}, which the fold model {entry.path.name} does not "
                        "take: the shuffle evaluator can only remove variables"
                    )
                repeats = num_repeats if to_shuffle else 1  # without shuffling every repeat is the same
                for repeat in range(repeats):
                    seed = (base_seed, _text_seed(iteration), _text_seed(label), row, repeat)
                    jobs.append(ScoreJob(to_shuffle, seed))
                    where.append((label, row, repeat))
            requests.append((entry.fold, ModelToScore(str(entry.path), tuple(entry.input_vars), tuple(jobs))))
            slots.append(where)
        results = score_models(session, requests)
        values = {label: np.full((len(models), num_repeats), np.nan) for label in variable_sets}
        for where, scores in zip(slots, results, strict=True):
            for (label, row, repeat), value in zip(where, scores, strict=True):
                values[label][row, repeat] = value
        return EvaluationOutcome(values)

    def reference(self, variables: list[Any], num_repeats: int, iteration: str) -> np.ndarray:
        """The set the candidates come from, evaluated like them (its extra variables shuffled, same models)."""
        return self.evaluate({REFERENCE_LABEL: list(variables)}, num_repeats, iteration).values[REFERENCE_LABEL]
