"""The built-in ``get_training_data``: split a dataset into training, validation and (optionally) testing sets.

``splitting_cond`` -- what the built-in accepts
-----------------------------------------------
* **Random splitting:** a :class:`RandomSplit`, or plain fractions: ``0.2``, ``(0.2,)`` (validation only) or
  ``(0.2, 0.2)`` (validation, testing). Plain fractions use the seed ``DEFAULT_SEED`` (42, the default
  ``random_seed``); the built-in ``get_experiment_inputs`` passes a :class:`RandomSplit` with the run's seed.
  Whole event-number groups are assigned (all copies of a duplicated event stay in one set); with unique event
  numbers (or none) this is a per-event split. Set sizes are ``round(G * fraction)`` of ``G`` groups, so they are
  within one event of the request.
* **Event-number splitting:** an :class:`EventNumberSplit`, or a tuple of one or two callables
  ``(validation_condition, testing_condition)``, each mapping the ``EventNumber`` array to a boolean mask. The
  built-in passes :class:`EventNumberCondition` objects, ``(event_number + offset) % N == 0``. An event selected by
  both conditions is an error; training gets every event selected by neither.
* **Custom folds:** a list of such tuples (or :class:`EventNumberSplit`), one per fold, for k-fold with arbitrary
  conditions; without ``do_kfold`` the first entry is used.

k-fold rules (``do_kfold=True``)
--------------------------------
* Random, no testing set: ``k = round(1 / validation_fraction)`` equal parts (sizes differ by at most one); fold
  ``i`` validates on part ``i`` and trains on the rest.
* Random, fixed testing set (``fixed_test_dataset``): the testing set is drawn first (``round(G *
  test_fraction)`` groups) and is the same in every fold; the rest is cut into ``k = round((1 - test_fraction) /
  validation_fraction)`` parts that rotate as validation set.
* Random, rotating testing set: ``k = round(1 / validation_fraction)`` parts; fold ``i`` validates on part ``i``
  and tests on part ``i + 1`` (mod ``k``); ``test_fraction`` is then ``1 / k``.
* Event numbers (needs :class:`EventNumberCondition`): no testing set: ``k = N`` folds, the validation offset
  rotates ``offset_val + i``. Fixed testing set: ``k = N - 1`` folds; the validation offset takes every residue but
  the testing one. Rotating testing set: ``k = N`` folds, both offsets advance by ``i``.

In every k-fold mode the validation sets of all folds partition the non-fixed events exactly. Results are
deterministic for a given seed; ``shuffle`` permutes the events inside each set (seeded), otherwise sets keep the
dataset's order. Fewer events than folds, or any empty set, raises :class:`InputDataError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optima_core.config.problems import Problem
from optima_core.inputs.checks import check_enough_events
from optima_core.inputs.errors import InputDataError, data_error, describe_source
from optima_core.inputs.memory import release_unused_memory

DEFAULT_SEED = 42
SET_NAMES = ("training", "validation", "testing")

Condition = Callable[[np.ndarray], Any]
Indices = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class RandomSplit:
    validation_fraction: float
    test_fraction: float | None = None  # None: no testing set
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class EventNumberCondition:
    """Selects the events with ``(event_number + offset) % n == 0``."""

    n: int
    offset: int

    def __call__(self, event_numbers: np.ndarray) -> np.ndarray:
        return (np.asarray(event_numbers) + self.offset) % self.n == 0

    def rotated(self, steps: int) -> EventNumberCondition:
        return EventNumberCondition(self.n, (self.offset + steps) % self.n)


@dataclass(frozen=True)
class EventNumberSplit:
    validation: Condition
    test: Condition | None = None  # None: no testing set
    seed: int = DEFAULT_SEED  # for ``shuffle``


SplitSpec = RandomSplit | EventNumberSplit | list[EventNumberSplit]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)


def _bad_cond(cond: Any) -> InputDataError:
    return data_error(
        "The splitting condition",
        "splitting_cond",
        repr(cond)[:80],
        "fractions (0.2 or (0.2, 0.2)), a RandomSplit, callables on event numbers (val, test), "
        "an EventNumberSplit, or a list of per-fold tuples",
    )


def parse_splitting_cond(cond: Any) -> SplitSpec:
    """Normalise any accepted ``splitting_cond`` (see the module docstring)."""
    if isinstance(cond, (RandomSplit, EventNumberSplit)):
        return cond
    if _is_number(cond):
        return RandomSplit(float(cond))
    if isinstance(cond, (tuple, list)) and 1 <= len(cond) <= 2 and all(_is_number(c) for c in cond):
        return RandomSplit(float(cond[0]), float(cond[1]) if len(cond) == 2 else None)
    if isinstance(cond, (tuple, list)) and 1 <= len(cond) <= 2 and all(callable(c) for c in cond):
        return EventNumberSplit(cond[0], cond[1] if len(cond) == 2 else None)
    if isinstance(cond, list) and cond:
        folds = []
        for entry in cond:
            parsed = parse_splitting_cond(entry)
            if not isinstance(parsed, EventNumberSplit):
                raise _bad_cond(cond)
            folds.append(parsed)
        return folds
    raise _bad_cond(cond)


# -- set labels: 0 training, 1 validation, 2 testing, per event ------------------------------------------------


def _groups(event_numbers: np.ndarray | None, n: int) -> tuple[np.ndarray | None, int]:
    """Group id per event (events sharing an event number form one group) and the number of groups."""
    if event_numbers is None:
        return None, n
    unique, inverse = np.unique(event_numbers, return_inverse=True)
    return inverse.reshape(-1), len(unique)


def _ranks(n_groups: int, seed: int) -> np.ndarray:
    ranks = np.empty(n_groups, dtype=np.int64)
    ranks[np.random.default_rng(seed).permutation(n_groups)] = np.arange(n_groups)
    return ranks


def _n_folds(value: float, minimum: int, what: str) -> int:
    k = round(value)
    if k < minimum:
        raise data_error(
            "The splitting condition",
            what,
            value,
            f"a value giving at least {minimum} folds (k = round(...) = {k})",
        )
    return k


def random_labels(
    spec: RandomSplit, n_groups: int, do_kfold: bool, fixed_test: bool, source: Any = None
) -> list[np.ndarray]:
    """Set label per group for each fold (one entry without ``do_kfold``)."""
    ranks = _ranks(n_groups, spec.seed)
    val, test = spec.validation_fraction, spec.test_fraction
    if not do_kfold:
        n_test = round(n_groups * test) if test else 0
        n_val = round(n_groups * val)
        labels = np.zeros(n_groups, dtype=np.int8)
        labels[ranks < n_test + n_val] = 1
        labels[ranks < n_test] = 2
        return [labels]
    folds = []
    if test and fixed_test:
        n_test = round(n_groups * test)
        k = _n_folds((1 - test) / val, 2, "(1 - test_fraction) / validation_fraction")
        rest = n_groups - n_test
        check_enough_events(rest, k, source)
        part = np.where(ranks < n_test, -1, (ranks - n_test) * k // max(rest, 1))
        for i in range(k):
            labels = np.where(part == i, 1, 0).astype(np.int8)
            labels[part < 0] = 2
            folds.append(labels)
        return folds
    k = _n_folds(1 / val, 3 if test else 2, "1 / validation_fraction")
    check_enough_events(n_groups, k, source)
    part = ranks * k // n_groups
    for i in range(k):
        labels = np.where(part == i, 1, 0).astype(np.int8)
        if test:
            labels[part == (i + 1) % k] = 2
        folds.append(labels)
    return folds


def _event_number_folds(spec: EventNumberSplit, do_kfold: bool, fixed_test: bool) -> list[EventNumberSplit]:
    if not do_kfold:
        return [spec]
    val, test = spec.validation, spec.test
    if not isinstance(val, EventNumberCondition) or (test is not None and not isinstance(test, EventNumberCondition)):
        raise data_error(
            "The splitting condition",
            "splitting_cond",
            f"({type(val).__name__} conditions)",
            "EventNumberCondition objects for k-fold rotation",
            "for k-fold with other callables pass a list of (validation, testing) tuples, one per fold",
        )
    if test is not None and test.n != val.n:
        raise data_error(
            "The splitting condition", "splitting_cond", f"(N = {val.n} and {test.n})", "the same N for both"
        )
    if test is None:
        return [EventNumberSplit(val.rotated(i), None, spec.seed) for i in range(val.n)]
    if not fixed_test:
        return [EventNumberSplit(val.rotated(i), test.rotated(i), spec.seed) for i in range(val.n)]
    test_residue = (-test.offset) % test.n
    offsets = [(val.offset + j) % val.n for j in range(val.n)]
    return [
        EventNumberSplit(EventNumberCondition(val.n, o), test, spec.seed)
        for o in offsets
        if (-o) % val.n != test_residue
    ]


def event_number_labels(spec: EventNumberSplit, event_numbers: np.ndarray) -> np.ndarray:
    """Set label per event for one event-number split; overlapping conditions are an error."""
    val = np.asarray(spec.validation(event_numbers), dtype=bool)
    labels = np.where(val, 1, 0).astype(np.int8)
    if spec.test is not None:
        test = np.asarray(spec.test(event_numbers), dtype=bool)
        both = val & test
        if both.any():
            raise data_error(
                "The splitting condition",
                "validation and testing conditions",
                f"({int(both.sum())} events selected by both)",
                "conditions selecting disjoint events",
            )
        labels[test] = 2
    return labels


# -- public API -------------------------------------------------------------------------------------------------


def split_indices(
    n_events: int,
    event_numbers: np.ndarray | None,
    splitting_cond: Any,
    do_kfold: bool = False,
    shuffle: bool = False,
    fixed_test_dataset: bool = True,
    source: Any = None,
) -> list[Indices]:
    """Row indices ``(train, val[, test])`` of every fold (a single entry without ``do_kfold``).

    ``source`` (the file) only serves the error messages.
    """
    spec = parse_splitting_cond(splitting_cond)
    if isinstance(spec, RandomSplit):
        group_ids, n_groups = _groups(event_numbers, n_events)
        if not do_kfold:
            check_enough_events(n_groups, 1, source)
        group_labels = random_labels(spec, n_groups, do_kfold, fixed_test_dataset, source)
        labels = [g if group_ids is None else g[group_ids] for g in group_labels]
        with_test, seed = bool(spec.test_fraction), spec.seed
    else:
        if event_numbers is None:
            raise data_error(source, "column 'EventNumber'", "(missing)", "event numbers for event-number splitting")
        if isinstance(spec, list):
            folds = spec if do_kfold else spec[:1]
        else:
            folds = _event_number_folds(spec, do_kfold, fixed_test_dataset)
        check_enough_events(n_events, len(folds), source)
        labels = [event_number_labels(fold, event_numbers) for fold in folds]
        with_test, seed = any(f.test is not None for f in folds), folds[0].seed
    rng = np.random.default_rng([seed, 1])
    result = []
    for fold, fold_labels in enumerate(labels):
        sets = tuple(np.flatnonzero(fold_labels == s) for s in range(3 if with_test else 2))
        _check_not_empty(sets, fold if do_kfold else None, n_events, source)
        result.append(tuple(s[rng.permutation(len(s))] for s in sets) if shuffle else sets)
    return result


def _check_not_empty(sets: Indices, fold: int | None, n_events: int, source: Any) -> None:
    empty = [SET_NAMES[i] for i, s in enumerate(sets) if len(s) == 0]
    if empty:
        where = f" of fold {fold}" if fold is not None else ""
        raise InputDataError(
            describe_source(source),
            [
                Problem(
                    f"{' and '.join(empty)} set{where}",
                    f"(0 of {n_events} events)",
                    "at least one event in every set",
                    "load more events, or change the fractions / event-number conditions",
                )
            ],
        )


def split_event_data(
    dataset: Any,
    splitting_cond: Any,
    do_kfold: bool = False,
    shuffle: bool = False,
    fixed_test_dataset: bool = True,
) -> tuple[Any, ...]:
    """``(train, val[, test])`` EventData, or for ``do_kfold`` the same tuple of per-fold lists.

    The sets of one fold are views into one array per column (allocated once per fold).
    """
    event_numbers = dataset.get("EventNumber")
    source = dataset.meta.get("source")
    folds = split_indices(len(dataset), event_numbers, splitting_cond, do_kfold, shuffle, fixed_test_dataset, source)
    release_unused_memory()  # the index arithmetic's temporaries, before the big gathers
    materialised = []
    while folds:  # popping frees each fold's index arrays before the next gather
        materialised.append(_materialise(dataset, folds.pop(0)))
    if not do_kfold:
        return materialised[0]
    return tuple(list(sets) for sets in zip(*materialised, strict=True))


def _materialise(dataset: Any, sets: Indices) -> tuple[Any, ...]:
    """One gather for all sets of a fold, then views: fewer, larger allocations keep the peak memory low."""
    bounds = np.cumsum([0, *(len(s) for s in sets)])
    order = np.concatenate(sets)
    del sets
    reordered = dataset.take(order)
    del order
    return tuple(reordered.slice(int(bounds[i]), int(bounds[i + 1])) for i in range(len(bounds) - 1))


def describe_split(split: Sequence[Any]) -> str:
    """``training 600, validation 200, testing 200`` (for a single split)."""
    return ", ".join(f"{name} {len(part)}" for name, part in zip(SET_NAMES, split, strict=False))
