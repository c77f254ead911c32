"""End-of-epoch bookkeeping shared by every backend: early stopping, overtraining, the trial's target value.

After each epoch the trainable hands the epoch's metrics to :class:`EpochMonitor`, which decides whether to stop
and what value the optimizer should see:

* The *target* is ``monitor_name``. An epoch is *valid* when no overtraining condition fires.
* Early stopping: stop once ``early_stopping_patience`` consecutive epochs brought no strict improvement of the
  target over the best valid epoch so far (as Keras counts it; can be switched off, as cross-validation does by
  default).
* Overtraining stopping: stop once ``overtraining_patience`` consecutive epochs had at least one overtraining
  condition firing (ignored when there are none).
* The value reported to the optimizer is the best valid target so far (``optimize_on_best_value``) or the target
  of the last valid epoch; before any valid epoch it is the worst possible value.

The monitor's state is a plain dict so that it travels inside checkpoints: a trial restored by Population Based
Training continues counting where it stopped.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from optima_core.errors import OptimaUserError


@dataclass
class MonitorSettings:
    monitor_name: str = "val_loss"
    monitor_op: str = "min"
    early_stopping_patience: int = 6
    overtraining_patience: int = 6
    optimize_on_best_value: bool = False
    use_early_stopping: bool = True
    use_overtraining_conditions: bool = True

    @classmethod
    def from_run_config(cls, run_config: Any, **overrides: Any) -> MonitorSettings:
        values = {name: getattr(run_config, name) for name in cls.__dataclass_fields__ if name in run_config}
        values.update(overrides)
        return cls(**values)


@dataclass
class MonitorState:
    epoch: int = 0  # epochs completed
    best_value: float | None = None
    best_epoch: int | None = None
    last_valid_value: float | None = None
    last_valid_epoch: int | None = None
    epochs_without_improvement: int = 0
    epochs_overtrained: int = 0
    stop_reason: str | None = None


@dataclass
class EpochDecision:
    """What the trainable does after an epoch."""

    target: float  # the value the optimizer sees for this trial so far
    valid: bool  # no overtraining condition fired this epoch
    improved: bool  # this epoch is the new best valid epoch
    stop: bool
    reason: str | None = None
    diverged: bool = False  # the target became NaN or infinite: training stops and the model is a failure


def is_better(value: float, reference: float | None, mode: str) -> bool:
    """Whether ``value`` beats ``reference`` (``None``: nothing to beat) for ``mode`` 'min' or 'max'."""
    return reference is None or (value < reference if mode == "min" else value > reference)


class EpochMonitor:
    """Decides, epoch by epoch, whether training goes on; restorable from :meth:`state_dict`."""

    def __init__(self, settings: MonitorSettings, state: dict[str, Any] | None = None) -> None:
        if settings.monitor_op not in ("min", "max"):
            raise ValueError(f"monitor_op must be 'min' or 'max', got {settings.monitor_op!r}")
        self.settings = settings
        self.state = MonitorState(**state) if state else MonitorState()

    @property
    def worst(self) -> float:
        return math.inf if self.settings.monitor_op == "min" else -math.inf

    def _better(self, value: float, reference: float | None) -> bool:
        return is_better(value, reference, self.settings.monitor_op)

    def target_value(self) -> float:
        """The trial's value for the optimizer: best or last valid target, or the worst value if none yet."""
        chosen = self.state.best_value if self.settings.optimize_on_best_value else self.state.last_valid_value
        return self.worst if chosen is None else chosen

    def end_epoch(self, metrics: dict[str, Any], overtrained: bool = False) -> EpochDecision:
        """Record one finished epoch (``metrics`` must hold ``monitor_name``) and decide whether to stop."""
        settings, state = self.settings, self.state
        state.epoch += 1
        if settings.monitor_name not in metrics:
            raise OptimaUserError(
                f"the target metric '{settings.monitor_name}' was not reported; reported: {', '.join(sorted(metrics))}"
            )
        value = float(metrics[settings.monitor_name])
        finite = math.isfinite(value)
        valid = finite and not (settings.use_overtraining_conditions and overtrained)

        improved = False
        if valid:
            state.last_valid_value, state.last_valid_epoch = value, state.epoch
            if self._better(value, state.best_value):
                state.best_value, state.best_epoch = value, state.epoch
                improved = True
        state.epochs_without_improvement = 0 if improved else state.epochs_without_improvement + 1
        if settings.use_overtraining_conditions and overtrained:
            state.epochs_overtrained += 1
        else:
            state.epochs_overtrained = 0

        reason = None
        if not finite:
            reason = f"{settings.monitor_name} is {value} (training diverged)"
        elif (
            settings.use_early_stopping
            and not improved
            and state.epochs_without_improvement >= max(settings.early_stopping_patience, 1)
        ):
            reason = f"no improvement of {settings.monitor_name} for {state.epochs_without_improvement} epochs"
        elif state.epochs_overtrained >= max(settings.overtraining_patience, 1):
            reason = f"overtraining detected for {state.epochs_overtrained} consecutive epochs"
        state.stop_reason = reason
        return EpochDecision(self.target_value(), valid, improved, reason is not None, reason, diverged=not finite)

    def state_dict(self) -> dict[str, Any]:
        return asdict(self.state)


def checkpoint_due(epoch: int, frequency: int, *, first_epoch_offset: int = 0) -> bool:
    """Whether a checkpoint is written after ``epoch`` (1-based): every ``frequency`` epochs from the offset on.

    With ``first_epoch_offset = 0`` that is epochs ``frequency, 2*frequency, ...``; with an offset ``o`` it is
    ``o, o + frequency, ...`` (Population Based Training's first checkpoint after the burn-in period).
    """
    if frequency <= 0 or epoch <= 0 or epoch < first_epoch_offset:
        return False
    return (epoch - first_epoch_offset) % frequency == 0


def pbt_checkpoint_cadence(
    checkpoint_frequency: int, perturbation_interval: int, burn_in_period: int
) -> tuple[int, int]:
    """(frequency, first-epoch offset) for PBT, which needs a checkpoint at the end of every perturbation interval.

    The frequency becomes the perturbation interval unless that is a multiple of ``checkpoint_frequency``; the
    first checkpoint comes after ``frequency`` epochs if the burn-in period is a multiple of it, else after the
    burn-in period. Ray's scheduler perturbs first at ``max(burn_in_period, perturbation_interval)``, so that is
    the burn-in period used here.
    """
    frequency = checkpoint_frequency if perturbation_interval % checkpoint_frequency == 0 else perturbation_interval
    first_perturbation = max(burn_in_period, perturbation_interval)
    offset = 0 if first_perturbation % frequency == 0 else first_perturbation
    return frequency, offset
