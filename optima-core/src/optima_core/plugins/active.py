"""The plugin manager of the run in progress, for built-in hook implementations that need more than hooks.

Hooks receive the reference's arguments only; a built-in such as ``evaluate`` that must find the backend by name
asks :func:`active_manager`. The engine sets it with :func:`using_manager`; outside a run a fresh manager is
built from the run-config's module.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_ACTIVE: contextvars.ContextVar[Any] = contextvars.ContextVar("optima_active_manager", default=None)


@contextlib.contextmanager
def using_manager(manager: Any) -> Iterator[None]:
    token = _ACTIVE.set(manager)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_manager(run_config: Any) -> Any:
    manager = _ACTIVE.get()
    if manager is not None:
        return manager
    from optima_core.plugins.manager import create_plugin_manager

    return create_plugin_manager(run_config_module=getattr(run_config, "module", None))
