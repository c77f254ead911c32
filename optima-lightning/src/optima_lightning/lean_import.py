"""Import and train with Lightning without three modules it loads and does not use.

Importing ``lightning`` (or ``pytorch_lightning``) costs a process about 200 MB and 2.8 s on top of torch. Three
modules make up most of it, and none is needed to import Lightning or to train eagerly:

* ``torch._dynamo`` (about 70 MB and 1 s, with sympy and the compiler front end). Lightning imports it for the
  name ``OptimizedModule``, the class ``torch.compile`` returns, used only in ``isinstance`` checks, and calls
  ``torch.compiler.disable`` on two methods while defining a class. A torch optimizer imports it on first use, for
  ``disable`` (its methods are kept out of compilation) and ``graph_break`` (called by every ``step``); both mean
  nothing while no code is being compiled.
* ``scipy.signal`` (about 60 MB and 0.8 s). torchmetrics imports it only to add the alias ``hamming`` (removed from
  SciPy) for a third-party audio package.
* matplotlib with ``pyplot`` (about 30 MB and 0.3 s). torchmetrics' plotting module imports it for ``Metric.plot``,
  and at its import uses only three classes in type aliases and ``pyplot.style.context`` as a decorator.

A run has Lightning in its driver (whenever the run-config defines a ``LitModel``) and in every trial worker, so
this is some 160 MB and 1.9 s of every worker's start (measured with Ray Tune imported too), and more of a driver.

:func:`install` (called when the Lightning plugin is loaded) adds an import finder. Once torch is imported (at
once if it is already), it puts a stand-in for ``torch._dynamo`` into ``sys.modules`` for the life of the process;
a process without torch (a Keras run) gets none. While ``lightning``, ``pytorch_lightning``, ``lightning_fabric``
or ``torchmetrics`` is first imported, stand-ins for ``scipy.signal`` and (unless matplotlib is imported already)
``matplotlib``, ``matplotlib.axes``, ``matplotlib.colors`` and ``matplotlib.pyplot`` are in place too, taken out as
soon as that import is done. The stand-ins keep every behaviour:

* the stand-in ``OptimizedModule`` answers ``isinstance``/``issubclass`` like the real class: never while
  ``torch._dynamo`` is not loaded (no compiled module can exist then), by asking the real class afterwards;
* a function wrapped by the stand-in ``disable`` runs as it is while ``torch._dynamo`` is not loaded, and through
  the real ``torch._dynamo.disable`` once it is; the stand-in ``graph_break`` does nothing until then (nothing is
  being compiled), and calls the real one afterwards;
* any other attribute of ``torch._dynamo``, and any import of one of its submodules (``torch.compile``, the ONNX
  exporter), imports the real package, which replaces the stand-in for good;
* the stand-in ``scipy.signal`` provides ``hamming``, and when the real ``scipy.signal`` is imported later it gets
  torchmetrics' alias, as it would have;
* the matplotlib stand-ins provide stand-in classes for ``Axes``, ``Colormap`` and ``Figure`` (type checks ask the
  real class once its module is loaded) and a ``style.context`` that enters pyplot's own when a decorated plotting
  function runs. torchmetrics keeps the ``matplotlib`` and ``pyplot`` stand-ins; once the import is done they answer
  every name from the real modules, so ``Metric.plot`` draws with the real pyplot, imported when first used.

Nothing changes for a module already imported before, or when ``OPTIMA_LEAN_IMPORTS=0``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from optima_core.training.lean_imports import WrappingLoader, lean_imports_enabled

#: Top-level packages whose first import is done with the stand-ins in place.
PACKAGES = frozenset({"lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics"})
DYNAMO = "torch._dynamo"
SIGNAL = "scipy.signal"
MATPLOTLIB = "matplotlib"
PYPLOT = "matplotlib.pyplot"
#: What torchmetrics' plotting module imports of matplotlib (and uses, at its import, only in type aliases).
_MATPLOTLIB_SUBMODULES = ("matplotlib.axes", "matplotlib.colors", PYPLOT)

_signal_alias_pending = False


def _loaded(name: str) -> types.ModuleType | None:
    """The real module ``name`` if it has been imported (a stand-in does not count); never imports it."""
    module = sys.modules.get(name)
    return None if module is None or isinstance(module, _StandIn) else module


class _StandInClassType(type):
    """The type of a class that stands for the class ``_real_name`` of the module ``_real_module_name``: type checks
    ask the real class once that module is loaded, and are false before (no instance of it can exist then)."""

    _real_module_name: str
    _real_name: str

    def _real_class(cls) -> type | None:
        module = _loaded(cls._real_module_name)
        return None if module is None else getattr(module, cls._real_name)

    def __instancecheck__(cls, instance: Any) -> bool:
        real = cls._real_class()
        return real is not None and isinstance(instance, real)

    def __subclasscheck__(cls, subclass: type) -> bool:
        real = cls._real_class()
        return real is not None and issubclass(subclass, real)


def _stand_in_class(module: str, name: str) -> type:
    """A class that stands for ``module.name`` in type checks and annotations."""
    namespace = {"_real_module_name": module, "_real_name": name, "__doc__": f"Stands for ``{module}.{name}``."}
    return _StandInClassType(name, (), namespace)


#: Stands for ``torch._dynamo.OptimizedModule`` in type checks (see the module's docstring).
OptimizedModule = _stand_in_class(DYNAMO, "OptimizedModule")


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
        self._provided = tuple(provided)
        if spec is not None:  # the real package's: its submodules are found, importlib.util.find_spec answers
            self.__spec__ = spec
            self.__file__ = spec.origin
            self.__path__ = list(spec.submodule_search_locations or [])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asking for __path__ and the like
            raise AttributeError(name)
        return getattr(_real_module(self.__name__), name)

    def retire(self) -> None:
        """Drop the names provided here: from now on every name is the real module's (for a stand-in that a module
        kept a reference to when it imported it)."""
        for name in self._provided:
            self.__dict__.pop(name, None)


@contextlib.contextmanager
def style_context(*args: Any, **kwargs: Any) -> Iterator[None]:
    """``matplotlib.pyplot.style.context``; pyplot is imported when the block (or a function decorated with it)
    runs, not when the context is created."""
    with _real_module(PYPLOT).style.context(*args, **kwargs):
        yield


def _real_module(name: str) -> types.ModuleType:
    """Import the real module ``name`` in place of its stand-in (any later lookup then gets the real one). The
    stand-ins of the same top-level package go first, so that the real modules never import one of them."""
    package = name.partition(".")[0]
    for key, module in list(sys.modules.items()):
        if isinstance(module, _StandIn) and key.partition(".")[0] == package:
            del sys.modules[key]
    return importlib.import_module(name)


#: The names each stand-in provides itself (the matplotlib package's stand-in provides its submodules' stand-ins).
_STAND_INS: dict[str, dict[str, Any]] = {
    DYNAMO: {"OptimizedModule": OptimizedModule, "disable": disable, "graph_break": graph_break},
    SIGNAL: {"hamming": hamming},
    "matplotlib.axes": {"Axes": _stand_in_class("matplotlib.axes", "Axes")},
    "matplotlib.colors": {"Colormap": _stand_in_class("matplotlib.colors", "Colormap")},
    PYPLOT: {
        "Figure": _stand_in_class("matplotlib.figure", "Figure"),
        "style": types.SimpleNamespace(context=style_context),
    },
}


def _spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of the module ``name`` (a package's submodule searched in the package's folders), importing nothing."""
    package, _, _ = name.rpartition(".")
    if not package:
        return importlib.machinery.PathFinder.find_spec(name)
    parent = _spec(package)
    if parent is None or not parent.submodule_search_locations:
        return None
    return importlib.machinery.PathFinder.find_spec(name, list(parent.submodule_search_locations))


def _matplotlib_stand_ins() -> dict[str, _StandIn]:
    """Stand-ins for matplotlib and the three submodules torchmetrics' plotting module imports, each with the real
    module's spec; none if matplotlib is not installed or already imported."""
    if MATPLOTLIB in sys.modules:
        return {}
    specs = {name: _spec(name) for name in (MATPLOTLIB, *_MATPLOTLIB_SUBMODULES)}
    if any(spec is None for spec in specs.values()):
        return {}
    stand_ins = {name: _StandIn(name, _STAND_INS[name], specs[name]) for name in _MATPLOTLIB_SUBMODULES}
    package = {name.rpartition(".")[2]: stand_in for name, stand_in in stand_ins.items()}
    return {MATPLOTLIB: _StandIn(MATPLOTLIB, package, specs[MATPLOTLIB]), **stand_ins}


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
        placed: dict[str, _StandIn] = {}
        for name in (DYNAMO, SIGNAL):  # the matplotlib ones only together, see _matplotlib_stand_ins
            if name not in sys.modules:
                placed[name] = sys.modules[name] = _StandIn(name, _STAND_INS[name])
        for name, stand_in in _matplotlib_stand_ins().items():
            placed[name] = sys.modules[name] = stand_in
        # torchmetrics adds its alias to the stand-in, not to SciPy's module: that one gets it when it is imported
        _signal_alias_pending |= SIGNAL in placed
        try:
            self.loader.exec_module(module)
        finally:
            for name, stand_in in placed.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
                if name.partition(".")[0] == MATPLOTLIB:  # torchmetrics keeps two of them (``matplotlib``, ``plt``)
                    stand_in.retire()
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
        parent = fullname.rpartition(".")[0]
        if parent and isinstance(sys.modules.get(parent), _StandIn):  # a submodule of a stand-in's real package
            package = _real_module(parent)
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
