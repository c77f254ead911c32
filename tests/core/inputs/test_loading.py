"""The built-in get_inputs: the three file formats, column detection, max_num_events, shuffling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from inputs_testdata import VARIABLES, make_frame, run_config, write

from optima_core.inputs.loading import load_event_data

FORMATS = [".parquet", ".pkl", ".root"]


def load(path: Path, nevts: object = math.inf, variables: list[str] | None = VARIABLES, **settings: object):
    return load_event_data(run_config(inputs_file=str(path), **settings), nevts, variables)


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_loads_the_file_rows(tmp_path: Path, frame: pd.DataFrame, suffix: str) -> None:
    if suffix == ".root":
        pytest.importorskip("uproot")
    data = load(write(frame, tmp_path / f"data{suffix}"))
    assert len(data) == len(frame)
    assert data.variables == VARIABLES
    assert data["Input"].dtype == np.float32 and data["Weight"].dtype == np.float32
    by_event = frame.set_index("EventNumber")
    rows = by_event.loc[data["EventNumber"]]
    np.testing.assert_allclose(data["Input"], rows[VARIABLES].to_numpy(np.float32))
    np.testing.assert_array_equal(data["Target"][:, 0], rows["target"].to_numpy())
    np.testing.assert_allclose(data["ScaledWeight"], rows["Weight"].to_numpy(np.float32))
    assert data.meta["checked"] and data.meta["source"].endswith(suffix)


def test_formats_agree_event_by_event(tmp_path: Path, frame: pd.DataFrame) -> None:
    pytest.importorskip("uproot")
    loaded = [load(write(frame, tmp_path / f"data{suffix}")) for suffix in FORMATS]
    for other in loaded[1:]:
        for column in ("Input", "Target", "Weight", "ScaledWeight", "EventNumber"):
            np.testing.assert_array_equal(loaded[0][column], other[column])


def test_rows_are_shuffled_reproducibly_by_the_seed(parquet_file: Path, frame: pd.DataFrame) -> None:
    first = load(parquet_file)["EventNumber"]
    again = load(parquet_file)["EventNumber"]
    other_seed = load(parquet_file, random_seed=7)["EventNumber"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, frame["EventNumber"].to_numpy())
    assert not np.array_equal(first, other_seed)
    assert sorted(first) == sorted(other_seed)


def test_all_numeric_columns_are_inputs_when_no_variables_are_given(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame = frame.assign(process="ttbar")
    data = load(write(frame, tmp_path / "data.parquet"), variables=None)
    assert data.variables == VARIABLES


@pytest.mark.parametrize(
    ("nevts", "expected"),
    [
        (math.inf, [60, 90]),
        (40, [20, 20]),
        (41, [21, 20]),
        ([10, 30], [10, 30]),
        ([math.inf, 5], [60, 5]),
        (200, [60, 90]),
    ],
)
def test_max_num_events(parquet_file: Path, nevts: object, expected: list[int]) -> None:
    data = load(parquet_file, nevts)
    assert np.bincount(data.class_index(), minlength=2).tolist() == expected


def test_selected_events_are_a_random_subset_not_the_first_rows(parquet_file: Path, frame: pd.DataFrame) -> None:
    chosen = set(load(parquet_file, [10, 10])["EventNumber"].tolist())
    first_rows = set(frame["EventNumber"][:10]) | set(frame["EventNumber"][60:70])
    assert chosen != first_rows and len(chosen) == 20


def test_original_pickle_layout_with_one_hot_targets(tmp_path: Path, frame: pd.DataFrame) -> None:
    data = load(write(frame, tmp_path / "data.pkl", one_hot=True))
    assert data["Target"].shape == (len(frame), 2) and data.n_classes == 2
    is_signal = frame.set_index("EventNumber").loc[data["EventNumber"], "target"].to_numpy()
    np.testing.assert_array_equal(data.class_index(), 1 - is_signal)


def test_flat_one_hot_targets_weight_and_event_number_columns_are_configurable(tmp_path: Path) -> None:
    frame = make_frame().rename(columns={"Weight": "evt_w", "EventNumber": "evt"})
    frame["is_sig"] = frame.pop("target")
    frame["is_bkg"] = 1 - frame["is_sig"]
    path = write(frame, tmp_path / "data.parquet")
    data = load(path, target_columns=["is_sig", "is_bkg"], weight_column="evt_w", event_number_column="evt")
    assert data["Target"].shape == (150, 2)
    assert sorted(data["EventNumber"].tolist()) == sorted(frame["evt"].tolist())
    np.testing.assert_allclose(np.sort(data["ScaledWeight"]), np.sort(frame["evt_w"].to_numpy(np.float32)))


def test_lowercase_weight_and_targets_column_are_found(tmp_path: Path) -> None:
    frame = make_frame().rename(columns={"Weight": "weight", "target": "targets"})
    data = load(write(frame, tmp_path / "data.parquet"))
    np.testing.assert_allclose(data["ScaledWeight"].sum(), frame["weight"].sum(), rtol=1e-5)


def test_row_numbers_stand_in_for_missing_event_numbers(tmp_path: Path) -> None:
    frame = make_frame().drop(columns=["EventNumber"])
    data = load(write(frame, tmp_path / "data.parquet"))
    assert sorted(data["EventNumber"].tolist()) == list(range(len(frame)))


def test_root_tree_is_chosen_by_name(tmp_path: Path, frame: pd.DataFrame) -> None:
    uproot = pytest.importorskip("uproot")
    path = write(frame, tmp_path / "data.root", tree="Nominal")
    with uproot.update(path) as handle:
        tree = handle.mktree("Other", {"x": np.float64})
        tree.extend({"x": np.zeros(3)})
    data = load(path, inputs_tree_name="Nominal")
    assert len(data) == len(frame)
