"""Validation of the run-config's ``search_space`` against the rules of the reference.

Every entry is either a fixed value (anything but a dict) or a dict describing a range or a choice. All problems
of all entries are returned together; nothing is sampled here (translation to Optuna and Tune is done by the
optimization stages).
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Any

from optima_core.config.checks import is_callable_pair
from optima_core.config.problems import Problem

ENTRY_KEYS = ("type", "bounds", "value_type", "sampling", "mean", "std", "step", "values", "supports_mutation", "only")
RANGE_ONLY_KEYS = ("bounds", "value_type", "sampling", "mean", "std", "step")


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def _integral(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _dependencies(entry: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("bounds", "values", "only"):
        value = entry.get(key)
        if value is not None and is_callable_pair(value):
            found.extend(value[0])
    return found


def validate_search_space(space: Any) -> list[Problem]:
    """Return every problem found in ``space`` (an empty list when it is valid)."""
    if not isinstance(space, dict):
        return []  # the shape check of the parameter table reports this
    problems: list[Problem] = []
    for name, entry in space.items():
        where = f"search_space[{name!r}]"
        if not isinstance(name, str):
            problems.append(Problem(where, name, "a string: hyperparameter names are strings"))
            continue
        if isinstance(entry, dict):
            problems.extend(_validate_entry(where, entry, space))
    problems.extend(_validate_batch_size(space))
    problems.extend(_validate_dependency_cycles(space))
    return problems


def _validate_batch_size(space: dict[str, Any]) -> list[Problem]:
    where = "search_space['batch_size']"
    if "batch_size" not in space:
        return [
            Problem("search_space", "(no 'batch_size')", "a 'batch_size' entry: a fixed integer or an integer range")
        ]
    entry = space["batch_size"]
    if isinstance(entry, dict):
        kind = entry.get("type", "range" if "bounds" in entry else "choice" if "values" in entry else None)
        if kind == "range" and entry.get("value_type", "float") != "int":
            return [Problem(where, entry, "an integer range: add 'value_type': 'int'")]
        values = entry.get("values")
        if kind == "choice" and isinstance(values, (list, tuple)) and not all(_integral(v) and v > 0 for v in values):
            return [Problem(where, entry, "choice values that are positive integers")]
        return []
    if not (_integral(entry) and entry > 0):
        return [Problem(where, entry, "a positive integer or an integer range search space")]
    return []


def _validate_entry(where: str, entry: dict[str, Any], space: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in entry:
        if key not in ENTRY_KEYS:
            close = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(f"{where}[{key!r}]", entry[key], f"one of the keys {', '.join(ENTRY_KEYS)}", hint))

    kind = entry.get("type")
    if kind is None:
        kind = "range" if "bounds" in entry else "choice" if "values" in entry else None
        if kind is None:
            problems.append(Problem(where, entry, "a 'type' of 'range' (with 'bounds') or 'choice' (with 'values')"))
            return problems
    if kind not in ("range", "choice"):
        problems.append(Problem(f"{where}['type']", kind, "'range' or 'choice'"))
        return problems

    if "supports_mutation" in entry and not isinstance(entry["supports_mutation"], bool):
        problems.append(Problem(f"{where}['supports_mutation']", entry["supports_mutation"], "True or False"))
    if "only" in entry:
        problems.extend(_validate_condition(f"{where}['only']", entry["only"], space, where))

    if kind == "choice":
        for key in RANGE_ONLY_KEYS:
            if key in entry:
                problems.append(Problem(f"{where}[{key!r}]", entry[key], "no range settings in a 'choice' entry"))
        values = entry.get("values")
        if values is None:
            problems.append(Problem(f"{where}['values']", None, "a non-empty list of allowed values"))
        elif is_callable_pair(values):
            problems.extend(_validate_condition(f"{where}['values']", values, space, where))
        elif not isinstance(values, (list, tuple)) or len(values) == 0:
            problems.append(
                Problem(f"{where}['values']", values, "a non-empty list or tuple, or (('hp', ...), callable)")
            )
        return problems

    if "values" in entry:
        problems.append(Problem(f"{where}['values']", entry["values"], "no 'values' in a 'range' entry (use 'bounds')"))
    problems.extend(_validate_range(where, entry, space))
    return problems


def _validate_condition(where: str, value: Any, space: dict[str, Any], owner: str) -> list[Problem]:
    if not is_callable_pair(value):
        return [Problem(where, value, "a tuple (('hp_a', 'hp_b', ...), callable)")]
    problems = []
    own_name = owner.split("[", 1)[1].rstrip("]").strip("'\"")
    for dependency in value[0]:
        if dependency not in space:
            close = difflib.get_close_matches(dependency, [k for k in space if isinstance(k, str)], n=1)
            hint = f"did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(where, dependency, "names of other hyperparameters in the search space", hint))
        elif dependency == own_name:
            problems.append(Problem(where, dependency, "names of *other* hyperparameters (it depends on itself)"))
    return problems


def _validate_range(where: str, entry: dict[str, Any], space: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    value_type = entry.get("value_type", "float")
    sampling = entry.get("sampling", "uniform")
    step = entry.get("step")
    if value_type not in ("int", "float"):
        problems.append(Problem(f"{where}['value_type']", value_type, "'int' or 'float'"))
        value_type = "float"
    if sampling not in ("uniform", "log", "normal"):
        problems.append(Problem(f"{where}['sampling']", sampling, "'uniform', 'log' or 'normal'"))
        sampling = "uniform"

    bounds = entry.get("bounds")
    if bounds is None:
        if sampling != "normal":
            problems.append(Problem(f"{where}['bounds']", None, "(lower, upper) for a 'range' entry"))
    elif is_callable_pair(bounds):
        problems.extend(_validate_condition(f"{where}['bounds']", bounds, space, where))
    elif not (isinstance(bounds, (list, tuple)) and len(bounds) == 2 and all(_real(b) for b in bounds)):
        problems.append(
            Problem(f"{where}['bounds']", bounds, "(lower, upper) with two numbers, or (('hp', ...), callable)")
        )
    else:
        lower, upper = bounds
        if not lower < upper:
            problems.append(Problem(f"{where}['bounds']", bounds, "lower bound < upper bound"))
        if value_type == "int" and not (_integral(lower) and _integral(upper)):
            problems.append(Problem(f"{where}['bounds']", bounds, "integer bounds for 'value_type': 'int'"))
        if sampling == "log" and lower <= 0:
            problems.append(Problem(f"{where}['bounds']", bounds, "positive bounds for 'sampling': 'log'"))

    if step is not None:
        if sampling == "log":
            problems.append(Problem(f"{where}['step']", step, "no 'step' with 'sampling': 'log' (not supported)"))
        elif value_type == "int" and not (_integral(step) and step > 0):
            problems.append(Problem(f"{where}['step']", step, "a positive integer step for an integer range"))
        elif not (_real(step) and step > 0):
            problems.append(Problem(f"{where}['step']", step, "a positive number"))

    if sampling == "normal":
        if value_type == "int":
            problems.append(
                Problem(
                    f"{where}['sampling']",
                    "normal",
                    "'uniform' or 'log' for integers (normal sampling of integers is not supported)",
                )
            )
        for key in ("mean", "std"):
            if key not in entry:
                problems.append(Problem(f"{where}[{key!r}]", None, f"a number: 'sampling': 'normal' needs '{key}'"))
            elif not _real(entry[key]):
                problems.append(Problem(f"{where}[{key!r}]", entry[key], "a number"))
        if _real(entry.get("std")) and entry["std"] <= 0:
            problems.append(Problem(f"{where}['std']", entry["std"], "a positive number"))
    else:
        for key in ("mean", "std"):
            if key in entry:
                problems.append(
                    Problem(f"{where}[{key!r}]", entry[key], "no 'mean'/'std' unless 'sampling' is 'normal'")
                )
    return problems


def _validate_dependency_cycles(space: dict[str, Any]) -> list[Problem]:
    graph = {name: [d for d in _dependencies(e) if d in space] for name, e in space.items() if isinstance(e, dict)}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                cycle.extend([*path[path.index(dep) :], dep] if dep in path else [node, dep])
                return True
            if state.get(dep) is None and visit(dep, [*path, dep]):
                return True
        state[node] = 2
        return False

    for name in graph:
        if state.get(name) is None and visit(name, [name]):
            return [Problem("search_space", " -> ".join(cycle), "dependencies without cycles")]
    return []
