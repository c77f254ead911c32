"""Named descriptors that plugins return from the ``optima_register_*`` hooks.

A descriptor names a thing (a backend, a cluster, an evaluator, a plot producer) and says how to load it.
Loading is lazy: ``target`` is either the object itself or an ``"module:attribute"`` string, so that
registering a Lightning backend does not import torch; only :meth:`Descriptor.load` imports it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
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
    """A training backend, selected by the run-config's ``model_type``.

    ``requires`` lists the import names the backend needs; ``optima check`` reports their versions.
    """

    requires: tuple[str, ...] = ()
    kind = "backend"


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
    """A figure producer, requested by stages by name."""

    kind = "plot"
