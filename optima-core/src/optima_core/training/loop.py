"""Train one model, epoch by epoch, with the core's rules; the same for every backend.

After each epoch: collect the backend's losses and native metrics, compute weighted/custom/composite metrics and
the overtraining conditions from predictions, let the :class:`EpochMonitor` decide, write a checkpoint when due,
and report. The reporter is Ray Tune's ``tune.report`` inside a trial, or a plain history collector otherwise.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.backends import TrainingBackend
from optima_core.training.job import TrainingJob
from optima_core.training.monitor import EpochMonitor, checkpoint_due

STATE_FILE = "optima_state.json"
#: Columns every reported epoch carries: the monitored value and whether the epoch passes every condition.
TARGET_COLUMN = "optima_target"
VALID_COLUMN = "optima_valid"
#: True in the row of the epoch whose target became NaN or infinite: the training stopped there and failed.
DIVERGED_COLUMN = "optima_diverged"

#: ``report(metrics, checkpoint_dir_or_None)``
Reporter = Callable[[dict[str, Any], "Path | None"], None]


@dataclass
class TrainingResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    stop_reason: str | None = None
    epochs: int = 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def save_state(
    directory: Path, monitor: EpochMonitor, history: list[dict[str, Any]], model_config: dict[str, Any]
) -> None:
    state = {
        "monitor": monitor.state_dict(),
        "history": [{k: _jsonable(v) for k, v in row.items()} for row in history],
        "model_config": {k: _jsonable(v) for k, v in model_config.items()},
    }
    (directory / STATE_FILE).write_text(json.dumps(state, indent=1, default=repr))


def load_state(directory: Path) -> dict[str, Any]:
    state = json.loads((directory / STATE_FILE).read_text())
    for row in state["history"]:
        for key, value in row.items():
            if value in ("inf", "-inf", "nan"):
                row[key] = float(value)
    return state


def diverged(row: Mapping[str, Any]) -> bool:
    """Whether the training whose last reported epoch is ``row`` stopped because its target became NaN or inf."""
    return row.get(DIVERGED_COLUMN) in (True,)  # True or numpy's True; a missing value (NaN) is not


def train(
    job: TrainingJob,
    backend: TrainingBackend,
    report: Reporter,
    *,
    checkpoint_dir: Path | None = None,
    restore_best_weights: bool = False,
) -> TrainingResult:
    """Train ``job`` with ``backend``; resume from ``checkpoint_dir`` if given (its epoch count continues)."""
    monitor = EpochMonitor(job.monitor)
    history: list[dict[str, Any]] = []
    if checkpoint_dir is not None:
        state = load_state(checkpoint_dir)
        monitor = EpochMonitor(job.monitor, state["monitor"])
        # A restored trial goes on with (possibly mutated) hyperparameters: a clone of a finished trial must not
        # end at once (Population Based Training), so the stop verdict and the patience counters start afresh.
        monitor.state.stop_reason = None
        monitor.state.epochs_without_improvement = 0
        monitor.state.epochs_overtrained = 0
        history = state["history"]
        backend.restore(checkpoint_dir)
        backend.mutate(job.model_config)
    else:
        backend.build()
    initial_epoch = monitor.state.epoch
    best_weights: list[Any] = []
    last_checkpoint = [time.monotonic()]
    needs_predictions = job.metrics.needs_predictions(backend.weights_metrics_natively)
    result = TrainingResult(history=history)

    def end_of_epoch(epoch_index: int, logs: dict[str, float]) -> bool:
        metrics: dict[str, Any] = dict(logs)
        if needs_predictions:
            for split in ("train", "val"):
                predictions = backend.predict(split)
                if not backend.weights_metrics_natively:
                    metrics.update(job.metrics.weighted_values(split, job.data[split], predictions))
                metrics.update(job.metrics.custom_values(split, job.data[split], predictions, job.batch_size))
        metrics.update(job.metrics.composite_values(metrics))
        conditions = job.metrics.overtraining_verdicts(metrics)
        decision = monitor.end_epoch(metrics, overtrained=any(conditions.values()))
        epoch = monitor.state.epoch
        row = {
            "epoch": epoch,
            **metrics,
            TARGET_COLUMN: decision.target,
            VALID_COLUMN: decision.valid,
            DIVERGED_COLUMN: decision.diverged,
        }
        history.append(row)
        if decision.improved and restore_best_weights:
            best_weights[:] = [backend.get_weights()]
        stop = decision.stop or epoch >= job.max_epochs
        due = checkpoint_due(epoch, job.checkpoint_frequency, first_epoch_offset=job.checkpoint_offset)
        recent = time.monotonic() - last_checkpoint[0] < job.min_checkpoint_interval_s
        if stop or (due and not recent):
            last_checkpoint[0] = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="optima-ckpt-") as directory:
                path = Path(directory)
                backend.save_checkpoint(path)
                save_state(path, monitor, history, job.model_config)
                report(row, path)
        else:
            report(row, None)
        return stop

    if initial_epoch < job.max_epochs:
        backend.fit(initial_epoch, job.max_epochs, end_of_epoch)
    if restore_best_weights and best_weights:
        backend.set_weights(best_weights[0])
    result.best_epoch, result.best_value = monitor.state.best_epoch, monitor.state.best_value
    result.stop_reason, result.epochs = monitor.state.stop_reason, monitor.state.epoch
    return result
