"""The Ray Tune function of a cross-validation model: train, export, and evaluate while the worker holds the data.

Like :func:`optima_core.engine.trial.run_trial`, plus two things that keep work off the driver:

* **snapshots**: one training serves several plans that differ only in their number of epochs (best-value and
  best-fit of the same trial). The model is exported at each shorter plan's last epoch (or at the end, if the
  training stops earlier), with the history up to there: exactly what a training stopped at that epoch leaves, since
  nothing of an epoch depends on the epochs after it;
* **evaluation in the worker**: every exported model gets its ``finalize_model`` calls and is evaluated by the
  ``evaluate`` hook in the worker that trained it (frameworks loaded, data in memory, in parallel over folds). The
  result goes next to the model (:data:`EVALUATION_SUFFIX`) for :func:`optima_core.evaluation.folds.evaluate_models`;
  when evaluating here fails, nothing is written and the driver evaluates that model itself, as it would have;
* **ONNX export in the worker** (``export_onnx``): each evaluated model is exported and checked here too, so the
  driver only writes the bundle's ``models.json`` and never imports the framework for it.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optima_core.engine.trial import FOLD_KEY, TrialSettings, build_job, write_history
from optima_core.inputs.memory import release_unused_memory
from optima_core.training.loop import TrainingResult, diverged, train

#: What the worker's evaluation of ``<model>`` is stored in, next to the model: ``<model stem><suffix>``.
EVALUATION_SUFFIX = ".optima_evaluation.pkl"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelTarget:
    """Where one plan's models go and how its models are described to ``finalize_model`` and ``evaluate``."""

    export_dir: str
    #: The last epoch of this plan; None: the training's own end (the plan that sets ``max_epochs``).
    epoch: int | None
    model_config: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class FoldSettings:
    """A cross-validation model's trial settings, the plans it serves, and whether to evaluate in the worker."""

    trial: TrialSettings
    targets: tuple[ModelTarget, ...]
    evaluate: bool = True
    cpus: float = 1
    #: Also export each evaluated model to ONNX here (``export_onnx`` of the run-config), for the driver's bundle.
    export_onnx: bool = False


def model_name(fold: int | None) -> str:
    return f"model_fold{fold}" if fold is not None else "model"


def evaluation_file(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + EVALUATION_SUFFIX)


def run_fold_trial(config: dict[str, Any], *, settings: FoldSettings, datasets: Any) -> None:
    """Ray Tune function trainable of one fold (or the single model) of one or more plans."""
    from ray import tune

    fold = config.get(FOLD_KEY)
    data = datasets[fold] if fold is not None else datasets
    context = tune.get_context()
    workdir = Path(context.get_trial_dir()) if context.get_trial_dir() else Path.cwd()
    job, manager = build_job(config, settings.trial, data, workdir)
    backend = manager.descriptor("backend", job.run_config.model_type).load()(job)
    name = model_name(fold)
    early = {t.epoch: Path(t.export_dir) for t in settings.targets if t.epoch is not None}
    exported: dict[Path, Path] = {}

    def report(metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        epoch = int(metrics["epoch"])
        if epoch in early and not diverged(metrics):
            exported[early[epoch]] = backend.export(early[epoch] / name)
        clean = {
            k: v if isinstance(v, bool) or not isinstance(v, (int, float)) else float(v) for k, v in metrics.items()
        }
        if fold is not None:
            clean[FOLD_KEY] = fold
        checkpoint = tune.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        tune.report(clean, checkpoint=checkpoint)

    checkpoint = tune.get_checkpoint()
    restore = settings.trial.restore_best_weights
    result: TrainingResult
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            result = train(job, backend, report, checkpoint_dir=Path(directory), restore_best_weights=restore)
    else:
        result = train(job, backend, report, restore_best_weights=restore)

    last_epoch = int(result.history[-1]["epoch"]) if result.history else 0
    for target in settings.targets:
        export_dir = Path(target.export_dir)
        history = [row for row in result.history if target.epoch is None or int(row["epoch"]) <= target.epoch]
        failed = bool(history) and diverged(history[-1])
        taken = target.epoch is not None and target.epoch <= last_epoch and export_dir in exported
        if not failed and not taken and (target.epoch is None or last_epoch < target.epoch or not history):
            exported[export_dir] = backend.export(export_dir / name)  # the training's end is this plan's end
        elif failed:
            exported.pop(export_dir, None)
        write_history(export_dir / f"{name}_history.csv", history)
    backend.close()
    release_unused_memory()  # the training's freed buffers, before the evaluation and export load more
    if settings.evaluate:
        for target in settings.targets:
            path = exported.get(Path(target.export_dir))
            if path is not None:
                _finalize_and_evaluate(manager, job, target, fold, path, settings)


def _finalize_and_evaluate(
    manager: Any, job: Any, target: ModelTarget, fold: int | None, path: Path, settings: FoldSettings
) -> None:
    """``finalize_model`` and ``evaluate`` of one exported model, as the driver calls them, and its ONNX export
    when asked; the evaluation is pickled next to the model. Any error leaves it to the driver (which then raises it
    where it always did)."""
    from optima_core.deploy.export import export_in_worker
    from optima_core.engine.models import sharing_loaded_models
    from optima_core.evaluation.folds import evaluate_one
    from optima_core.plugins.active import using_manager

    run_config = job.run_config
    models_dir = path.parent
    split = tuple(job.data[s] for s in ("train", "val", "test") if s in job.data)
    target_file = evaluation_file(path)
    try:
        with using_manager(manager), sharing_loaded_models():
            manager.hooks.finalize_model(
                run_config=run_config,
                dataset_split=split,
                results_dir=str(models_dir.parent),
                model_dir=str(models_dir),
                model_info={"name": model_name(fold), "split": fold or 0, "config": dict(target.model_config)},
                input_handler=job.input_handler,
            )
            outcome = evaluate_one(
                manager.hooks, run_config, job.input_handler, dict(target.model_config), split, path, settings.cpus
            )
            onnx = None
            if settings.export_onnx:
                onnx = export_in_worker(
                    run_config, manager, job.input_handler, dict(target.model_config), job.data, path
                )
        temp = target_file.with_name(target_file.name + ".tmp")
        temp.write_bytes(pickle.dumps({"finalized": True, "outcome": outcome, "onnx": onnx}))
        temp.replace(target_file)
    except Exception as error:  # noqa: BLE001 - the driver evaluates this model itself and raises it there
        target_file.unlink(missing_ok=True)
        logger.warning("evaluating %s in its worker failed (%s); the driver evaluates it", path, error)
