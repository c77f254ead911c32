"""Event weights: per-class normalisation, max_event_weight duplication, mean 1, negative weights."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inputs_testdata import VARIABLES, make_frame, run_config, write

from optima_core.inputs.errors import InputDataError
from optima_core.inputs.loading import load_event_data
from optima_core.inputs.weights import compute_weights, copies_needed, normalise_per_class


def class_sums(weights: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.bincount(classes, weights=weights.astype(np.float64))


def test_classes_get_equal_total_weight_and_the_mean_weight_is_one() -> None:
    weights = np.array([0.01, 0.02, 0.03, 5.0, 7.0, 1.0, 2.0])
    classes = np.array([0, 0, 0, 1, 1, 1, 1])
    result = compute_weights(weights, classes, 2)
    np.testing.assert_allclose(class_sums(result.weight, classes), [3.5, 3.5], rtol=1e-6)
    assert result.weight.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(result.scaled_weight, weights.astype(np.float32))
    assert result.weight.dtype == np.float32 and result.scaled_weight.dtype == np.float32
    assert result.repeat is None


def test_heavy_events_are_split_into_halves_until_below_the_threshold() -> None:
    weights = np.array([1.0] * 9 + [9.0] + [1.0] * 10)
    classes = np.array([0] * 10 + [1] * 10)
    result = compute_weights(weights, classes, 2, max_event_weight=2.0)
    # normalised, the heavy event weighs 5 and the median is 1: 5/2 > 2 >= 5/4, so 4 copies
    assert result.repeat is not None and result.n_added == 3
    assert np.count_nonzero(result.repeat == 9) == 4
    assert len(result.weight) == len(weights) + 3
    np.testing.assert_allclose(result.scaled_weight[result.repeat == 9], 9.0 / 4)
    new_classes = classes[result.repeat]
    np.testing.assert_allclose(class_sums(result.scaled_weight, new_classes), class_sums(weights, classes), rtol=1e-6)
    sums = class_sums(result.weight, new_classes)
    assert sums[0] == pytest.approx(sums[1], rel=1e-6)
    assert result.weight.mean() == pytest.approx(1.0, rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=40),
    max_weight=st.floats(1.0, 50.0),
)
def test_copies_are_the_smallest_power_of_two_reaching_the_threshold(weights: list[float], max_weight: float) -> None:
    array = np.array(weights)
    copies = copies_needed(array, max_weight)
    threshold = max_weight * np.median(array)
    if copies is None:
        assert (array <= threshold).all()
        return
    assert ((copies & (copies - 1)) == 0).all()  # powers of two
    assert (array / copies <= threshold * (1 + 1e-12)).all()
    split = copies > 1
    assert (array[split] / (copies[split] // 2) > threshold).all()


def test_an_explosive_max_event_weight_is_refused() -> None:
    weights = np.concatenate([np.ones(19), [1e9]])
    with pytest.raises(InputDataError, match="max_event_weight"):
        compute_weights(weights, np.zeros(20, dtype=np.int64), 1, max_event_weight=1.0)


def test_negative_weights_keep_their_sign_and_classes_are_normalised_by_the_signed_sum() -> None:
    weights = np.array([2.0, -1.0, 3.0, 1.0, 1.0])
    classes = np.array([0, 0, 0, 1, 1])
    normalised = normalise_per_class(weights, classes, 2)
    assert normalised[1] < 0
    np.testing.assert_allclose(class_sums(normalised, classes), [2.5, 2.5])
    result = compute_weights(weights, classes, 2, max_event_weight=1.5)
    assert (np.sign(result.weight) == np.sign(result.scaled_weight)).all()
    assert result.weight.sum() == pytest.approx(len(result.weight), rel=1e-6)


def test_loaded_weights_follow_the_policy_and_copies_share_the_event_number(tmp_path: Path) -> None:
    frame = make_frame(negative=3)
    frame.loc[70, "Weight"] = 40.0  # a background event far above the median
    path = write(frame, tmp_path / "data.parquet")
    data = load_event_data(run_config(inputs_file=str(path), max_event_weight=5.0), math.inf, VARIABLES)
    assert len(data) > len(frame)
    heavy = frame.loc[70, "EventNumber"]
    copies = data["EventNumber"] == heavy
    assert copies.sum() > 1
    assert data["ScaledWeight"][copies].sum() == pytest.approx(40.0, rel=1e-5)
    assert (data["Weight"] < 0).sum() >= 3
    sums = class_sums(data["Weight"], data.class_index())
    assert sums[0] == pytest.approx(sums[1], rel=1e-4)
    assert data["Weight"].mean() == pytest.approx(1.0, rel=1e-4)
