"""Read a run-config parameter with the built-in default as fallback.

Hooks receive the resolved :class:`~optima_core.config.loader.RunConfig`, but a user's hook (or a test) may pass
any object with attributes, or a dict; parameters it lacks take their defaults from the parameter table.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from optima_core.config.parameters import PARAMETERS_BY_NAME, Derived


def setting(run_config: Any, name: str) -> Any:
    """``run_config.<name>``, or the parameter's default when the run-config does not have it."""
    if isinstance(run_config, Mapping):
        if name in run_config:
            return run_config[name]
    else:
        try:
            return getattr(run_config, name)
        except AttributeError:
            pass
    parameter = PARAMETERS_BY_NAME[name]
    if isinstance(parameter.default, Derived):
        return setting(run_config, parameter.default.source)
    return copy.deepcopy(parameter.default)
