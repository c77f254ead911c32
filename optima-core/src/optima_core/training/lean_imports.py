"""What the backends' lean imports of their frameworks share: the switch, and a loader that wraps a module's own.

A backend plugin (``optima_lightning.lean_import``, ``optima_keras.lean_import``) adds an import finder that runs
chosen modules' own loaders with something done around them (stand-ins in place, a flag set). Setting
``OPTIMA_LEAN_IMPORTS=0`` turns all of them off: frameworks are then imported with everything they import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import types
from typing import Any

#: The environment variable that, set to ``0``, turns the backends' lean imports off.
LEAN_IMPORTS_VARIABLE = "OPTIMA_LEAN_IMPORTS"


def lean_imports_enabled() -> bool:
    """Whether the backends may import their frameworks without the modules those load and do not use."""
    return os.environ.get(LEAN_IMPORTS_VARIABLE) != "0"


class WrappingLoader(importlib.abc.Loader):
    """Runs a module's own loader (and leaves it as the module's loader), with :meth:`around` doing the rest."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.around(module)

    def around(self, module: types.ModuleType) -> None:
        """Execute ``module`` with ``self.loader.exec_module(module)``, doing what the subclass adds around it."""
        raise NotImplementedError
