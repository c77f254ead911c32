"""EventData: construction, dtypes, dict-style access, take, classes."""

from __future__ import annotations

import numpy as np
import pytest

from optima_core.inputs.dataset import EventData, class_index
from optima_core.inputs.errors import InputDataError


def make(n: int = 6, one_hot: bool = False) -> EventData:
    inputs = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    if one_hot:
        target = np.eye(3)[np.arange(n) % 3]
    else:
        target = (np.arange(n) % 2).astype(np.int8)
    return EventData(
        {"Input": inputs, "Target": target, "Weight": np.ones(n), "EventNumber": np.arange(n, dtype=np.int32)},
        ["a", "b"],
        {"source": "x.parquet", "checked": True},
    )


def test_columns_get_their_dtypes_and_shapes() -> None:
    data = make()
    assert data["Input"].dtype == np.float32 and data["Input"].shape == (6, 2)
    assert data["Target"].dtype == np.float32 and data["Target"].shape == (6, 1)
    assert data["Weight"].dtype == np.float32
    assert data["EventNumber"].dtype == np.int64
    assert data.columns == ("Input", "Target", "Weight", "EventNumber")
    assert len(data) == 6 and "Weight" in data and "ScaledWeight" not in data
    assert list(data.keys()) == list(data.columns) and dict(data.items())["Weight"] is data["Weight"]


def test_slice_returns_views() -> None:
    data = make()
    part = data.slice(2, 5)
    assert len(part) == 3 and np.shares_memory(part["Input"], data["Input"])
    assert part["EventNumber"].tolist() == [2, 3, 4]


def test_arrays_with_the_right_dtype_are_not_copied() -> None:
    inputs = np.zeros((4, 1), dtype=np.float32)
    inputs.flags.writeable = False
    data = EventData({"Input": inputs, "Target": np.zeros((4, 1), dtype=np.float32)})
    assert data["Input"] is inputs
    assert data.variables == ["input_0"]


def test_take_selects_rows_of_every_column_and_drops_the_checked_flag() -> None:
    data = make()
    part = data.take([4, 1])
    assert part["Input"].tolist() == [[8.0, 9.0], [2.0, 3.0]]
    assert part["EventNumber"].tolist() == [4, 1]
    assert part.variables == ["a", "b"]
    assert part.meta == {"source": "x.parquet"}


def test_binary_classes_put_signal_first() -> None:
    assert class_index(np.array([[1.0], [0.0], [1.0]])).tolist() == [0, 1, 0]
    data = make()
    assert data.n_classes == 2
    assert data.class_index().tolist() == [1, 0, 1, 0, 1, 0]


def test_one_hot_classes_follow_the_columns() -> None:
    data = make(one_hot=True)
    assert data.n_classes == 3
    assert data.class_index().tolist() == [0, 1, 2, 0, 1, 2]


def test_variable_column_by_name_and_index_tuple() -> None:
    data = make()
    assert data.variable_column("b").tolist() == data["Input"][:, 1].tolist()
    assert data.variable_column((0,)).tolist() == data["Input"][:, 0].tolist()


def test_mismatched_lengths_and_missing_columns_are_rejected() -> None:
    with pytest.raises(InputDataError, match=r"column lengths = \{'Input': 3, 'Target': 2\}: expected the same number"):
        EventData({"Input": np.zeros((3, 1)), "Target": np.zeros(2)})
    with pytest.raises(InputDataError, match=r"columns = \['Input'\]: expected also the column\(s\) \['Target'\]"):
        EventData({"Input": np.zeros((3, 1))})
    with pytest.raises(InputDataError, match=r"variable names = \['only_one'\]: expected one per input column \(2\)"):
        EventData({"Input": np.zeros((3, 2)), "Target": np.zeros(3)}, ["only_one"])


def test_weights_for_plots_prefer_scaled_weight() -> None:
    data = make().with_columns(ScaledWeight=np.full(6, 2.0))
    assert data.weights_for_plots().tolist() == [2.0] * 6
    assert make().weights_for_plots().tolist() == [1.0] * 6
