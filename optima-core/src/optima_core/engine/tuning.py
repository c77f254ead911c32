"""One place that starts (or resumes) a Ray Tune experiment with OPTIMA's settings.

Settings every stage shares: failing trials are not retried (the original retried forever), actors are reused
between trials, Tune's own console output is off (see :mod:`optima_core.engine.progress`), and an interrupted
experiment is continued from its folder with ``Tuner.restore`` when the run is resumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_tuner(
    trainable: Any,
    *,
    name: str,
    storage: Path,
    param_space: dict[str, Any],
    tune_config: Any,
    callbacks: list[Any],
    resume: bool,
    checkpoints_to_keep: int | None = 2,
) -> Any:
    """Fit a Tuner (restoring an interrupted one if ``resume``) and return its ResultGrid."""
    import os

    from ray import tune

    # Tune saves the experiment state (trial statuses, latest checkpoints) at most every 10 s by default: a run
    # killed within that window re-ran trials that had already finished. Save it at most a second late instead.
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")
    storage = storage.resolve()
    experiment = storage / name
    if resume and tune.Tuner.can_restore(str(experiment)):
        tuner = tune.Tuner.restore(
            str(experiment),
            trainable=trainable,
            resume_unfinished=True,
            resume_errored=False,
            restart_errored=False,
            param_space=param_space or None,
        )
    else:
        run_config = tune.RunConfig(
            name=name,
            storage_path=str(storage),
            verbose=0,
            callbacks=callbacks,
            failure_config=tune.FailureConfig(max_failures=0),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=checkpoints_to_keep),
            log_to_file=True,
        )
        tuner = tune.Tuner(trainable, param_space=param_space, tune_config=tune_config, run_config=run_config)
    return tuner.fit()
