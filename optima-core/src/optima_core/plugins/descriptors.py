"""Named descriptors that plugins return from the ``optima_register_*`` hooks.

A descriptor names a thing (a backend, a cluster, an evaluator, a plot producer) and says how to load it.
Loading is lazy: ``target`` is either the object itself or an ``"module:attribute"`` string, so that
registering a Lightning backend does not import torch; only :meth:`Descriptor.load` imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any


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
        """Import (if needed) and return the registered object."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attribute = self.target.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attribute) if attribute else module


@dataclass(frozen=True)
class BackendDescriptor(Descriptor):
    """A training backend, selected by the run-config's ``model_type``, and the facts the core needs about it.

    * ``requires``: import names of the frameworks it needs; ``optima check`` reports their installed versions.
    * ``required_hooks``: hooks that some plugin or the run-config must implement for the backend to train.
    * ``model_hooks``: run-config hooks that replace the built-in model. When the run-config defines any of them,
      the built-in facts below no longer apply.
    * ``mutatable``: hyperparameters of the built-in model that Population Based Training may change on a trained
      model. A trailing ``_N`` stands for any class index: ``loss_weight_class_N`` matches ``loss_weight_class_3``.
    * ``scalings``: the scale types (``input_scaling``) that the built-in model's input normalisation understands.
    """

    requires: tuple[str, ...] = ()
    required_hooks: tuple[str, ...] = ()
    model_hooks: tuple[str, ...] = ()
    mutatable: tuple[str, ...] = ()
    scalings: tuple[str, ...] = ()
    kind = "backend"

    def builtin_model_in_use(self, run_config_hooks: Collection[str]) -> bool:
        """Whether the built-in model is trained, i.e. the run-config defines none of :attr:`model_hooks`."""
        return not set(self.model_hooks) & set(run_config_hooks)

    def is_builtin_mutatable(self, name: str) -> bool:
        """Whether ``name`` is one of :attr:`mutatable` (a trailing ``_N`` there matches any number)."""
        for pattern in self.mutatable:
            if name == pattern:
                return True
            if pattern.endswith("_N"):
                suffix = name.removeprefix(pattern[:-1])
                if suffix != name and suffix.isdigit():
                    return True
        return False

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
                distributions = metadata.packages_distributions().get(name, [])
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
