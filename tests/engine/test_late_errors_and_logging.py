"""After Ray started: a user error still ends ``optima run`` with one named line, and the inputs' log is shown.

The console shows OPTIMA's INFO log lines (``-q`` hides them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import N_EVENTS, Backend, CliOutcome, ConfigWriter

pytestmark = [pytest.mark.slow, pytest.mark.lightning]

#: A run-config hook returning something the stages cannot use; found only when the stage asks for the inputs.
WRONG_EXPERIMENT_INPUTS = """
def get_experiment_inputs(run_config, input_handler, output_dir, inputs_for_crossvalidation, disable_printing):
    return "train and validation data"
"""

#: The built-in loading runs (and logs), then the run-config's splitting returns something unusable.
WRONG_SPLIT = """
def get_training_data(dataset, splitting_cond, do_kfold, shuffle, fixed_test_dataset, disable_printing):
    return 42
"""

#: A custom metric breaking its contract ("return a number or a boolean"): it fails inside every trial.
LIST_METRIC = """
def spread(input_batch, y_pred_batch):
    return [0.1, 0.2]

custom_metrics = [("spread", spread)]
"""

LOADED = f"loaded {N_EVENTS} of {N_EVENTS} events"


def test_a_user_error_found_after_ray_started_is_one_line_without_traceback(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome]
) -> None:
    outcome = optima_run(write_config("Lightning", extra=WRONG_EXPERIMENT_INPUTS))
    assert outcome.exit_code == 2, outcome.describe()
    assert "error: get_experiment_inputs must return (train, val) or (train, val, test); got str" in outcome.output
    assert "Traceback" not in outcome.output


def test_a_user_error_inside_every_trial_is_named_in_the_one_line(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome]
) -> None:
    outcome = optima_run(write_config("Lightning", extra=LIST_METRIC, num_samples_main=2))
    assert outcome.exit_code == 2, outcome.describe()
    (line,) = [line for line in outcome.output.splitlines() if line.startswith("error: ")]
    assert line == (
        "error: [main_hyperopt] none of the 2 trials reported a result; the trials failed with: "
        "metric 'spread' returned list of shape (2,); expected a number"
    )
    assert "Traceback" not in outcome.output.partition("error: ")[2]


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_the_inputs_info_lines_reach_the_console_and_optima_log(
    quiet: bool,
    lightning: Backend,
    write_config: ConfigWriter,
    optima_run: Callable[..., CliOutcome],
    tmp_path: Path,
) -> None:
    outcome = optima_run(write_config("Lightning", extra=WRONG_SPLIT), *(["-q"] if quiet else []))
    assert outcome.exit_code == 2, outcome.describe()
    assert "The dataset returned by get_training_data" in outcome.output
    assert (LOADED in outcome.output) is not quiet
    assert not (tmp_path / "out").exists()  # a data error leaves no output folder (a successful run's optima.log
    # keeps these lines: tests/engine/test_run_start.py)
