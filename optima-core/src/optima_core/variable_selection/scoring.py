"""Scoring fold models for the variable selection, in Ray workers rather than in the driver.

Scoring a model means loading it through its backend, predicting the validation events (with some variables
shuffled, for the ``shuffle`` evaluator) and computing the target metric. Done in the driver, the first model
loaded TensorFlow or torch and Lightning into it (several hundred MB for the rest of the run). The built-in
evaluators therefore score through :func:`score_models`, which hands each model (or each share of a model's
evaluations, so every CPU of the run works) to the selection's :class:`ScorerPool` of Ray actors: the
framework is imported once per actor and stays loaded from one scoring round to the next, and the driver never
imports it. The pool is released before every training (:meth:`ScorerPool.release`), so the trials never share
the machine with idle processes that hold a framework; the first round after a training starts new actors. Each
actor rebuilds the run-config and plugins from the run's :class:`~optima_core.training.job.RunReference`, as the trials do, so the
run-config's ``shuffle_input_var`` and metrics are the ones used.

Models retrained by the ``retrain`` evaluator are scored in the Tune trial that trained them
(:func:`write_trial_score`), and :func:`read_trial_score` hands the value to the driver; a model without one (a run
interrupted between export and score) is scored by :func:`score_models`. Those trials also make, and file, the
shuffle evaluations the next iteration will ask of their model if it is kept (:func:`read_filed_jobs`).

Without a Ray session (a library caller that evaluates on its own) the same function runs in this process.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.errors import OptimaUserError, find_user_error

#: Next to a model retrained for the selection: ``<model stem><suffix>`` holds its target-metric value.
SCORE_SUFFIX = ".optima_score.json"

#: Loaded models an actor keeps between calls (a selection scores the same fold models every iteration).
_CACHED_MODELS = 8
_models: OrderedDict[tuple[str, int], Any] = OrderedDict()


@dataclass(frozen=True)
class ScoreJob:
    """One evaluation of a model: the variables to shuffle (none: the data as it is) and the shuffle's seed."""

    vars_to_shuffle: tuple[Any, ...] = ()
    seed: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ModelToScore:
    """A saved model, the variables it takes (in order) and the evaluations to make of it."""

    path: str
    input_vars: tuple[Any, ...]
    jobs: tuple[ScoreJob, ...]


def _finite(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


def _loaded(run_config: Any, manager: Any, handler: Any, split: dict[str, Any], path: str) -> Any:
    from optima_core.engine.models import load_model

    key = (path, Path(path).stat().st_mtime_ns)
    if key not in _models:
        splits = tuple(split[s] for s in ("train", "val", "test") if s in split)
        _models[key] = load_model(run_config, path, handler, splits, manager=manager)
        while len(_models) > _CACHED_MODELS:
            _models.popitem(last=False)
    _models.move_to_end(key)
    return _models[key]


def score_loaded(
    run_config: Any,
    manager: Any,
    handler: Any,
    model_config: dict[str, Any],
    loaded: Any,
    data: Any,
    jobs: Sequence[ScoreJob],
) -> list[float]:
    """The target metric of the loaded model for every job on ``data`` (the validation events of its fold)."""
    from optima_core.plugins.active import using_manager
    from optima_core.variable_selection.metric import resolve_metric
    from optima_core.variable_selection.shuffle import seeded_shuffles

    metric = resolve_metric(run_config)
    values: list[float] = []
    with using_manager(manager):
        for job in jobs:
            events = data
            if job.vars_to_shuffle:
                with seeded_shuffles(job.seed or ()):
                    events = manager.hooks.shuffle_input_var(
                        run_config=run_config,
                        input_handler=handler,
                        model_config=dict(model_config),
                        dataset=data,
                        vars_to_shuffle=list(job.vars_to_shuffle),
                    )
                if events is None:
                    raise OptimaUserError(
                        "shuffle_input_var returned None: expected the dataset with the variables shuffled"
                    )
            values.append(_finite(metric(events, np.asarray(loaded.predict_events(events)))))
    return values


def score_one_model(reference: Any, model_config: dict[str, Any], model: ModelToScore, split: Any) -> list[float]:
    """The target metric of every job of ``model`` on its validation events (``split['val']``); runs anywhere."""
    from optima_core.engine.context import new_input_handler
    from optima_core.plugins.active import using_manager
    from optima_core.training.job import load_reference

    run_config, manager = load_reference(reference)
    handler = new_input_handler(manager.hooks, run_config)
    handler.set_vars(list(model.input_vars))
    with using_manager(manager):
        loaded = _loaded(run_config, manager, handler, split, model.path)
    return score_loaded(run_config, manager, handler, model_config, loaded, split["val"], model.jobs)


def _shares(model: ModelToScore, parts: int) -> list[ModelToScore]:
    size = max(1, math.ceil(len(model.jobs) / parts))
    return [
        ModelToScore(model.path, model.input_vars, model.jobs[start : start + size])
        for start in range(0, len(model.jobs), size)
    ]


class _Scorer:
    """A Ray actor that scores models; it keeps the framework and the models it loaded until released."""

    def where(self) -> tuple[str, int]:
        """The node and process the actor runs in."""
        import os

        import ray

        return ray.get_runtime_context().get_node_id(), os.getpid()

    def score(self, reference: Any, model_config: dict[str, Any], model: ModelToScore, split: Any) -> list[float]:
        return score_one_model(reference, model_config, model, split)


def _wait_for_exit(pids: list[int], timeout_s: float = 10.0) -> None:
    """Wait until the processes ``pids`` (of this node) have ended, at most ``timeout_s``."""
    import os
    import time

    deadline = time.monotonic() + timeout_s
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.02)


class ScorerPool:
    """The scoring actors of one variable selection, one per trial slot, started when first needed.

    Consecutive scoring rounds (shuffle iterations, an iteration's candidates and its reference) reuse them. They
    are released before any training starts (:meth:`release`): trials must not share the machine with idle
    processes that hold a framework, and an actor holds its worker process (and its memory) until it is killed,
    where an idle task worker may outlive its task.
    """

    def __init__(self) -> None:
        self._actors: list[Any] = []
        self._where: list[Any] = []

    def _get(self, count: int) -> list[Any]:
        import ray

        while len(self._actors) < count:
            # No CPUs reserved: the pool is released before trials start, and must never keep them from starting.
            actor: Any = ray.remote(_Scorer).options(num_cpus=0, max_restarts=0).remote()
            self._actors.append(actor)
            self._where.append(actor.where.remote())
        return self._actors[:count]

    def release(self) -> None:
        """Kill the actors and wait until their processes on this node have ended (no-op when none are running).

        ``ray.kill`` only asks: on a busy machine a killed actor's process lived on for seconds, next to the trials
        started after it.
        """
        if not self._actors:
            return
        import ray

        try:
            where = ray.get(self._where, timeout=30)
        except Exception:  # noqa: BLE001 - an actor that died or never started has no process to wait for
            where = []
        for actor in self._actors:
            ray.kill(actor, no_restart=True)
        self._actors, self._where = [], []
        node = ray.get_runtime_context().get_node_id()
        _wait_for_exit([pid for node_id, pid in where if node_id == node])

    def score(self, session: Any, models: Sequence[tuple[int, ModelToScore]]) -> list[list[float]]:
        """Values of every job of every model, in order; ``models`` pairs each with its fold number.

        Without a Ray session the models are scored in this process. Otherwise each model's jobs are split so that
        every slot gets work, spread over the actors, and each model's fold split (restricted to its variables) is
        put into the object store once.
        """
        if not models:
            return []
        context = session.context
        reference = context.reference
        model_config = dict(session.model_config)

        import ray

        if not ray.is_initialized():
            return [
                score_one_model(reference, model_config, model, session.fold_split(fold, model.input_vars))
                for fold, model in models
            ]
        slots = max(int(context.plan.concurrent_trials or 1), 1)
        parts = max(1, math.ceil(slots / len(models)))
        pieces = [(index, share) for index, (_, model) in enumerate(models) for share in _shares(model, parts)]
        actors = self._get(min(slots, len(pieces)))
        splits: dict[tuple[int, tuple[Any, ...]], Any] = {}
        refs = []
        for number, (index, share) in enumerate(pieces):
            fold = models[index][0]
            key = (fold, share.input_vars)
            if key not in splits:
                splits[key] = ray.put(session.fold_split(fold, share.input_vars))
            actor = actors[number % len(actors)]
            refs.append(actor.score.remote(reference, model_config, share, splits[key]))
        try:
            results = ray.get(refs)
        except Exception as error:
            self.release()
            user_error = find_user_error(error)
            if user_error is not None:
                raise user_error from None
            raise
        values: list[list[float]] = [[] for _ in models]
        for (index, _), part in zip(pieces, results, strict=True):
            values[index].extend(part)
        return values


def score_models(session: Any, models: Sequence[tuple[int, ModelToScore]]) -> list[list[float]]:
    """:meth:`ScorerPool.score` with the selection's pool (``session.scorers``)."""
    pool: ScorerPool = session.scorers
    return pool.score(session, models)


def score_file(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + SCORE_SUFFIX)


def job_key(job: ScoreJob) -> str:
    """How a job's value is filed next to a model: what is shuffled and with which seed (nothing: the plain value)."""
    return repr((tuple(job.vars_to_shuffle), tuple(job.seed or ()))) if job.vars_to_shuffle else ""


def write_trial_score(job: Any, manager: Any, model_path: Path, planned: Sequence[ScoreJob] = ()) -> None:
    """In the trial that exported ``model_path``: its target metric on the trial's validation events, and the values
    of the ``planned`` shuffle jobs (those the next shuffle iteration will ask for if this model is kept), to a file.
    """
    from optima_core.engine.models import load_model
    from optima_core.plugins.active import using_manager

    data = job.data
    splits = tuple(data[s] for s in ("train", "val", "test") if s in data)
    jobs = [ScoreJob(), *(j for j in planned if j.vars_to_shuffle)]
    with using_manager(manager):
        loaded = load_model(job.run_config, model_path, job.input_handler, splits, manager=manager)
    values = score_loaded(job.run_config, manager, job.input_handler, job.model_config, loaded, data["val"], jobs)
    filed = {job_key(j): None if math.isnan(v) else v for j, v in zip(jobs, values, strict=True)}
    target = score_file(model_path)
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(json.dumps({"value": filed[""], "jobs": filed}))
    temp.replace(target)


def _filed(model_path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(score_file(model_path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def read_trial_score(model_path: Path) -> float | None:
    """The value :func:`write_trial_score` left for ``model_path``; None when there is none."""
    record = _filed(model_path)
    if record is None or "value" not in record:
        return None
    value = record["value"]
    return float("nan") if value is None else float(value)


def read_filed_jobs(model_path: Path, jobs: Sequence[ScoreJob]) -> list[float | None]:
    """The values the trial that trained ``model_path`` filed for ``jobs`` (None for each one it did not)."""
    record = _filed(model_path)
    filed = record.get("jobs", {}) if record is not None else {}
    if record is not None and "value" in record:
        filed.setdefault("", record["value"])
    found: list[float | None] = []
    for job in jobs:
        key = job_key(job)
        if key not in filed:
            found.append(None)
        else:
            found.append(float("nan") if filed[key] is None else float(filed[key]))
    return found
