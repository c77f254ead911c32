"""Splitting: random / event-number / custom, single and k-fold; property tests with hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optima_core.inputs.dataset import EventData
from optima_core.inputs.errors import InputDataError
from optima_core.inputs.splitting import (
    EventNumberCondition,
    EventNumberSplit,
    RandomSplit,
    split_event_data,
    split_indices,
)
from optima_core.plugins.manager import create_plugin_manager

PROPERTY = settings(max_examples=60, deadline=None)


def event_numbers(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).choice(10 * n + 10, size=n, replace=False).astype(np.int64) + 7


def assert_partition(sets: tuple[np.ndarray, ...], n: int) -> None:
    combined = np.concatenate(sets)
    assert len(combined) == n, "an event is in two sets or in none"
    assert np.array_equal(np.sort(combined), np.arange(n))


@PROPERTY
@given(
    n=st.integers(10, 400),
    val=st.floats(0.05, 0.45),
    test=st.one_of(st.none(), st.floats(0.05, 0.45)),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_split_partitions_and_hits_the_fractions(n: int, val: float, test: float | None, seed: int) -> None:
    assume(round(n * val) >= 1 and (test is None or round(n * test) >= 1))
    assume(n - round(n * val) - (round(n * test) if test else 0) >= 1)
    (sets,) = split_indices(n, event_numbers(n), RandomSplit(val, test, seed))
    assert_partition(sets, n)
    assert abs(len(sets[1]) - n * val) <= 1
    if test is not None:
        assert abs(len(sets[2]) - n * test) <= 1


@PROPERTY
@given(n=st.integers(12, 300), val=st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.5]), seed=st.integers(0, 1000))
def test_random_kfold_validation_sets_partition_the_data(n: int, val: float, seed: int) -> None:
    folds = split_indices(n, None, RandomSplit(val, None, seed), do_kfold=True)
    k = round(1 / val)
    assert len(folds) == k
    for sets in folds:
        assert_partition(sets, n)
        assert abs(len(sets[1]) - n / k) <= 1
    assert_partition(tuple(sets[1] for sets in folds), n)


@PROPERTY
@given(n=st.integers(20, 300), seed=st.integers(0, 1000), fixed=st.booleans())
def test_random_kfold_with_a_testing_set(n: int, seed: int, fixed: bool) -> None:
    folds = split_indices(n, event_numbers(n), RandomSplit(0.2, 0.2, seed), do_kfold=True, fixed_test_dataset=fixed)
    for sets in folds:
        assert_partition(sets, n)
    tests = [sets[2] for sets in folds]
    if fixed:
        assert len(folds) == 4
        assert all(np.array_equal(t, tests[0]) for t in tests)
        assert abs(len(tests[0]) - 0.2 * n) <= 1
        non_test = np.setdiff1d(np.arange(n), tests[0])
        validation = np.concatenate([sets[1] for sets in folds])
        assert np.array_equal(np.sort(validation), non_test)
    else:
        assert len(folds) == 5
        assert_partition(tuple(tests), n)
        assert_partition(tuple(sets[1] for sets in folds), n)


@PROPERTY
@given(
    n=st.integers(30, 300),
    big_n=st.integers(3, 7),
    offsets=st.tuples(st.integers(0, 20), st.integers(0, 20)),
    with_test=st.booleans(),
    fixed=st.booleans(),
)
def test_event_number_kfold(n: int, big_n: int, offsets: tuple[int, int], with_test: bool, fixed: bool) -> None:
    off_val, off_test = offsets
    assume(not with_test or (off_val - off_test) % big_n != 0)
    numbers = np.arange(n, dtype=np.int64) * 3 + 11
    assume(all(((numbers + r) % big_n == 0).any() for r in range(big_n)))
    val = EventNumberCondition(big_n, off_val)
    test = EventNumberCondition(big_n, off_test) if with_test else None
    folds = split_indices(n, numbers, EventNumberSplit(val, test), do_kfold=True, fixed_test_dataset=fixed)
    for sets in folds:
        assert_partition(sets, n)
    validation = tuple(sets[1] for sets in folds)
    if with_test and fixed:
        assert len(folds) == big_n - 1
        test_set = folds[0][2]
        assert np.array_equal(test_set, np.flatnonzero(test(numbers)))
        assert_partition((*validation, test_set), n)
    else:
        assert len(folds) == big_n
        assert_partition(validation, n)
        if with_test:
            assert_partition(tuple(sets[2] for sets in folds), n)
    np.testing.assert_array_equal(folds[0][1], np.flatnonzero(val(numbers)))


def test_event_number_single_split_follows_the_conditions() -> None:
    numbers = np.arange(100, dtype=np.int64)
    ((train, val, test),) = split_indices(100, numbers, (lambda e: e % 5 == 0, lambda e: (e + 1) % 5 == 0))
    assert (numbers[val] % 5 == 0).all() and len(val) == 20
    assert ((numbers[test] + 1) % 5 == 0).all() and len(test) == 20
    assert len(train) == 60


def test_custom_per_fold_conditions() -> None:
    numbers = np.arange(30, dtype=np.int64)
    folds = [(lambda e, r=r: e % 3 == r,) for r in range(3)]
    result = split_indices(30, numbers, folds, do_kfold=True)
    assert len(result) == 3
    assert_partition(tuple(sets[1] for sets in result), 30)
    assert len(split_indices(30, numbers, folds)) == 1


def test_splits_are_deterministic_for_a_seed_and_shuffle_only_reorders() -> None:
    numbers = event_numbers(200)
    first = split_indices(200, numbers, RandomSplit(0.2, 0.2, 5))
    again = split_indices(200, numbers, RandomSplit(0.2, 0.2, 5))
    other = split_indices(200, numbers, RandomSplit(0.2, 0.2, 6))
    shuffled = split_indices(200, numbers, RandomSplit(0.2, 0.2, 5), shuffle=True)
    for a, b, s in zip(first[0], again[0], shuffled[0], strict=True):
        assert np.array_equal(a, b)
        assert np.array_equal(np.sort(s), a)
    assert not np.array_equal(first[0][1], other[0][1])
    assert not np.array_equal(shuffled[0][0], first[0][0])


def test_copies_sharing_an_event_number_stay_in_one_set() -> None:
    numbers = np.repeat(np.arange(50), 3)
    for sets in split_indices(150, numbers, RandomSplit(0.2, 0.2, 1), do_kfold=True):
        owners = [set(numbers[s].tolist()) for s in sets]
        assert not (owners[0] & owners[1]) and not (owners[0] & owners[2]) and not (owners[1] & owners[2])


def test_plain_fractions_are_accepted() -> None:
    assert split_indices(50, None, 0.2)[0][1].size == 10
    assert [s.size for s in split_indices(50, None, (0.2, 0.4))[0]] == [20, 10, 20]


@pytest.mark.parametrize(
    ("n", "cond", "kfold", "match"),
    [
        (3, RandomSplit(0.2), True, "at least as many events as folds"),
        (2, RandomSplit(0.2, 0.2), False, "set"),
        (10, (lambda e: e < 5, lambda e: e < 3), False, "selected by both"),
        (10, (lambda e: e < 5,), True, "EventNumberCondition"),
        (10, "half", False, "splitting_cond"),
        (10, RandomSplit(0.7), True, "at least 2 folds"),
    ],
)
def test_impossible_splits_raise_input_data_errors(n: int, cond: object, kfold: bool, match: str) -> None:
    with pytest.raises(InputDataError, match=match):
        split_indices(n, np.arange(n, dtype=np.int64), cond, do_kfold=kfold)


def test_the_hook_returns_event_data_per_set_and_fold() -> None:
    rng = np.random.default_rng(0)
    data = EventData(
        {
            "Input": rng.normal(size=(100, 3)),
            "Target": rng.integers(0, 2, 100),
            "Weight": np.ones(100),
            "EventNumber": np.arange(100),
        },
        ["a", "b", "c"],
    )
    hooks = create_plugin_manager(load_entry_points=False).hooks
    train, val, test = hooks.get_training_data(
        dataset=data,
        splitting_cond=RandomSplit(0.2, 0.2, 3),
        do_kfold=False,
        shuffle=True,
        fixed_test_dataset=True,
        disable_printing=True,
    )
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert val.variables == ["a", "b", "c"]
    train, val = split_event_data(data, (lambda e: e % 4 == 0,), do_kfold=False)
    assert (len(train), len(val)) == (75, 25)
    folds = hooks.get_training_data(
        dataset=data,
        splitting_cond=EventNumberSplit(EventNumberCondition(4, 0)),
        do_kfold=True,
        shuffle=False,
        fixed_test_dataset=False,
        disable_printing=True,
    )
    assert len(folds) == 2 and len(folds[1]) == 4
    assert sorted(np.concatenate([v["EventNumber"] for v in folds[1]]).tolist()) == list(range(100))
