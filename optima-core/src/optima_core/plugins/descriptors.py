"""Named descriptors that plugins return from the ``optima_register_*`` hooks.

A descriptor names a thing (a backend, a cluster, an evaluator, a plot producer) and says how to load it.
Loading is lazy: ``target`` is either the object itself or an ``"module:attribute"`` string, so that
registering a Lightning backend does not import torch; only :meth:`Descriptor.load` imports it.
:meth:`Descriptor.find_problem` tells before a run whether loading will work, optionally without importing.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from optima_core.config import checks
from optima_core.errors import PluginError


def providing_distributions(import_name: str) -> list[str]:
    """The installed distributions that provide the top-level package ``import_name`` (``tensorflow``:
    ``tensorflow-cpu``), from the packages' metadata; read once per process (scanning it takes about 0.4 s)."""
    return list(_packages_distributions().get(import_name.partition(".")[0], []))


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


@dataclass(frozen=True)
class Descriptor:
    """A named, lazily loaded component.

    ``provider`` is filled in by the plugin manager with the name of the plugin that registered it.
    """

    name: str
    target: Any
    description: str = ""
    provider: str = field(default="", compare=False)

    kind = "component"

    def load(self) -> Any:
        """Import (if needed) and return the registered object; a target that does not load raises PluginError."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attribute = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # whatever the plugin's module raises, the target is unusable
            raise PluginError(self._cannot_load(f"{type(error).__name__}: {error}")) from error
        if attribute and not hasattr(module, attribute):
            raise PluginError(self._cannot_load(f"module '{module_name}' has no attribute '{attribute}'"))
        return getattr(module, attribute) if attribute else module

    def find_problem(self, *, import_target: bool = True) -> str | None:
        """Why :meth:`load` fails, or ``None`` when the target loads.

        With ``import_target=False`` a module not imported yet is only located (``importlib.util.find_spec``, which
        imports its parent packages) and the attribute is looked up in its source, so that checking a backend does
        not import its framework. Names a module may define dynamically (``import *``, a module ``__getattr__``)
        are accepted then.
        """
        if not isinstance(self.target, str):
            return None
        module_name, _, attribute = self.target.partition(":")
        if import_target or module_name in sys.modules:
            try:
                self.load()
            except PluginError as error:
                return str(error)
            return None
        try:
            spec = importlib.util.find_spec(module_name)
        except Exception as error:  # noqa: BLE001 - a parent package that fails to import
            return self._cannot_load(f"{type(error).__name__}: {error}")
        if spec is None:
            return self._cannot_load(f"ModuleNotFoundError: No module named '{module_name}'")
        if attribute and not _may_define(spec.origin, attribute):
            return self._cannot_load(f"module '{module_name}' defines no '{attribute}'")
        return None

    def _cannot_load(self, reason: str) -> str:
        provider = f" registered by {self.provider}" if self.provider else ""
        return f"the {self.kind} '{self.name}'{provider} cannot be loaded from '{self.target}': {reason}"


def _may_define(origin: str | None, attribute: str) -> bool:
    """Whether the module source at ``origin`` binds ``attribute`` at top level (``True`` when it cannot be told)."""
    if not origin or not origin.endswith(".py"):
        return True
    try:
        tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return True  # importing it reports the real error
    names = _bound_names(tree.body)
    return attribute in names or "*" in names or "__getattr__" in names


def _bound_names(body: list[ast.stmt]) -> set[str]:
    """Names bound by module-level statements, including those inside ``if``/``try``/``with``/loop blocks."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        else:
            blocks = [getattr(node, key, []) for key in ("body", "orelse", "finalbody")]
            blocks += [handler.body for handler in getattr(node, "handlers", [])]
            for block in blocks:
                names |= _bound_names(block)
    return names


def _matches(pattern: str, name: str) -> bool:
    """``name == pattern``, where a trailing ``_N`` of ``pattern`` matches any number (``units_N``: ``units_2``)."""
    if name == pattern:
        return True
    if pattern.endswith("_N"):
        suffix = name.removeprefix(pattern[:-1])
        return suffix != name and suffix.isdigit()
    return False


@dataclass(frozen=True)
class Hyperparameter:
    """A hyperparameter the built-in model of a backend reads, and the values it accepts.

    ``name`` may end in ``_N`` for a family (``units_N``: ``units_1``, ``units_2``, ...). ``choices``: the accepted
    names of an option, case-sensitive (other values than strings are left to the model). ``minimum`` and
    ``maximum``: bounds of a number (``exclusive`` ones with the ``*_exclusive`` flags); ``integer``: whole numbers.
    """

    name: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    integer: bool = False

    def matches(self, name: str) -> bool:
        return _matches(self.name, name)

    def expected(self, value: Any) -> str | None:
        """What the model expects instead of ``value``, or ``None`` when it accepts it (``None`` means the default)."""
        if value is None:
            return None
        if self.choices:
            if not isinstance(value, str) or value in self.choices:
                return None
            return "one of " + ", ".join(repr(c) for c in self.choices) + " (case-sensitive)"
        if self.integer:
            low = None if self.minimum is None else int(self.minimum) + (1 if self.min_exclusive else 0)
            return checks.integer(low, None if self.maximum is None else int(self.maximum))(value)
        if self.minimum is None and self.maximum is None:
            return None
        return checks.number(
            self.minimum, self.maximum, min_inclusive=not self.min_exclusive, max_inclusive=not self.max_exclusive
        )(value)


@dataclass(frozen=True)
class BackendDescriptor(Descriptor):
    """A training backend, selected by the run-config's ``model_type``, and the facts the core needs about it.

    * ``requires``: import names of the frameworks it needs; ``optima check`` reports their installed versions, and a
      trial worker imports them before its first trial (:mod:`optima_core.training.worker_setup`).
    * ``install_hint``: how to install the frameworks when one is missing (shown by ``optima check``).
    * ``required_hooks``: hooks that some plugin or the run-config must implement for the backend to train.
    * ``model_hooks``: run-config hooks that replace the built-in model. When the run-config defines any of them,
      the built-in facts below no longer apply.
    * ``mutatable``: hyperparameters of the built-in model that Population Based Training may change on a trained
      model. A trailing ``_N`` stands for any class index: ``loss_weight_class_N`` matches ``loss_weight_class_3``.
    * ``scalings``: the scale types (``input_scaling``) that the built-in model's input normalisation understands.
    * ``hyperparameters``: every hyperparameter the built-in model reads, with the values it accepts (besides
      ``batch_size``, which the core reads). Empty: not stated, so search-space keys and values are not checked.
      A backend stating them also states that its built-in model reports only ``train_``/``val_`` loss and the
      configured metrics, so validation refuses any other ``monitor_name`` while the built-in model is in use.
    * ``onnx_exporter``: the module (``"package.module"``) exporting its models to ONNX, with ``missing()`` (the
      exporter packages not installed) and ``export(model, path, example, opset, check)``; empty: no ONNX export.
    """

    requires: tuple[str, ...] = ()
    install_hint: str = ""
    required_hooks: tuple[str, ...] = ()
    model_hooks: tuple[str, ...] = ()
    mutatable: tuple[str, ...] = ()
    scalings: tuple[str, ...] = ()
    hyperparameters: tuple[Hyperparameter, ...] = ()
    onnx_exporter: str = ""
    kind = "backend"

    def builtin_model_in_use(self, run_config_hooks: Collection[str]) -> bool:
        """Whether the built-in model is trained, i.e. the run-config defines none of :attr:`model_hooks`."""
        return not set(self.model_hooks) & set(run_config_hooks)

    def is_builtin_mutatable(self, name: str) -> bool:
        """Whether ``name`` is one of :attr:`mutatable` (a trailing ``_N`` there matches any number)."""
        return any(_matches(pattern, name) for pattern in self.mutatable)

    def builtin_hyperparameter(self, name: str) -> Hyperparameter | None:
        """The fact about ``name`` among :attr:`hyperparameters`, or ``None`` if the built-in model does not read it."""
        return next((h for h in self.hyperparameters if h.matches(name)), None)

    def framework_versions(self) -> dict[str, str | None]:
        """The installed version of each of :attr:`requires` (``None``: not installed).

        Read from the installed packages' metadata, so no framework is imported. An import name provided by a
        distribution of another name (``tensorflow`` from ``tensorflow-cpu``) is looked up through the metadata too.
        """
        versions: dict[str, str | None] = {}
        for name in self.requires:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                distributions = providing_distributions(name)
                versions[name] = metadata.version(distributions[0]) if distributions else None
        return versions


@dataclass(frozen=True)
class ClusterDescriptor(Descriptor):
    """A place to run on, selected by ``optima run --cluster NAME``."""

    kind = "cluster"


@dataclass(frozen=True)
class EvaluatorDescriptor(Descriptor):
    """A variable-importance evaluator, selected by ``variable_optimization_mode``."""

    kind = "evaluator"


@dataclass(frozen=True)
class PlotDescriptor(Descriptor):
    """A figure producer, requested by stages by name.

    ``replaces=True`` declares that this figure takes the place of another plugin's figure of the same name (for
    example the built-in ``'input_data'`` of optima-plots). Without it a second figure of a taken name is an error
    naming both providers; two replacements of one name are an error too.
    """

    replaces: bool = False
    kind = "plot"
