"""Bad-data checks: each raises one :class:`InputDataError` naming the file, the variable, what was found and
what is expected, before any training starts.

The built-in loader runs the cheap checks right after reading (on the selected events, before weights are
normalised or events duplicated); ``get_experiment_inputs`` runs them on data from any other ``get_inputs``, plus
the checks that need the InputHandler (scaling domains) or the number of folds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optima_core.config.problems import Problem
from optima_core.inputs.dataset import EventData, Variable
from optima_core.inputs.errors import InputDataError, describe_source

#: Scale types whose non-linearity needs positive (log10) or non-negative (sqrt) arguments.
DOMAINS = {"log10": ("> 0", lambda v: v > 0), "sqrt": (">= 0", lambda v: v >= 0)}


def class_label(index: int, n_classes: int, labels: Sequence[str] | None = None, binary: bool = False) -> str:
    """``'Signal' (Target 1)``: the label of a class with how it is encoded."""
    name = labels[index] if labels is not None and index < len(labels) else f"class {index}"
    encoding = f"Target {1 - index}" if binary else f"one-hot column {index}"
    return f"'{name}' ({encoding})"


def _raise(source: Any, problems: list[Problem]) -> None:
    if problems:
        raise InputDataError(describe_source(source), problems)


def nonfinite_problem(subject: str, values: np.ndarray, total: int | None = None) -> Problem | None:
    """A problem naming the NaN / +inf / -inf counts of ``values`` (of ``total`` events), or ``None`` if finite."""
    finite = np.isfinite(values)
    if finite.all():
        return None
    bad = values[~finite]
    counts = [
        (int(np.isnan(bad).sum()), "NaN"),
        (int((bad == np.inf).sum()), "+inf"),
        (int((bad == -np.inf).sum()), "-inf"),
    ]
    text = ", ".join(f"{n} {what}" for n, what in counts if n)
    among = len(values) if total is None else total
    return Problem(subject, f"({text} among {among} events)", "finite values", "fix or remove these events")


def check_finite_inputs(data: EventData, source: Any) -> None:
    """Every input variable is finite (names each bad variable with its NaN/inf counts)."""
    problems = []
    for variable in data.variables:
        problem = nonfinite_problem(f"variable {variable!r}", data.variable_column(variable))
        if problem:
            problems.append(problem)
    _raise(source, problems)


def check_targets(target: np.ndarray, names: Sequence[str], source: Any) -> None:
    """A binary column of 0/1, or one-hot columns with exactly one 1 per row."""
    described = f"target column {names[0]!r}" if len(names) == 1 else f"target columns {list(names)}"
    problem = nonfinite_problem(described, target.reshape(-1))
    if problem:
        _raise(source, [problem])
    not_binary = (target != 0) & (target != 1)
    if not_binary.any():
        values = np.unique(target[not_binary])[:5].tolist()
        expected = "0 or 1 (binary label)" if len(names) == 1 else "0 or 1 (one-hot encoding)"
        hint = "set target_columns to the one-hot columns" if len(names) == 1 else ""
        _raise(source, [Problem(described, f"(values {values} in {int(not_binary.sum())} entries)", expected, hint)])
    if target.shape[1] > 1:
        not_one_hot = target.sum(axis=1) != 1
        if not_one_hot.any():
            _raise(
                source,
                [Problem(described, f"({int(not_one_hot.sum())} rows)", "exactly one 1 per row (one-hot encoding)")],
            )


def check_classes(
    classes: np.ndarray, n_classes: int, labels: Sequence[str] | None, source: Any, binary: bool = True
) -> None:
    """Every class has events (in particular: more than one class is present)."""
    counts = np.bincount(classes, minlength=n_classes)
    empty = [i for i in range(n_classes) if counts[i] == 0]
    if not empty:
        return
    present = [class_label(i, n_classes, labels, binary) for i in range(n_classes) if counts[i]]
    problems = [
        Problem(
            f"class {class_label(i, n_classes, labels, binary)}",
            f"(0 of {len(classes)} events)",
            "events of every class: a classifier needs at least two classes",
            f"only {', '.join(present)} present" if present else "",
        )
        for i in empty
    ]
    _raise(source, problems)


def check_weights(
    weights: np.ndarray,
    classes: np.ndarray,
    n_classes: int,
    labels: Sequence[str] | None,
    source: Any,
    column: str = "Weight",
    binary: bool = True,
) -> None:
    """Weights are finite, and every class has a positive signed sum (so it can be normalised)."""
    problem = nonfinite_problem(f"weight column {column!r}", weights)
    if problem:
        _raise(source, [problem])
    problems = []
    for index in range(n_classes):
        in_class = weights[classes == index]
        label = class_label(index, n_classes, labels, binary)
        if in_class.size and not in_class.any():
            problems.append(
                Problem(f"weights of class {label}", f"(all {in_class.size} are zero)", "some non-zero weights")
            )
        elif in_class.size and in_class.sum(dtype=np.float64) <= 0:
            total = float(in_class.sum(dtype=np.float64))
            problems.append(
                Problem(
                    f"weights of class {label}",
                    f"(sum {total:.6g} over {in_class.size} events, {int((in_class < 0).sum())} negative)",
                    "a positive sum of weights (the class is normalised by it)",
                )
            )
    _raise(source, problems)


def check_unique_event_numbers(event_numbers: np.ndarray, source: Any, column: str = "EventNumber") -> None:
    """No event number occurs twice (needed by event-number splitting)."""
    ordered = np.sort(event_numbers, kind="stable")
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if repeated.size:
        examples = np.unique(repeated)[:5].tolist()
        _raise(
            source,
            [
                Problem(
                    f"event-number column {column!r}",
                    f"({repeated.size} duplicates, e.g. {examples})",
                    "unique event numbers when use_eventNums_splitting is True",
                    "an event would be in several sets; make them unique or use random splitting",
                )
            ],
        )


def check_scaling_domain(data: EventData, scalings: Mapping[Variable, Any], source: Any) -> None:
    """``log10`` needs ``scale * x + offset > 0`` and ``sqrt`` needs ``>= 0`` for every event."""
    problems = []
    for variable, (scale_type, (scale, offset)) in scalings.items():
        if scale_type not in DOMAINS or variable not in data.variables:
            continue
        needed, valid = DOMAINS[scale_type]
        transformed = data.variable_column(variable).astype(np.float64) * scale + offset
        bad = ~valid(transformed)
        if bad.any():
            low = float(transformed.min())
            fix = offset + (1.0 - low if scale_type == "log10" else -low)
            problems.append(
                Problem(
                    f"variable {variable!r} with scaling ({scale_type!r}, ({scale}, {offset}))",
                    f"({int(bad.sum())} of {len(bad)} events have scale * x + offset {'<= 0' if needed == '> 0' else '< 0'}; minimum {low:.6g})",
                    f"scale * x + offset {needed} for {scale_type}",
                    f"shift it, e.g. ({scale_type!r}, ({scale}, {fix:.6g})), or use 'linear'",
                )
            )
    _raise(source, problems)


def check_enough_events(n_events: int, n_folds: int, source: Any) -> None:
    """At least one event per fold."""
    if n_events < n_folds:
        _raise(
            source,
            [
                Problem(
                    "number of events",
                    n_events,
                    f"at least as many events as folds ({n_folds})",
                    "load more events (max_num_events) or use fewer folds",
                )
            ],
        )


def check_event_data(
    data: EventData,
    source: Any,
    labels: Sequence[str] | None = None,
    event_number_splitting: bool = False,
) -> None:
    """All data-level checks, for datasets that did not come from the built-in loader."""
    check_finite_inputs(data, source)
    width = data["Target"].shape[1]
    check_targets(data["Target"], ["Target"] if width == 1 else [f"Target[{i}]" for i in range(width)], source)
    classes = data.class_index()
    check_classes(classes, data.n_classes, labels, source, binary=width == 1)
    if "Weight" in data:
        check_weights(data["Weight"], classes, data.n_classes, labels, source, "Weight", binary=width == 1)
    if event_number_splitting:
        if "EventNumber" not in data:
            _raise(
                source,
                [Problem("column 'EventNumber'", "(missing)", "event numbers when use_eventNums_splitting is True")],
            )
        check_unique_event_numbers(data["EventNumber"], source)
