"""What a run records for its report when it starts: the command, versions, resources and a summary of the inputs.

:func:`start_facts` goes into ``optima_run.json`` when the output folder is claimed (after the inputs are loaded):
``argv``, ``command``, ``cwd``, ``versions``, ``resources`` (the ResourcePlan) and ``"inputs"`` (variables,
scalings, events and summed weights per class and split). It is cheap (no extra pass over the files); the report
reads it back from disk, like everything else it shows.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

#: The distributions whose installed versions a run records (those not installed are left out).
#: The distributions whose versions a run records besides those its backends require (their descriptors say which).
VERSIONED = (
    "optima-core",
    "optima-lightning",
    "optima-keras",
    "optima-plots",
    "optima-slurm",
    "ray",
    "optuna",
    "numpy",
    "pandas",
    "matplotlib",
)

logger = logging.getLogger(__name__)


def installed_versions(manager: Any = None) -> dict[str, str]:
    """``{distribution: version}`` of :data:`VERSIONED` and of the frameworks ``manager``'s backends require
    (:meth:`~optima_core.plugins.descriptors.BackendDescriptor.framework_versions`), where installed; plus
    ``python``."""
    from importlib import metadata

    found = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    for backend in manager.backends().values() if manager is not None else ():
        found.update({name: version for name, version in backend.framework_versions().items() if version})
    return found


def command_line(argv: list[str]) -> str:
    """The shell command of ``argv``, with the ``optima`` script named as the user types it."""
    if argv and Path(argv[0]).name == "optima":
        return shlex.join(["optima", *argv[1:]])
    return shlex.join(argv)


def run_facts(plan: Any, manager: Any = None) -> dict[str, Any]:
    """``argv``, ``command``, working directory, ``versions`` and ``resources`` (the ResourcePlan) of this run."""
    argv = list(sys.argv)
    resources = dataclasses.asdict(plan) if dataclasses.is_dataclass(plan) and not isinstance(plan, type) else {}
    return {
        "argv": argv,
        "command": command_line(argv),
        "cwd": os.getcwd(),
        "versions": installed_versions(manager),
        "resources": resources,
    }


def _class_name(index: int, labels: Any) -> str:
    names = [str(label) for label in labels or []]
    return names[index] if index < len(names) else f"class {index}"


def class_totals(split: Any, labels: Any) -> list[dict[str, Any]]:
    """Events and summed weights per class of one split (an ``EventData``).

    Classes are numbered as the inputs' checks do: binary class 0 is ``Target 1`` (``'Signal'`` by default) and
    class 1 is ``Target 0``; several classes are the one-hot columns in order.
    """
    import numpy as np

    target = np.asarray(split["Target"])
    weights = np.asarray(split["Weight"], dtype=np.float64).reshape(-1) if "Weight" in split else None
    if target.ndim == 2 and target.shape[1] > 1:
        classes, n_classes, encodings = target.argmax(axis=1), target.shape[1], None
    else:
        classes, n_classes = 1 - (target.reshape(-1) > 0.5).astype(int), 2
        encodings = ["Target 1", "Target 0"]
    totals = []
    for k in range(n_classes):
        mask = classes == k
        totals.append(
            {
                "class": _class_name(k, labels),
                "encoding": encodings[k] if encodings else f"one-hot column {k}",
                "events": int(mask.sum()),
                "weight": float(weights[mask].sum()) if weights is not None else None,
            }
        )
    return totals


def inputs_summary(context: Any) -> dict[str, Any]:
    """Variables, scalings and per-split class totals of the inputs ``context`` has loaded."""
    from optima_core.builtin.input_handler import scaling_key

    handler = context.input_handler
    variables = list(handler.get_vars() or [])
    scalings: dict[str, Any] = {}
    get_scaling = getattr(handler, "get_nonlinear_scaling", None)
    if callable(get_scaling):
        scalings = {scaling_key(v): [s[0], list(s[1])] for v, s in get_scaling().items()}
    labels = context.run_config.get("evaluation_class_labels")
    summary: dict[str, Any] = {"variables": [scaling_key(v) for v in variables], "scalings": scalings}
    # only what the run loaded already: loading here would load twice and write the input plots too early
    loaded = context.loaded_inputs()
    if loaded.get(False):
        splits = loaded[False][0]
    elif loaded.get(True):
        splits = loaded[True][0]
        summary["classes_of"] = "fold 0 of the cross-validation"
    else:
        return summary
    summary["classes"] = {name: class_totals(data, labels) for name, data in splits.items()}
    return summary


def start_facts(context: Any) -> dict[str, Any]:
    """:func:`run_facts` and ``"inputs"`` (:func:`inputs_summary`) of a run whose inputs are loaded, for its
    manifest; what cannot be found out is left out with a warning (the report says it was not recorded)."""
    facts: dict[str, Any] = {}
    for key, collect in (
        ("run", lambda: run_facts(context.plan, getattr(context, "manager", None))),
        ("inputs", lambda: inputs_summary(context)),
    ):
        try:
            value = collect()
        except Exception as error:  # noqa: BLE001 - facts for the report never end a run
            logger.warning("could not record the %s facts for the report: %s: %s", key, type(error).__name__, error)
            continue
        facts.update(value if key == "run" else {key: value})
    return facts
