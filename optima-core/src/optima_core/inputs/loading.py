"""The built-in ``get_inputs``: read the input file into an :class:`EventData`.

1. Open the file by suffix (:mod:`optima_core.inputs.readers`) and find the columns: the targets
   (``target_columns``; default ``target``/``targets``, or a pickle's ``targets`` group), the weights
   (``weight_column``; default ``Weight``/``weight``), the event numbers (``event_number_column``; without one the
   row number is used, which is an error only with ``use_eventNums_splitting``) and the input variables
   (``input_vars_list``; ``None``: every other numeric column).
2. Check the targets and the classes, then select events: shuffle all rows with ``random_seed``, then keep
   ``max_num_events`` -- ``np.inf``: all; a number: split equally over the classes (a class with fewer events
   gives all it has); a list: one number per class, in class order.
3. Compute ``Weight`` and ``ScaledWeight`` (:mod:`optima_core.inputs.weights`), deciding which heavy events are
   duplicated.
4. Read each variable for the selected events (and the copies) into a float32 ``[N, V]`` matrix, checking for
   NaN/inf (also values too large for float32).

Memory: one column of the file is read at a time, so the peak is about the final dataset plus one column
(Parquet, ROOT); a pickle is held in memory whole by pandas.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optima_core.config.problems import Problem
from optima_core.inputs import checks
from optima_core.inputs.dataset import EventData, class_index
from optima_core.inputs.errors import InputDataError, data_error, describe_source
from optima_core.inputs.memory import release_unused_memory
from optima_core.inputs.readers import Columns, close_matches, open_columns
from optima_core.inputs.settings import setting
from optima_core.inputs.weights import compute_weights

log = logging.getLogger("optima.inputs")


@dataclass(frozen=True)
class Layout:
    """Which columns of the file hold what."""

    variables: list[str]
    weight: str
    event_number: str | None
    targets: list[str]


def _missing_column(columns: Columns, subject: str, name: str, candidates: list[str], expected: str) -> Problem:
    close = close_matches(name, candidates)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"columns in the file: {candidates[:20]}"
    return Problem(subject, name, expected, hint)


def resolve_layout(columns: Columns, run_config: Any, input_vars_list: Sequence[Any] | None) -> Layout:
    """Find the target, weight, event-number and variable columns; every missing one is reported at once."""
    names = columns.names
    problems: list[Problem] = []

    weight_setting = setting(run_config, "weight_column")
    weight = weight_setting or next((n for n in ("Weight", "weight") if n in names), None)
    if weight is None or weight not in names:
        group = " in the 'features' group" if columns.target_group is not None else ""
        problems.append(
            Problem(
                "weight column",
                weight_setting or "(none of 'Weight', 'weight')",
                f"a column with the event weights{group}",
                "add one (1.0 for unweighted events) or set weight_column",
            )
        )

    event_column = setting(run_config, "event_number_column")
    event_number = event_column if event_column in names else None
    if event_number is None and setting(run_config, "use_eventNums_splitting"):
        problems.append(
            Problem(
                "event-number column",
                event_column,
                "a column with event numbers when use_eventNums_splitting is True",
                "add it, set event_number_column, or use random splitting",
            )
        )

    target_setting = setting(run_config, "target_columns")
    target_pool = columns.target_group if columns.target_group is not None else names
    targets: list[str]
    if target_setting is not None:
        targets = [target_setting] if isinstance(target_setting, str) else list(target_setting)
        for name in targets:
            if name not in target_pool:
                problems.append(_missing_column(columns, "target column", name, target_pool, "a column of the file"))
    elif columns.target_group is not None:
        targets = list(columns.target_group)
    else:
        targets = [str(n) for n in ("target", "targets") if n in names][:1]
        if not targets:
            problems.append(
                Problem(
                    "target column",
                    "(none of 'target', 'targets')",
                    "a binary target column 'target' (1 = signal, 0 = background) or one-hot columns",
                    "set target_columns to the column(s) holding the labels",
                )
            )

    reserved = {weight, event_number, *(targets if columns.target_group is None else [])}
    if input_vars_list is None:
        variables = [n for n in names if n not in reserved and columns.is_numeric(n)]
        skipped = [n for n in names if n not in reserved and n not in variables]
        if skipped:
            log.info("not numeric, not used as input variables: %s", ", ".join(skipped))
    else:
        variables = []
        for variable in input_vars_list:
            if not isinstance(variable, str):
                problems.append(
                    Problem(
                        "input variable",
                        variable,
                        "a column name (index tuples need a custom get_inputs for structured data)",
                    )
                )
            elif not columns.has(variable):
                candidates = [n for n in names if n not in reserved]
                problems.append(
                    _missing_column(columns, "input variable", variable, candidates, "a column of the file")
                )
            elif not columns.is_numeric(variable):
                problems.append(Problem("input variable", variable, "a numeric column"))
            else:
                variables.append(variable)
    if not problems and not variables:
        problems.append(Problem("input variables", "(none)", "at least one numeric column besides weights and targets"))
    if problems:
        raise InputDataError(describe_source(columns.path), problems)
    assert weight is not None
    return Layout(variables, weight, event_number, targets)


def class_quotas(max_num_events: Any, counts: np.ndarray, labels: Sequence[str] | None, source: Any) -> np.ndarray:
    """Events to keep per class for ``max_num_events`` (see the module docstring)."""
    n_classes = len(counts)
    if isinstance(max_num_events, (list, tuple)):
        if len(max_num_events) != n_classes:
            raise data_error(
                source,
                "max_num_events",
                list(max_num_events),
                f"one number per class ({n_classes} classes: {list(labels or [])[:n_classes]})",
            )
        wanted = np.array([c if math.isinf(n) else n for n, c in zip(max_num_events, counts, strict=True)])
    elif max_num_events is None or math.isinf(max_num_events):
        return counts.copy()
    else:
        share, extra = divmod(int(max_num_events), n_classes)
        wanted = np.array([share + (1 if i < extra else 0) for i in range(n_classes)])
    quotas = np.minimum(wanted.astype(np.int64), counts)
    short = [i for i in range(n_classes) if wanted[i] > counts[i]]
    if short:
        log.info(
            "max_num_events: fewer events than asked for in class(es) %s; taking all of them",
            ", ".join(checks.class_label(i, n_classes, labels) for i in short),
        )
    return quotas


def select_events(classes: np.ndarray, quotas: np.ndarray, seed: int) -> np.ndarray:
    """Shuffle all rows with ``seed``, then keep the first ``quotas[c]`` rows of each class (shuffled order)."""
    order = np.random.default_rng(seed).permutation(len(classes))
    counts = np.bincount(classes, minlength=len(quotas))
    if np.array_equal(quotas, counts):
        return order
    shuffled_classes = classes[order]
    keep = np.zeros(len(order), dtype=bool)
    for index, quota in enumerate(quotas):
        keep[np.flatnonzero(shuffled_classes == index)[:quota]] = True
    return order[keep]


def read_targets(columns: Columns, names: list[str]) -> np.ndarray:
    target = np.empty((columns.n_rows, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        target[:, j] = columns.read_target(name)
    checks.check_targets(target, names, columns.path)
    return target


def read_inputs(columns: Columns, variables: list[str], rows: np.ndarray) -> np.ndarray:
    """The float32 ``[len(rows), V]`` input matrix, one file column at a time; NaN/inf is an InputDataError."""
    inputs = np.empty((len(rows), len(variables)), dtype=np.float32)
    problems = []
    for j, variable in enumerate(variables):
        column = np.asarray(columns.read(variable))
        inputs[:, j] = column[rows]
        finite = np.isfinite(inputs[:, j])
        if not finite.all():
            bad_rows = np.unique(rows[~finite])  # each file row once, however many copies it has
            subject = f"variable {variable!r}"
            problem = checks.nonfinite_problem(subject, column[bad_rows], total=len(np.unique(rows)))
            problems.append(problem or Problem(subject, "(values beyond +-3.4e38)", "values that fit in float32"))
    if problems:
        raise InputDataError(describe_source(columns.path), problems)
    return inputs


def load_event_data(
    run_config: Any, nevts: Any, input_vars_list: Sequence[Any] | None, disable_printing: bool = False
) -> EventData:
    """Read ``inputs_file`` into an EventData (see the module docstring); bad data raises InputDataError."""
    path = setting(run_config, "inputs_file")
    if path is None:
        raise data_error(None, "inputs_file", None, "the path of the input data file")
    columns = open_columns(
        path,
        setting(run_config, "inputs_tree_name"),
        labels=setting(run_config, "evaluation_class_labels"),
        cut=setting(run_config, "inputs_cut"),
        padding=setting(run_config, "inputs_padding_value"),
    )
    source = columns.path
    layout = resolve_layout(columns, run_config, input_vars_list)
    labels = setting(run_config, "evaluation_class_labels")

    target = read_targets(columns, layout.targets)
    binary = target.shape[1] == 1
    n_classes = 2 if binary else target.shape[1]
    classes = class_index(target)
    checks.check_classes(classes, n_classes, labels, source, binary)

    counts = np.bincount(classes, minlength=n_classes)
    quotas = class_quotas(nevts, counts, labels, source)
    selection = select_events(classes, quotas, setting(run_config, "random_seed"))
    classes = classes[selection]
    target = target[selection]

    weights = np.asarray(columns.read(layout.weight))[selection].astype(np.float64, copy=False)
    checks.check_weights(weights, classes, n_classes, labels, source, layout.weight, binary)
    if layout.event_number is not None:
        event_numbers = np.asarray(columns.read(layout.event_number))[selection].astype(np.int64, copy=False)
    else:
        event_numbers = selection.astype(np.int64)
    if setting(run_config, "use_eventNums_splitting"):
        checks.check_unique_event_numbers(event_numbers, source, layout.event_number or "EventNumber")

    negative, n_selected = int((weights < 0).sum()), len(selection)
    weighting = compute_weights(weights, classes, n_classes, setting(run_config, "max_event_weight"), source)
    del weights, classes  # keep only what the dataset needs while the big matrix is filled
    n_added = weighting.n_added
    if weighting.repeat is not None:  # copies of heavy events are made while reading: one matrix, final size
        selection, target, event_numbers = (a[weighting.repeat] for a in (selection, target, event_numbers))
    data_columns = {"Target": target, "EventNumber": event_numbers}
    data_columns["Weight"], data_columns["ScaledWeight"] = weighting.weight, weighting.scaled_weight
    del weighting, target, event_numbers
    data_columns["Input"] = read_inputs(columns, layout.variables, selection)
    file_rows, described = columns.n_rows, columns.describe()
    del columns, selection  # a pickle's DataFrame can go before the memory is handed back
    release_unused_memory()
    if not disable_printing:
        log.info(
            "loaded %d of %d events from %s: %s; %d input variables%s%s",
            n_selected,
            file_rows,
            described,
            ", ".join(f"{checks.class_label(i, n_classes, labels, binary)} {n}" for i, n in enumerate(quotas)),
            len(layout.variables),
            f"; {n_added} copies of heavy events added (max_event_weight)" if n_added else "",
            f"; {negative} events with negative weight" if negative else "",
        )
    return EventData(
        {name: data_columns[name] for name in ("Input", "Target", "Weight", "ScaledWeight", "EventNumber")},
        layout.variables,
        {"source": str(source), "checked": True, "file_rows": file_rows},
    )
