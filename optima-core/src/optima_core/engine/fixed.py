"""Training with fixed hyperparameters (all three ``perform_*`` flags False): one model, or one per fold.

The search space then holds only fixed values. With ``crossvalidation_for_fixed_hps`` every fold is trained
(in parallel, as Ray Tune trials); otherwise a single model. Early stopping and the overtraining conditions apply
as during an optimization, and the weights of the best epoch are kept. Models (``models/model[_foldK]``) and the
per-epoch metric history (``models/*_history.csv``) are written to the output folder, plus a summary.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from optima_core.engine.context import RunContext
from optima_core.engine.trial import FOLD_KEY, SEED_KEY, TrialSettings, run_trial


def _resources(context: RunContext) -> dict[str, float]:
    return {"cpu": context.plan.cpus_per_trial, "gpu": context.plan.gpus_per_trial}


def train_fixed_hyperparameters(context: RunContext) -> dict[str, Any]:
    """Run the fixed-hyperparameter training; returns a summary (also written to ``results.txt``)."""
    from ray import tune

    from optima_core.engine.progress import ProgressPrinter
    from optima_core.engine.tuning import run_tuner

    run_config = context.run_config
    crossvalidation = bool(run_config.crossvalidation_for_fixed_hps)
    folds = context.inputs(crossvalidation)
    models_dir = context.output / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    seeds = context.fold_seeds(len(folds), fixed=run_config.fixed_seed_for_crossvalidation)
    settings = TrialSettings(
        reference=context.reference,
        input_vars=tuple(context.input_handler.get_vars()),
        max_epochs=run_config.max_epochs,
        fixed_model_config=tuple(run_config.search_space.items()),
        checkpoint_frequency=run_config.checkpoint_frequency,
        export_dir=str(models_dir),
        restore_best_weights=True,
        use_gpu=context.plan.gpus_per_trial > 0,
    )
    if crossvalidation:
        datasets: Any = dict(enumerate(folds))
        param_space: dict[str, Any] = {FOLD_KEY: tune.grid_search(list(range(len(folds))))}
        param_space[SEED_KEY] = tune.sample_from(lambda config: seeds[config[FOLD_KEY]])
    else:
        datasets = folds[0]
        param_space = {SEED_KEY: int(run_config.random_seed)}
    monitor = run_config.monitor_name
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, settings=settings, datasets=datasets), _resources(context)
    )
    what = f"{len(folds)}-fold cross-validation" if crossvalidation else "a single model"
    print(f"Training fixed hyperparameters ({what}) with up to {context.plan.concurrent_trials} trainings at once")
    results = run_tuner(
        trainable,
        name="fixed_hyperparameters",
        storage=context.output / "tune",
        param_space=param_space,
        tune_config=tune.TuneConfig(
            num_samples=1, reuse_actors=True, max_concurrent_trials=context.plan.concurrent_trials
        ),
        callbacks=[ProgressPrinter(len(folds), monitor, run_config.monitor_op, label="model")],
        resume=context.resume,
    )
    return summarize(results, monitor, run_config.monitor_op, context.output)


def summarize(results: Any, monitor: str, mode: str, output: Path) -> dict[str, Any]:
    """Best value of the target metric per model, and mean ± std over folds; written to results.txt."""
    lines = []
    values = []
    failed = []
    for result in results:
        fold = result.config.get(FOLD_KEY)
        label = f"fold {fold}" if fold is not None else "model"
        if result.error is not None:
            failed.append(label)
            lines.append(f"{label}: FAILED ({type(result.error).__name__}: {result.error})")
            continue
        frame = result.metrics_dataframe
        if frame is None or monitor not in frame:
            failed.append(label)
            lines.append(f"{label}: no '{monitor}' reported")
            continue
        valid = frame[frame.get("optima_valid", True) == True]  # noqa: E712 - pandas element-wise comparison
        column = valid[monitor] if len(valid) else frame[monitor]
        best_index = column.idxmax() if mode == "max" else column.idxmin()
        best = float(column.loc[best_index])
        epoch = int(frame.loc[best_index, "epoch"])
        values.append(best)
        lines.append(f"{label}: best {monitor} = {best:.6g} at epoch {epoch} of {int(frame['epoch'].max())}")
    if len(values) > 1:
        lines.append(
            f"mean ± std over {len(values)} folds: {statistics.mean(values):.6g} ± {statistics.stdev(values):.6g}"
        )
    text = "\n".join(lines)
    (output / "results.txt").write_text(text + "\n")
    print(text)
    return {"values": values, "failed": failed, "text": text}
