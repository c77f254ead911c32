"""The one place that launches (or resumes) Ray Tune trials with OPTIMA's settings.

:func:`launch_trials` is what every stage calls: it hands the large objects to the trials through Ray's object store
(stored once, freed when the Tuner has finished: :mod:`optima_core.engine.trial_parameters`), gives every trial
the run's per-trial CPUs and GPUs, limits the trials running at once and those pending (``--max_pending_trials``),
and fits the Tuner. Settings every stage shares: failing trials are not retried (the original retried forever),
actors are reused between trials, Tune's own console output is off (see :mod:`optima_core.engine.progress`), and an
interrupted experiment is continued from its folder with ``Tuner.restore`` when the run is resumed. Ctrl-C or SIGTERM
during ``fit`` stops the experiment with its state saved and raises
:class:`~optima_core.engine.interruption.RunInterrupted` (:mod:`optima_core.engine.interruption`): the stage never
goes on with the trials finished so far.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from optima_core.engine.context import RunContext
from optima_core.engine.interruption import tune_experiment

#: Ray Tune's TuneController reads the limit on pending trials from this variable when an experiment starts.
MAX_PENDING_TRIALS_VARIABLE = "TUNE_MAX_PENDING_TRIALS_PG"


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block; restore what was there before."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _skip_callback_telemetry() -> None:
    """Keep Tune from importing the MLflow, W&B and Comet integrations just to count the callbacks for its usage
    statistics, which OPTIMA switches off (``RAY_USAGE_STATS_ENABLED=0``).

    ``Tuner.fit`` tags the callbacks by comparing them with those integrations' classes, and importing
    ``ray.air.integrations.mlflow`` imports MLflow when it is installed (OPTIMA's ``mlflow`` extra), and SciPy and
    pandas with it: about 40 MB and a second in the driver, for nothing. Telemetry that is on stays untouched.
    """
    from ray._common.usage import usage_lib
    from ray.air._internal import usage

    if not usage_lib.usage_stats_enabled():
        setattr(usage, "tag_callbacks", lambda callbacks: False)  # noqa: B010 - a module attribute Tune reads


def launch_trials(
    context: RunContext,
    function: Callable[..., None],
    parameters: Mapping[str, Any],
    *,
    name: str,
    storage: Path,
    param_space: dict[str, Any],
    progress: Any,
    tune_options: Mapping[str, Any] | None = None,
    checkpoints_to_keep: int | None = 2,
) -> Any:
    """Run ``function`` as Tune trials and return the ResultGrid of the experiment ``<storage>/<name>``.

    ``parameters`` are passed to every trial through the object store (as keyword arguments); ``tune_options`` are
    further ``TuneConfig`` arguments (metric, mode, search algorithm, scheduler, number of samples); ``progress`` is the
    :class:`~optima_core.engine.progress.ProgressPrinter` of the stage.
    """
    from ray import tune

    from optima_core.engine.trial_parameters import trainable_with_parameters

    _skip_callback_telemetry()
    plan = context.plan
    with trainable_with_parameters(function, parameters) as shared:
        trainable = tune.with_resources(shared, {"cpu": plan.cpus_per_trial, "gpu": plan.gpus_per_trial})
        # Tune saves the experiment state (trial statuses, latest checkpoints) at most every 10 s by default: a run
        # killed within that window re-ran trials that had already finished. Save it at most a second late instead.
        os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")
        storage = storage.resolve()
        experiment = storage / name
        if context.resume and tune.Tuner.can_restore(str(experiment)):
            tuner = tune.Tuner.restore(
                str(experiment),
                trainable=trainable,
                resume_unfinished=True,
                resume_errored=False,
                restart_errored=False,
                param_space=param_space or None,
            )
        else:
            from optima_core.engine.tune_callbacks import stage_of, tune_callbacks

            run_config = tune.RunConfig(
                name=name,
                storage_path=str(storage),
                verbose=0,
                callbacks=[progress, *tune_callbacks(context, stage_of(context, storage))],
                failure_config=tune.FailureConfig(max_failures=0),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=checkpoints_to_keep),
                log_to_file=True,
            )
            tune_config = tune.TuneConfig(
                reuse_actors=True, max_concurrent_trials=plan.concurrent_trials, **dict(tune_options or {})
            )
            tuner = tune.Tuner(trainable, param_space=param_space, tune_config=tune_config, run_config=run_config)
        with _environment({MAX_PENDING_TRIALS_VARIABLE: str(plan.max_pending_trials)}), tune_experiment():
            return tuner.fit()
