"""Import and train with Lightning without two modules it loads and does not use.

Importing ``lightning`` (or ``pytorch_lightning``) costs a process about 170 MB and 2.5 s on top of torch. Two
modules make up most of it, and neither is needed to import Lightning or to train eagerly:

* ``torch._dynamo`` (about 70 MB and 1 s, with sympy and the compiler front end). Lightning imports it for the
  name ``OptimizedModule``, the class ``torch.compile`` returns, used only in ``isinstance`` checks, and calls
  ``torch.compiler.disable`` on two methods while defining a class. A torch optimizer imports it on first use, for
  ``disable`` (its methods are kept out of compilation) and ``graph_break`` (called by every ``step``); both mean
  nothing while no code is being compiled.
* ``scipy.signal`` (about 60 MB and 0.8 s). torchmetrics imports it only to add the alias ``hamming`` (removed from
  SciPy) for a third-party audio package.

A run has Lightning in its driver (whenever the run-config defines a ``LitModel``) and in every trial worker, so
this is some 70 MB of every worker, more of a driver, and a second of every worker's start.

:func:`install` (called when the Lightning plugin is loaded) adds an import finder. Once torch is imported (at
once if it is already), it puts a stand-in for ``torch._dynamo`` into ``sys.modules`` for the life of the process;
a process without torch (a Keras run) gets none. While ``lightning``, ``pytorch_lightning``, ``lightning_fabric``
or ``torchmetrics`` is first imported, a stand-in for ``scipy.signal`` is in place too, taken out as soon as that
import is done. The stand-ins keep every behaviour:

* the stand-in ``OptimizedModule`` answers ``isinstance``/``issubclass`` like the real class: never while
  ``torch._dynamo`` is not loaded (no compiled module can exist then), by asking the real class afterwards;
* a function wrapped by the stand-in ``disable`` runs as it is while ``torch._dynamo`` is not loaded, and through
  the real ``torch._dynamo.disable`` once it is; the stand-in ``graph_break`` does nothing until then (nothing is
  being compiled), and calls the real one afterwards;
* any other attribute of ``torch._dynamo``, and any import of one of its submodules (``torch.compile``, the ONNX
  exporter), imports the real package, which replaces the stand-in for good;
* the stand-in ``scipy.signal`` provides ``hamming``, and when the real ``scipy.signal`` is imported later it gets
  torchmetrics' alias, as it would have.

Nothing changes for a module already imported before, or when ``OPTIMA_LEAN_IMPORTS=0``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

from optima_core.training.lean_imports import WrappingLoader, lean_imports_enabled

#: Top-level packages whose first import is done with the stand-ins in place.
PACKAGES = frozenset({"lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics"})
DYNAMO = "torch._dynamo"
SIGNAL = "scipy.signal"

_signal_alias_pending = False


def _loaded(name: str) -> types.ModuleType | None:
    """The real module ``name`` if it has been imported (a stand-in does not count); never imports it."""
    module = sys.modules.get(name)
    return None if module is None or isinstance(module, _StandIn) else module


class _OptimizedModuleType(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        dynamo = _loaded(DYNAMO)
        return dynamo is not None and isinstance(instance, dynamo.OptimizedModule)

    def __subclasscheck__(cls, subclass: type) -> bool:
        dynamo = _loaded(DYNAMO)
        return dynamo is not None and issubclass(subclass, dynamo.OptimizedModule)


class OptimizedModule(metaclass=_OptimizedModuleType):
    """Stands for ``torch._dynamo.OptimizedModule`` in type checks (see the module's docstring)."""


def disable(fn: Callable[..., Any] | None = None, recursive: bool = True, **options: Any) -> Any:
    """``torch._dynamo.disable`` for a function wrapped before ``torch._dynamo`` is loaded (``options``: the real
    one's keywords, such as ``reason`` and ``wrapping``)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, **options)
    disabled: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        dynamo = _loaded(DYNAMO)
        if dynamo is None:
            return fn(*args, **kwargs)
        if not disabled:
            disabled.append(dynamo.disable(fn, recursive, **options))
        return disabled[0](*args, **kwargs)

    return call


def graph_break(msg: str = "") -> None:
    """``torch._dynamo.graph_break``: nothing is compiled while ``torch._dynamo`` is not loaded."""
    dynamo = _loaded(DYNAMO)
    if dynamo is not None:
        dynamo.graph_break(msg)


def hamming(*args: Any, **kwargs: Any) -> Any:
    """``scipy.signal.windows.hamming`` (torchmetrics' alias)."""
    from scipy.signal import windows

    return windows.hamming(*args, **kwargs)


class _StandIn(types.ModuleType):
    """A module that provides a few names itself and imports the real module for any other."""

    def __init__(self, name: str, provided: dict[str, Any], spec: importlib.machinery.ModuleSpec | None = None) -> None:
        super().__init__(name)
        self.__dict__.update(provided)
        if spec is not None:  # the real package's: its submodules are found, importlib.util.find_spec answers
            self.__spec__ = spec
            self.__file__ = spec.origin
            self.__path__ = list(spec.submodule_search_locations or [])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asking for __path__ and the like
            raise AttributeError(name)
        return getattr(_real_module(self.__name__), name)


def _real_module(name: str) -> types.ModuleType:
    """Import the real module ``name`` in place of its stand-in (any later lookup then gets the real one)."""
    if isinstance(sys.modules.get(name), _StandIn):
        del sys.modules[name]
    return importlib.import_module(name)


#: The names each stand-in provides itself.
_STAND_INS: dict[str, dict[str, Any]] = {
    DYNAMO: {"OptimizedModule": OptimizedModule, "disable": disable, "graph_break": graph_break},
    SIGNAL: {"hamming": hamming},
}


def _place_dynamo_stand_in() -> None:
    """Put the ``torch._dynamo`` stand-in (with the real package's spec) into ``sys.modules``; torch is imported,
    and a module of that name is not there yet."""
    torch = sys.modules["torch"]
    if DYNAMO in sys.modules or not hasattr(torch, "__path__"):
        return
    spec = importlib.machinery.PathFinder.find_spec(DYNAMO, list(torch.__path__))
    if spec is not None:
        sys.modules[DYNAMO] = _StandIn(DYNAMO, _STAND_INS[DYNAMO], spec)


class _WithStandIns(WrappingLoader):
    """Executes a package with the stand-ins in ``sys.modules``; takes them out afterwards."""

    def around(self, module: types.ModuleType) -> None:
        global _signal_alias_pending
        placed = {}
        for name, provided in _STAND_INS.items():
            if name not in sys.modules:
                placed[name] = sys.modules[name] = _StandIn(name, provided)
        # torchmetrics adds its alias to the stand-in, not to SciPy's module: that one gets it when it is imported
        _signal_alias_pending |= SIGNAL in placed
        try:
            self.loader.exec_module(module)
        finally:
            for name, stand_in in placed.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
            # torch imported by the package (a worker imports lightning first) found this temporary stand-in in
            # place and so did not leave its own: the one that stays for the life of the process goes in now
            if "torch" in sys.modules:
                _place_dynamo_stand_in()


class _ThenDynamoStandIn(WrappingLoader):
    """Executes torch, then puts the ``torch._dynamo`` stand-in into ``sys.modules``."""

    def around(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        _place_dynamo_stand_in()


class _Loaded(importlib.abc.Loader):
    """The loader of a module that importing its package has loaded already: gives that module, runs nothing."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.spec  # the import system set it to the spec of this loader


class _WithSignalAlias(WrappingLoader):
    """Executes the real ``scipy.signal`` and adds torchmetrics' ``hamming`` alias when SciPy no longer has it."""

    def around(self, module: types.ModuleType) -> None:
        global _signal_alias_pending
        self.loader.exec_module(module)
        if not hasattr(module, "hamming"):
            module.hamming = module.windows.hamming  # type: ignore[attr-defined]
        _signal_alias_pending = False


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the packages as usual and gives them the loaders above."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.startswith(DYNAMO + ".") and isinstance(sys.modules.get(DYNAMO), _StandIn):
            package = _real_module(DYNAMO)
            loaded = sys.modules.get(fullname)
            if loaded is not None and loaded.__spec__ is not None:
                return importlib.machinery.ModuleSpec(fullname, _Loaded(loaded), origin=loaded.__spec__.origin)
            return importlib.machinery.PathFinder.find_spec(fullname, package.__path__)
        wrapper: type[WrappingLoader]
        if fullname == "torch" and DYNAMO not in sys.modules:
            wrapper = _ThenDynamoStandIn
        elif fullname in PACKAGES:
            wrapper = _WithStandIns
        elif fullname == SIGNAL and _signal_alias_pending:
            wrapper = _WithSignalAlias
        else:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = wrapper(spec.loader)
        return spec


def install() -> None:
    """Add the finder (once), and the ``torch._dynamo`` stand-in if torch is imported already, unless
    ``OPTIMA_LEAN_IMPORTS=0``; modules imported before are not affected."""
    if not lean_imports_enabled():
        return
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    if "torch" in sys.modules:
        _place_dynamo_stand_in()
