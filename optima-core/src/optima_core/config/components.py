"""Resolve, before Ray starts, the plugin components a run will load, so a wrong ``"module:attr"`` target is found
by ``optima check`` and at the start of ``optima run`` rather than hours into the run.

* The backend (``model_type``) is only located: its module is found without being imported (importing it may
  import torch or TensorFlow, seconds per ``optima check``) and the attribute is looked up in the module's source.
  Trial workers import it for real.
* The evaluator of ``variable_optimization_mode`` (when the variable selection runs) and every registered figure are
  imported: their modules are light, and any figure may be requested by a stage.
* The cluster is resolved by ``optima run`` itself, which builds it right after validation and before Ray starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optima_core.config.problems import Problem

if TYPE_CHECKING:
    from optima_core.config.validation import ValidationReport
    from optima_core.plugins.descriptors import BackendDescriptor
    from optima_core.plugins.manager import OptimaPluginManager


def check_components(
    values: dict[str, Any],
    backend: BackendDescriptor | None,
    manager: OptimaPluginManager,
    report: ValidationReport,
) -> None:
    """Report every component of the run whose target cannot be loaded."""
    add = report.problems.append
    if backend is not None:
        problem = backend.find_problem(import_target=False)
        if problem is not None:
            add(Problem("model_type", backend.name, "a backend that can be loaded", problem))
    mode = values["variable_optimization_mode"]
    evaluator = manager.evaluators().get(mode) if isinstance(mode, str) else None
    if evaluator is not None and values["perform_variable_opt"] is True:
        problem = evaluator.find_problem()
        if problem is not None:
            add(Problem("variable_optimization_mode", mode, "an evaluator that can be loaded", problem))
    for name, plot in sorted(manager.plots().items()):
        problem = plot.find_problem()
        if problem is not None:
            add(Problem("plugins", f"figure '{name}'", "figures that can be loaded", problem))
