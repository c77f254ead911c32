"""Bad input data: each case raises one InputDataError naming the file, the thing, the value and the expectation.

Every case goes through the built-in get_experiment_inputs, the path a run takes before any training.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from inputs_testdata import VARIABLES, make_frame, run_config, write

from optima_core.builtin.input_handler import InputHandler
from optima_core.config.problems import ConfigError
from optima_core.inputs.errors import InputDataError
from optima_core.plugins.active import using_manager
from optima_core.plugins.manager import create_plugin_manager


def experiment_inputs(path: Path | str, crossvalidation: bool = False, **settings: Any) -> tuple[Any, ...]:
    settings.setdefault("input_vars", VARIABLES)
    config = run_config(inputs_file=str(path), produce_inputs_plots=False, **settings)
    manager = create_plugin_manager(load_entry_points=False)
    with using_manager(manager):
        return manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=InputHandler(config),
            output_dir=None,
            inputs_for_crossvalidation=crossvalidation,
            disable_printing=True,
        )


def error_text(path: Path | str, crossvalidation: bool = False, **settings: Any) -> str:
    with pytest.raises(InputDataError) as caught:
        experiment_inputs(path, crossvalidation, **settings)
    assert isinstance(caught.value, ConfigError)  # the CLI prints it without a traceback
    return str(caught.value)


def test_good_data_passes(parquet_file: Path) -> None:
    assert len(experiment_inputs(parquet_file)) == 3


def test_missing_file(tmp_path: Path) -> None:
    text = error_text(tmp_path / "nowhere.parquet")
    assert "nowhere.parquet" in text and "an existing file" in text and str(tmp_path) in text


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    assert "one of .pkl, .pickle, .parquet, .pq, .root" in error_text(path)


def test_pickle_from_another_numpy_says_so_and_suggests_parquet(tmp_path: Path) -> None:
    path = tmp_path / "old.pkl"
    path.write_bytes(b"cnumpy._core.numeric_from_the_future\n_frombuffer\n.")  # a class this numpy does not have
    text = error_text(path)
    assert "No module named 'numpy._core.numeric_from_the_future'" in text
    assert "other numpy/pandas versions" in text and "to_parquet" in text


def test_pickle_that_is_not_a_dataframe(tmp_path: Path) -> None:
    path = tmp_path / "dict.pkl"
    path.write_bytes(pickle.dumps({"features": [1, 2]}))
    assert "a pandas DataFrame" in error_text(path)


def test_pickle_without_features_and_targets_groups(tmp_path: Path) -> None:
    frame = make_frame()
    grouped = pd.concat({"inputs": frame.drop(columns=["target"]), "labels": frame[["target"]]}, axis=1)
    path = tmp_path / "data.pkl"
    grouped.to_pickle(path)
    text = error_text(path)
    assert "data.pkl" in text and "'features'" in text and "'targets'" in text and "['inputs', 'labels']" in text


@pytest.mark.parametrize("suffix", [".parquet", ".pkl"])
def test_no_weight_column(tmp_path: Path, suffix: str) -> None:
    path = write(make_frame().drop(columns=["Weight"]), tmp_path / f"data{suffix}")
    text = error_text(path)
    assert "weight column" in text and "'Weight', 'weight'" in text and "weight_column" in text


def test_no_event_number_with_event_number_splitting(tmp_path: Path) -> None:
    path = write(make_frame().drop(columns=["EventNumber"]), tmp_path / "data.parquet")
    experiment_inputs(path)  # fine with random splitting
    text = error_text(path, use_eventNums_splitting=True)
    assert "'EventNumber'" in text and "use_eventNums_splitting" in text


def test_no_target_column(tmp_path: Path) -> None:
    path = write(make_frame().rename(columns={"target": "label"}), tmp_path / "data.parquet")
    assert "target_columns" in error_text(path)


def test_unknown_input_variable_lists_near_matches(parquet_file: Path) -> None:
    text = error_text(parquet_file, input_vars=["pt", "Eta", "masss", "zzz"])
    assert "'Eta'" in text and "did you mean 'eta'" in text
    assert "'masss'" in text and "'mass'" in text
    assert "'zzz'" in text and "columns in the file" in text
    assert text.count("input variable") == 3


@pytest.mark.parametrize(("bad", "count_text"), [(np.nan, "2 NaN"), (np.inf, "2 +inf"), (-np.inf, "2 -inf")])
def test_non_finite_input_names_the_variable_and_count(tmp_path: Path, bad: float, count_text: str) -> None:
    frame = make_frame()
    frame.loc[[3, 80], "mass"] = bad
    text = error_text(write(frame, tmp_path / "data.parquet"))
    assert "variable 'mass'" in text and count_text in text and "150 events" in text and "pt" not in text


@pytest.mark.parametrize(("scale_type", "relation"), [("log10", "<= 0"), ("sqrt", "< 0")])
def test_scaling_outside_its_domain_names_the_variable(parquet_file: Path, scale_type: str, relation: str) -> None:
    text = error_text(parquet_file, input_scaling={"eta": (scale_type, (1.0, 0.0))})
    assert "variable 'eta'" in text and scale_type in text and relation in text and "minimum" in text


def test_scaling_inside_its_domain_is_fine(parquet_file: Path) -> None:
    experiment_inputs(parquet_file, input_scaling={"pt": ("log10", (1.0, 0.0)), "njets": ("sqrt", (1.0, 0.0))})


def test_log10_of_zero_is_outside_the_domain(parquet_file: Path) -> None:
    text = error_text(parquet_file, input_scaling={"njets": ("log10", (1.0, 0.0))})
    assert "variable 'njets'" in text and "'log10', (1.0, 1" in text  # the suggested offset


def test_only_one_class(tmp_path: Path) -> None:
    path = write(make_frame(n_signal=0, n_background=50), tmp_path / "data.parquet")
    text = error_text(path)
    assert "'Signal' (Target 1)" in text and "0 of 50 events" in text and "only 'Background' (Target 0) present" in text


def test_all_weights_of_a_class_zero(tmp_path: Path) -> None:
    frame = make_frame()
    frame.loc[frame["target"] == 1, "Weight"] = 0.0
    text = error_text(write(frame, tmp_path / "data.parquet"))
    assert "weights of class 'Signal'" in text and "all 60 are zero" in text


def test_class_with_negative_total_weight(tmp_path: Path) -> None:
    frame = make_frame()
    frame.loc[frame["target"] == 0, "Weight"] *= -1
    assert "a positive sum of weights" in error_text(write(frame, tmp_path / "data.parquet"))


def test_duplicate_event_numbers_with_event_number_splitting(tmp_path: Path) -> None:
    frame = make_frame()
    frame.loc[5, "EventNumber"] = frame.loc[6, "EventNumber"]
    path = write(frame, tmp_path / "data.parquet")
    experiment_inputs(path)  # random splitting does not need unique event numbers
    text = error_text(path, use_eventNums_splitting=True)
    assert "1 duplicates" in text and str(frame.loc[6, "EventNumber"]) in text


def test_fewer_events_than_folds(tmp_path: Path) -> None:
    path = write(make_frame(n_signal=2, n_background=2), tmp_path / "data.parquet")
    text = error_text(path, crossvalidation=True, use_testing_dataset=False, validation_fraction=0.2)
    assert "data.parquet" in text and "number of events = 4" in text and "folds (5)" in text


def test_targets_that_are_not_labels(tmp_path: Path) -> None:
    frame = make_frame()
    frame["target"] = frame["target"] * 2
    assert "0 or 1" in error_text(write(frame, tmp_path / "data.parquet"))


def test_max_num_events_list_of_the_wrong_length(parquet_file: Path) -> None:
    assert "one number per class" in error_text(parquet_file, max_num_events=[10, 10, 10])


def test_root_branch_that_is_not_flat(tmp_path: Path) -> None:
    uproot = pytest.importorskip("uproot")
    awkward = pytest.importorskip("awkward")
    frame = make_frame()
    path = tmp_path / "data.root"
    with uproot.recreate(path) as handle:
        types = {c: frame[c].to_numpy().dtype for c in frame.columns}
        tree = handle.mktree("Events", {**types, "jets_pt": "var * float64"})
        tree.extend({**{c: frame[c].to_numpy() for c in frame.columns}, "jets_pt": awkward.Array([[1.0]] * len(frame))})
    text = error_text(path, input_vars=["pt", "jets_pt"])
    assert "'jets_pt'" in text and "numeric" in text


def test_root_file_with_several_trees_needs_a_tree_name(tmp_path: Path) -> None:
    uproot = pytest.importorskip("uproot")
    path = write(make_frame(), tmp_path / "data.root")
    with uproot.update(path) as handle:
        handle.mktree("Systematic", {"x": np.float64}).extend({"x": np.zeros(2)})
    assert "inputs_tree_name" in error_text(path) and "'Systematic'" in error_text(path)
    assert "did you mean 'Events'" in error_text(path, inputs_tree_name="events")
