"""Checks against the facts a backend states about its built-in model, made before Ray starts.

The backend's descriptor lists every hyperparameter its built-in model reads and the values it accepts
(:attr:`~optima_core.plugins.descriptors.BackendDescriptor.hyperparameters`), and the built-in model reports only
``train_``/``val_`` loss and the configured metrics. So when the built-in model is trained:

* a search-space key it does not read (``unit`` for ``units``) is refused: it would be tuned as a dead dimension;
* a value it does not accept (``activation: 'ReLU'``, a negative ``learning_rate``) is refused;
* a ``monitor_name`` that is never reported is refused.

A run-config hook that receives ``model_config`` may read any key, so then an unread key is only a warning. When the
run-config replaces the model, its keys and metric names cannot be known and are not checked. A hyperparameter set
at the top level of the run-config instead of in ``search_space`` is ignored by the built-in model and refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from optima_core.config.checks import is_callable_pair
from optima_core.config.problems import Problem

if TYPE_CHECKING:
    from optima_core.config.validation import ValidationReport
    from optima_core.plugins.descriptors import BackendDescriptor

#: Read by the core's data handling for every model.
CORE_HYPERPARAMETERS = ("batch_size",)
#: Run-config classes that are handed ``model_config`` when instantiated (their hookspecs take no arguments).
MODEL_CONFIG_CLASSES = frozenset({"LightningDataset", "DataLoader", "DataModule", "LitModel"})


def model_config_readers(run_config_hooks: Collection[str]) -> list[str]:
    """The run-config's hooks that are given ``model_config``, so may read any search-space key."""
    from optima_core.plugins.runconfig import hook_argnames

    return sorted(h for h in run_config_hooks if h in MODEL_CONFIG_CLASSES or "model_config" in hook_argnames(h))


def _close(name: str, candidates: list[str]) -> str:
    lowered = {c.lower(): c for c in candidates}
    close = [lowered[name.lower()]] if name.lower() in lowered else difflib.get_close_matches(name, candidates, n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def _known_names(backend: BackendDescriptor) -> list[str]:
    return [*CORE_HYPERPARAMETERS, *(h.name for h in backend.hyperparameters)]


def _values(name: str, entry: Any) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` of every concrete value of a search-space entry (conditional ones are not known yet)."""
    where = f"search_space[{name!r}]"
    if not isinstance(entry, dict):
        yield where, entry
        return
    for key in ("values", "bounds"):
        candidates = entry.get(key)
        if isinstance(candidates, (list, tuple)) and not is_callable_pair(candidates):
            for value in candidates:
                yield f"{where}[{key!r}]", value


def check_search_space(
    space: Any, backend: BackendDescriptor, run_config_hooks: Collection[str], report: ValidationReport
) -> None:
    """Keys and values of a search space (without problems of its own) against the built-in model's facts."""
    if not isinstance(space, dict) or not backend.hyperparameters or not backend.builtin_model_in_use(run_config_hooks):
        return
    readers = model_config_readers(run_config_hooks)
    known = _known_names(backend)
    for name, entry in space.items():
        if name in CORE_HYPERPARAMETERS:
            continue
        fact = backend.builtin_hyperparameter(name)
        if fact is None:
            hint = _close(name, known)
            if readers:
                report.warnings.append(
                    f"search_space[{name!r}]: the built-in '{backend.name}' model does not read '{name}'"
                    f"{' (' + hint + ')' if hint else ''}; only the run-config's {', '.join(readers)} can use it"
                )
            else:
                report.problems.append(
                    Problem(
                        f"search_space[{name!r}]",
                        name,
                        f"a hyperparameter the built-in '{backend.name}' model reads: " + ", ".join(known),
                        hint or "no model reads it, so it would be tuned for nothing",
                    )
                )
            continue
        for where, value in _values(name, entry):
            expected = fact.expected(value)
            if expected is not None:
                close = _close(value, list(fact.choices)) if fact.choices and isinstance(value, str) else ""
                report.problems.append(
                    Problem(where, value, f"{expected} for '{name}' of the built-in '{backend.name}' model", close)
                )


def check_top_level_names(
    extra: dict[str, Any],
    space: Any,
    backend: BackendDescriptor | None,
    run_config_hooks: Collection[str],
    report: ValidationReport,
) -> None:
    """A hyperparameter assigned at the top level of the run-config is ignored: models read the search space.

    Refused for the built-in model; with a run-config model (which may read a module constant of its own) or no
    known backend, only a name that is also in the search space is warned about.
    """
    searched = set(space) if isinstance(space, dict) else set()
    builtin = backend is not None and backend.builtin_model_in_use(run_config_hooks)
    for name, value in extra.items():
        hint = f"did you mean search_space[{name!r}]? (name a helper constant of your own '_{name}')"
        read = name in CORE_HYPERPARAMETERS or (
            backend is not None and backend.builtin_hyperparameter(name) is not None
        )
        if builtin and (read or name in searched):
            report.problems.append(
                Problem(name, value, "an entry of search_space: models do not read top-level settings", hint)
            )
        elif name in searched:
            report.warnings.append(f"{name} is set at the top level of the run-config and in search_space; {hint}")


def check_monitor_name(
    values: dict[str, Any], reported: set[str], backend: BackendDescriptor, run_config_hooks: Collection[str]
) -> Problem | None:
    """A ``monitor_name`` the built-in model never reports (a run-config model may log names of its own)."""
    name = values["monitor_name"]
    if not isinstance(name, str) or name in reported or not backend.builtin_model_in_use(run_config_hooks):
        return None
    return Problem(
        "monitor_name",
        name,
        f"a metric the built-in '{backend.name}' model reports: " + ", ".join(repr(n) for n in sorted(reported)),
        "add the metric to native_metrics, weighted_native_metrics, custom_metrics or composite_metrics",
    )
