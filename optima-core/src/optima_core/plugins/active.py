"""The plugin manager of the run in progress, for built-in hook implementations whose signature cannot carry it.

This is the one ContextVar of the engine for plugins, and it exists only because the reference fixes the arguments
of hooks whose implementations need more than those arguments:

* ``get_experiment_inputs(run_config, input_handler, output_dir, inputs_for_crossvalidation, disable_printing)``
  must call the lower-level hooks (``get_inputs``, ``get_training_data``, ``plot_input_data``) through the run's
  plugin manager, so that a run-config or plugin replacing one of them is used;
* ``evaluate(run_config, model_path, ...)`` must find the backend that loads the model;
* figure-drawing implementations (``plot_input_data``, ``evaluate``) look figures up by name in the registry.

Everything else receives the manager explicitly. The engine sets it with :func:`using_manager` around the hook
call; :func:`active_manager` outside such a block is an error (it used to build a second manager silently).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optima_core.plugins.manager import OptimaPluginManager

_ACTIVE: contextvars.ContextVar[OptimaPluginManager | None] = contextvars.ContextVar(
    "optima_active_manager", default=None
)


@contextlib.contextmanager
def using_manager(manager: OptimaPluginManager) -> Iterator[None]:
    """Make ``manager`` the run's plugin manager for the built-in hook implementations called inside the block."""
    token = _ACTIVE.set(manager)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_manager(caller: str) -> OptimaPluginManager:
    """The manager set by :func:`using_manager`; ``caller`` names the built-in that asks, for the error message."""
    manager = _ACTIVE.get()
    if manager is None:
        raise RuntimeError(
            f"{caller} needs the run's plugin manager, and none is set: call it inside "
            "optima_core.plugins.active.using_manager(manager) (the engine does so during a run)"
        )
    return manager
