"""The rule of ``models.json`` (which fold model applies to which event) for every kind of split, without training:
folds made by the run's splitting function, the rule derived from them, then applied to every event number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optima_core.deploy.assignment import describe, fold_per_event
from optima_core.inputs.splitting import EventNumberCondition, EventNumberSplit, RandomSplit, split_indices

NUMBERS = np.random.default_rng(3).permutation(600).astype(np.int64) + 17


def folds_of(cond: Any, fixed_test: bool) -> list[dict[str, Any]]:
    folds = split_indices(len(NUMBERS), NUMBERS, cond, do_kfold=True, fixed_test_dataset=fixed_test)
    names = ("train", "val", "test")
    return [{names[i]: {"EventNumber": NUMBERS[rows]} for i, rows in enumerate(sets)} for sets in folds]


def applied(folds: list[dict[str, Any]], settings: dict[str, Any], folder: Path) -> tuple[dict[str, Any], np.ndarray]:
    rule = describe(settings, folds, list(range(len(folds))), folder)
    models = [{"fold": i, **({"condition": rule["conditions"][i]} if i in rule["conditions"] else {})} for i in
              range(len(folds))]  # fmt: skip
    content = {"models": models, "assignment": rule["assignment"]}
    return rule, fold_per_event(folder, content, NUMBERS)


def held_by(folds: list[dict[str, Any]], split: str) -> np.ndarray:
    expected = np.full(len(NUMBERS), -1)
    for index, fold in enumerate(folds):
        expected[np.isin(NUMBERS, fold[split]["EventNumber"])] = index
    return expected


EVENT_NUMBERS = {"use_eventNums_splitting": True, "eventNums_splitting_N": 4, "random_seed": 42}


def test_event_numbers_with_a_rotating_testing_set_follow_the_offset_formula(tmp_path: Path) -> None:
    folds = folds_of(EventNumberSplit(EventNumberCondition(4, 0), EventNumberCondition(4, 3)), fixed_test=False)
    rule, which = applied(folds, EVENT_NUMBERS, tmp_path)
    assert "(EventNumber + 3 + fold) % 4 == 0" in rule["applies_to"] and "testing" in rule["applies_to"]
    assert rule["assignment"]["kind"] == "event_number"
    np.testing.assert_array_equal(which, held_by(folds, "test"))
    assert (which >= 0).all()


def test_a_fixed_testing_set_goes_to_the_mean_and_the_rest_to_its_validation_fold(tmp_path: Path) -> None:
    folds = folds_of(EventNumberSplit(EventNumberCondition(4, 1), EventNumberCondition(4, 2)), fixed_test=True)
    assert len(folds) == 3
    rule, which = applied(folds, EVENT_NUMBERS, tmp_path)
    assert "fixed testing set" in rule["applies_to"] and "validation" in rule["applies_to"]
    np.testing.assert_array_equal(which, held_by(folds, "val"))
    np.testing.assert_array_equal(which < 0, (NUMBERS + 2) % 4 == 0)


def test_a_random_split_is_written_as_a_table(tmp_path: Path) -> None:
    folds = folds_of(RandomSplit(0.25, 0.25, seed=5), fixed_test=False)
    rule, which = applied(folds, {"use_eventNums_splitting": False, "random_seed": 5}, tmp_path)
    assert rule["assignment"]["kind"] == "table" and (tmp_path / "event_folds.npz").is_file()
    np.testing.assert_array_equal(which, held_by(folds, "test"))
    unseen = fold_per_event(tmp_path, {"models": [{"fold": i} for i in range(4)], "assignment": rule["assignment"]},
                            np.array([-5, 10_000]))  # fmt: skip
    assert unseen.tolist() == [-1, -1]


@pytest.mark.parametrize("fixed_test", [False, True])
def test_event_number_settings_that_do_not_match_the_folds_fall_back_to_a_table(
    tmp_path: Path, fixed_test: bool
) -> None:
    folds = folds_of(RandomSplit(0.25, 0.25, seed=5), fixed_test=fixed_test)
    rule, which = applied(folds, EVENT_NUMBERS, tmp_path)
    assert rule["assignment"]["kind"] == "table"
    np.testing.assert_array_equal(which, held_by(folds, "val" if fixed_test else "test"))
