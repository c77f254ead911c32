"""The Ray Tune callbacks a run adds to every Tuner: experiment tracking (MLflow, Weights & Biases, ...).

Two sources, concatenated in this order: the run-config parameter ``tune_callbacks`` (a list of callbacks, or a
function of the stage name returning one) and the hook ``optima_tune_callbacks(run_config, stage)`` of every
plugin. They are asked each time a stage starts Ray Tune (:func:`optima_core.engine.tuning.launch_trials`): for its
trials and for each cross-validation. Tune calls them in the driver process, so they need not travel to workers.
Anything that is not a ``ray.tune.Callback`` instance is refused with an error naming where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optima_core.engine.context import RunContext
from optima_core.errors import OptimaUserError, PluginError

#: The stage name of training with fixed hyperparameters (its Tune experiments lie in the output folder itself).
FIXED_STAGE = "fixed"


def stage_of(context: RunContext, storage: Path) -> str:
    """The name of the stage whose Tune experiments are stored under ``storage``: its folder's name."""
    try:
        parts = storage.resolve().relative_to(context.output.resolve()).parts
    except ValueError:
        return storage.name
    return parts[0] if parts and parts[0] != "tune" else FIXED_STAGE


def _checked(value: Any, origin: str, error: type[OptimaUserError]) -> list[Any]:
    from ray.tune import Callback

    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, Callback) for v in value):
        raise error(f"{origin} = {value!r:.120}: expected a list of ray.tune.Callback instances")
    return list(value)


def tune_callbacks(context: RunContext, stage: str) -> list[Any]:
    """The callbacks of ``tune_callbacks`` and of every ``optima_tune_callbacks`` implementation for ``stage``."""
    run_config = context.run_config
    configured = run_config.get("tune_callbacks")
    origin = "tune_callbacks"
    if callable(configured):
        origin = f"tune_callbacks({stage!r})"
        configured = configured(stage)
    callbacks = _checked(configured, origin, OptimaUserError)
    providers = context.manager.hook_providers("optima_tune_callbacks")
    for result in context.hooks.optima_tune_callbacks(run_config=run_config, stage=stage):
        callbacks += _checked(
            result, f"optima_tune_callbacks(stage={stage!r}) of the plugins {', '.join(providers)}", PluginError
        )
    return callbacks
