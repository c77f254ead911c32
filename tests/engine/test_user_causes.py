"""Mistakes and faults in the user's code or settings end ``optima run`` with one ``error:`` line, no traceback
(issue 13, defect 9): a run-config hook that raises, an ``output_path`` that cannot be written, every trial failing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import Backend, CliOutcome, ConfigWriter

#: A run-config reading its events from a file that is not there (line 2 of the appended source is the open()).
MISSING_FILE_INPUTS = """
def get_inputs(run_config, nevts, input_vars_list, disable_printing=False):
    return open(run_config.inputs_file + ".missing").read()
"""

#: A custom metric that fails on every call: every trial fails with it.
FAILING_METRIC = """
def spread(input_batch, y_pred_batch):
    return 1 / 0

custom_metrics = [("spread", spread)]
"""


def error_lines(outcome: CliOutcome) -> list[str]:
    return [line for line in outcome.output.splitlines() if line.startswith("error: ")]


@pytest.mark.slow
def test_a_raising_run_config_hook_is_one_line_naming_the_hook_the_error_and_the_line(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], events_file: Path
) -> None:
    config = write_config(lightning.name, extra=MISSING_FILE_INPUTS)
    line = config.read_text().splitlines().index('    return open(run_config.inputs_file + ".missing").read()') + 1
    outcome = optima_run(config)
    assert outcome.exit_code == 2, outcome.describe()
    assert error_lines(outcome) == [
        "error: run-config hook 'get_inputs' raised FileNotFoundError: [Errno 2] No such file or directory: "
        f"'{events_file}.missing' ({config}:{line})"
    ], outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.parametrize("where", ["under a file", "under /proc"])
def test_an_output_path_that_cannot_be_created_is_refused_in_one_message(
    where: str,
    lightning: Backend,
    write_config: ConfigWriter,
    optima_run: Callable[..., CliOutcome],
    tmp_path: Path,
) -> None:
    if where == "under a file":
        (tmp_path / "a_file").write_text("")
        output_path = str(tmp_path / "a_file" / "out")
    else:
        output_path = "/proc/optima-no-such-process/out"
    outcome = optima_run(write_config(lightning.name, output_path=output_path))
    assert outcome.exit_code == 2, outcome.describe()
    # The value itself is shortened in the message when long (a long temp folder); the folder named after it is not.
    assert "output_path = '" in outcome.output, outcome.output
    assert (
        f"expected a folder this user can write to; cannot create or write the output folder {output_path}/"
        in outcome.output
    ), outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.slow
def test_when_every_trial_fails_on_a_bug_the_message_names_the_first_error(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    outcome = optima_run(write_config(lightning.name, extra=FAILING_METRIC, num_samples_main=2))
    assert outcome.exit_code == 2, outcome.describe()
    (line,) = error_lines(outcome)
    assert line.startswith(
        "error: [main_hyperopt] none of the 2 trials reported a result; the first failed with "
        "ZeroDivisionError: division by zero; see the error files under "
    ), outcome.output
