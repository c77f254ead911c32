"""Import Keras without running the plotting modules it imports for its image galleries.

``import keras`` imports ``matplotlib.pyplot`` and ``matplotlib.patches`` for ``keras.visualization`` (galleries of
images and bounding boxes), which training and evaluation never call. pyplot brings most of matplotlib and selects
a GUI backend: about 0.6 to 1 s of every Keras process's start, paid by each trial worker of each stage.

:func:`install` (called when the Keras plugin is loaded) adds an import finder. While ``keras`` is first imported,
those two modules, unless imported already, are created with :class:`importlib.util.LazyLoader`: the module object
exists (Keras keeps its reference), and its code runs at the first attribute access. From then on it is the real
module, the same object every later import gets. So Keras's galleries, a run-config's own pyplot figures and
OPTIMA's evaluation figures work as before; only a process that never draws skips the cost.

Nothing changes for a module imported before, or when ``OPTIMA_LEAN_IMPORTS=0``
(:data:`optima_core.training.lean_imports.LEAN_IMPORTS_VARIABLE`).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Sequence
from typing import Any

from optima_core.training.lean_imports import WrappingLoader, lean_imports_enabled

PACKAGE = "keras"
#: Modules Keras imports for its galleries only; loaded on first use when Keras's import is what imports them.
DEFERRED = frozenset({"matplotlib.pyplot", "matplotlib.patches"})

_keras_importing = False


class _WhileKerasImports(WrappingLoader):
    """Executes the ``keras`` package with :data:`_keras_importing` set."""

    def around(self, module: types.ModuleType) -> None:
        global _keras_importing
        _keras_importing = True
        try:
            self.loader.exec_module(module)
        finally:
            _keras_importing = False


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the modules as usual and gives them the loaders above."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        wrapper: Any
        if fullname == PACKAGE:
            wrapper = _WhileKerasImports
        elif fullname in DEFERRED and _keras_importing:
            wrapper = importlib.util.LazyLoader
        else:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = wrapper(spec.loader)
        return spec


def install() -> None:
    """Add the finder (once), unless ``OPTIMA_LEAN_IMPORTS=0``; modules imported before are not affected."""
    if lean_imports_enabled() and not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
