"""What ``optima run`` settles at its start (issue 13, defects 6 and 10).

Bad data are refused before the output folder and Ray exist: a run that stops at its data leaves nothing behind,
so the rerun after the fix needs no ``--resume`` and no cleaning up; the input plots are drawn only once the folder
is the run's own. The trials run the run-config as the run read it, not the file edited meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from engine_helpers import N_EVENTS, Backend, CliOutcome, ConfigWriter, write_events

FIXED_SPACE = """
search_space = {"batch_size": 256, "num_layers": 1, "units": 8, "learning_rate": 0.005, "dropout": 0.0}
"""


def bad_events(tmp_path: Path, fault: str) -> Path:
    """A copy of the suite's events with one fault."""
    path = write_events(tmp_path / f"{fault}.parquet", n=600 if fault != "few_events" else 4)
    frame = pd.read_parquet(path)
    if fault == "negative_weights":
        frame["Weight"] = -frame["Weight"]
    elif fault == "few_events":
        frame["target"] = [0, 1, 0, 1]
    frame.to_parquet(path, index=False)
    return path


#: fault -> (run-config values, a piece of the one error line).
CASES = {
    "unknown_variable": ({"input_vars": ["pt", "eta", "mass", "ptt"]}, "'ptt'"),
    "negative_weights": ({}, "a positive sum of weights"),
    "few_events": (
        {
            "perform_main_hyperopt": False,
            "crossvalidation_for_fixed_hps": True,
            "use_testing_dataset": False,
            "validation_fraction": 0.2,
        },
        "at least as many events as folds (5)",
    ),
}


@pytest.mark.parametrize("fault", sorted(CASES))
def test_bad_data_leave_no_output_folder(
    tmp_path: Path, lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], fault: str
) -> None:
    values, expected = CASES[fault]
    config = write_config("Lightning", inputs_file=str(bad_events(tmp_path, fault)), extra=FIXED_SPACE, **values)

    outcome = optima_run(config)

    assert outcome.exit_code == 2, outcome.describe()
    errors = [line for line in outcome.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, outcome.output
    assert expected in outcome.output.partition("error: ")[2], outcome.output
    assert "Traceback" not in outcome.output
    assert not (tmp_path / "out").exists(), sorted(p.name for p in (tmp_path / "out").rglob("*"))


@pytest.mark.slow
def test_the_rerun_after_fixing_the_data_needs_nothing_else_and_plots_only_into_its_own_folder(
    tmp_path: Path,
    lightning: Backend,
    write_config: ConfigWriter,
    optima_run: Callable[..., CliOutcome],
    events_file: Path,
) -> None:
    pytest.importorskip("optima_plots")
    settings = {"perform_main_hyperopt": False, "max_epochs": 2, "produce_inputs_plots": True}
    broken_data = str(bad_events(tmp_path, "negative_weights"))
    broken = write_config("Lightning", inputs_file=broken_data, extra=FIXED_SPACE, **settings)
    assert optima_run(broken).exit_code == 2

    fixed = write_config("Lightning", inputs_file=str(events_file), extra=FIXED_SPACE, **settings)
    outcome = optima_run(fixed)
    assert outcome.exit_code == 0, outcome.describe()
    folder = tmp_path / "out" / "fixedHPs_e2e"
    plots = {p: p.stat().st_mtime_ns for p in (folder / "inputs").rglob("*") if p.is_file()}
    assert plots, "the input plots were not drawn"
    assert f"loaded {N_EVENTS} of {N_EVENTS} events" in (folder / "optima.log").read_text()  # logged before it existed

    again = optima_run(fixed)  # refused: the folder holds results; its plots are left as they were
    assert again.exit_code == 2 and "already holds the results of a run" in again.output, again.describe()
    assert {p: p.stat().st_mtime_ns for p in (folder / "inputs").rglob("*") if p.is_file()} == plots


def test_optima_check_data_loads_and_checks_the_inputs(
    tmp_path: Path, lightning: Backend, write_config: ConfigWriter
) -> None:
    from click.testing import CliRunner

    from optima_core.cli import cli

    good = write_config("Lightning")
    outcome = CliRunner().invoke(cli, ["check", str(good), "--data"])
    assert outcome.exit_code == 0, outcome.output
    assert "single split: training 1200, validation 1200, testing 600" in outcome.output
    assert "cross-validation, 2 folds; fold 0: training 1200, validation 1200, testing 600" in outcome.output

    bad = write_config("Lightning", name="bad.py", inputs_file=str(bad_events(tmp_path, "negative_weights")))
    assert CliRunner().invoke(cli, ["check", str(bad)]).exit_code == 0  # without --data the files are not read
    outcome = CliRunner().invoke(cli, ["check", str(bad), "--data"])
    assert outcome.exit_code == 2, outcome.output
    assert "a positive sum of weights" in outcome.output and "Traceback" not in outcome.output
    assert not (tmp_path / "out").exists()


#: A run-config that edits its own file as soon as it has been read (as a user editing it during the run would):
#: the trials must still compute ``marker`` with the value the run started with (issue 13, defect 10).
SELF_EDITING = """
MARKER = 1.0

def marker(input_batch, y_pred_batch):
    return MARKER

custom_metrics = [("marker", marker)]

import os as _os
import pathlib as _pathlib
_file = _pathlib.Path(__file__)
# Every process that executes this text edits the file; replaced atomically, so that one reading it while another
# writes never reads (and writes back) an empty file.
_edited = _file.with_name(f"{_file.name}.{_os.getpid()}.tmp")
_edited.write_text(_file.read_text().replace("MARKER = 1.0", "MARKER = 2.0"))
_edited.replace(_file)
"""


@pytest.mark.slow
def test_trials_run_the_run_config_as_the_run_read_it_not_the_edited_file(
    tmp_path: Path, lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome]
) -> None:
    config = write_config("Lightning", extra=FIXED_SPACE + SELF_EDITING, perform_main_hyperopt=False, max_epochs=2)
    outcome = optima_run(config)
    assert outcome.exit_code == 0, outcome.describe()
    assert "MARKER = 2.0" in config.read_text()  # the file did change during the run
    folder = tmp_path / "out" / "fixedHPs_e2e"
    assert "MARKER = 1.0" in (folder / "run_config.py").read_text()
    histories = sorted((folder / "models").glob("model*_history.csv"))
    assert histories
    for path in histories:
        assert set(pd.read_csv(path)["val_marker"]) == {1.0}, path
