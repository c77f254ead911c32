"""The function Ray Tune runs for every trial: rebuild the run-config and plugins, train, report, export.

Datasets arrive through Ray's object store (stored once per Tuner, read zero-copy by every trial on the node:
:mod:`optima_core.engine.trial_parameters`). The run-config travels as a
:class:`~optima_core.training.job.RunReference` (its text as the run read it, and the driver's values) and is loaded
once per worker process; the file is never read again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optima_core.engine.context import new_input_handler
from optima_core.training.job import RunReference, TrainingJob, load_reference
from optima_core.training.loop import TrainingResult, diverged, train
from optima_core.training.metrics import MetricPlan
from optima_core.training.monitor import MonitorSettings

#: Outside Population Based Training checkpoints only serve resuming an interrupted run: one every few seconds at
#: most (and always one when a trial stops) is enough, and writing one every epoch cost as much as a short epoch.
RESUME_CHECKPOINT_INTERVAL_S = 5.0

#: Keys of a trial's config that are OPTIMA's bookkeeping, not hyperparameters.
FOLD_KEY = "optima_fold"
SEED_KEY = "optima_seed"


@dataclass(frozen=True)
class TrialSettings:
    """Everything a trial needs besides its hyperparameters and data."""

    reference: RunReference
    input_vars: tuple[Any, ...]
    max_epochs: int
    fixed_model_config: tuple[tuple[str, Any], ...] = ()
    use_early_stopping: bool = True
    use_overtraining_conditions: bool = True
    checkpoint_frequency: int = 1
    checkpoint_offset: int = 0
    min_checkpoint_interval_s: float = 0.0
    export_dir: str | None = None
    restore_best_weights: bool = False
    use_gpu: bool = False
    #: Also compute the variable selection's target metric of the exported model here (``retrain`` evaluator).
    score_for_selection: bool = False
    #: Per fold: shuffle evaluations (:class:`~optima_core.variable_selection.scoring.ScoreJob`) to make of the
    #: exported model too, those the selection's next shuffle iteration will need if it keeps this model.
    planned_scores: tuple[tuple[Any, ...], ...] = ()


def build_job(config: dict[str, Any], settings: TrialSettings, data: Any, workdir: Path) -> tuple[TrainingJob, Any]:
    """The training job of one trial and its plugin manager."""
    run_config, manager = load_reference(settings.reference)
    input_handler = new_input_handler(manager.hooks, run_config)
    input_handler.set_vars(list(settings.input_vars))
    model_config = dict(settings.fixed_model_config)
    model_config.update({k: v for k, v in config.items() if not k.startswith("optima_")})
    monitor = MonitorSettings.from_run_config(
        run_config,
        use_early_stopping=settings.use_early_stopping,
        use_overtraining_conditions=settings.use_overtraining_conditions,
    )
    job = TrainingJob(
        run_config=run_config,
        model_config=model_config,
        input_handler=input_handler,
        data=data,
        hooks=manager.hooks,
        metrics=MetricPlan.from_run_config(run_config),
        monitor=monitor,
        seed=int(config.get(SEED_KEY, run_config.random_seed)),
        max_epochs=settings.max_epochs,
        checkpoint_frequency=settings.checkpoint_frequency,
        checkpoint_offset=settings.checkpoint_offset,
        min_checkpoint_interval_s=settings.min_checkpoint_interval_s,
        workdir=workdir,
        extra={"use_gpu": settings.use_gpu},
    )
    return job, manager


def _report_value(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def write_history(path: Path, history: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in history:
        columns.extend(k for k in row if k not in columns)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)


def run_trial(config: dict[str, Any], *, settings: TrialSettings, datasets: Any) -> None:
    """Ray Tune function trainable."""
    from ray import tune

    fold = config.get(FOLD_KEY)
    data = datasets[fold] if fold is not None else datasets
    context = tune.get_context()
    workdir = Path(context.get_trial_dir()) if context.get_trial_dir() else Path.cwd()
    job, manager = build_job(config, settings, data, workdir)
    backend = manager.descriptor("backend", job.run_config.model_type).load()(job)

    def report(metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        clean = {k: _report_value(v) for k, v in metrics.items()}
        if fold is not None:
            clean[FOLD_KEY] = fold
        checkpoint = tune.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        tune.report(clean, checkpoint=checkpoint)

    checkpoint = tune.get_checkpoint()
    result: TrainingResult
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            result = train(
                job, backend, report, checkpoint_dir=Path(directory), restore_best_weights=settings.restore_best_weights
            )
    else:
        result = train(job, backend, report, restore_best_weights=settings.restore_best_weights)

    # A diverged training ends cleanly (no traceback from Ray): its last report carries the verdict, which the
    # stages and the Optuna searcher read as a failure (optima_core.training.loop.diverged); it exports no model.
    failed = bool(result.history) and diverged(result.history[-1])
    if settings.export_dir is not None:
        export_dir = Path(settings.export_dir)
        name = f"model_fold{fold}" if fold is not None else "model"
        exported = None if failed else backend.export(export_dir / name)
        write_history(export_dir / f"{name}_history.csv", result.history)
        if exported is not None and settings.score_for_selection:
            from optima_core.variable_selection.scoring import write_trial_score

            planned = settings.planned_scores[fold] if fold is not None and fold < len(settings.planned_scores) else ()
            write_trial_score(job, manager, exported, planned)
    backend.close()
