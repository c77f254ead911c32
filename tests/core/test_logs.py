"""What the console and ``optima.log`` show of OPTIMA's and other libraries' log records, by verbosity."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from optima_core.logs import HELD_RECORDS, configure_console, hold_for_file, log_to_file, stop_logging


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    yield
    stop_logging()


def emit() -> None:
    logging.getLogger("optima.inputs").debug("optima debug")
    logging.getLogger("optima.inputs").info("optima info")
    logging.getLogger("optima_lightning.backend").warning("optima warning")
    logging.getLogger("filelock").debug("library debug")
    logging.getLogger("filelock").info("library info")
    logging.getLogger("filelock").warning("library warning")


@pytest.mark.parametrize(
    ("verbosity", "shown"),
    [
        (-1, ["warning: optima warning", "warning: library warning"]),
        (0, ["optima info", "warning: optima warning", "warning: library warning"]),
        (1, ["optima debug", "optima info", "warning: optima warning", "warning: library warning"]),
    ],
    ids=["quiet", "default", "verbose"],
)
def test_the_console_shows_optima_from_its_level_and_libraries_from_warning(
    verbosity: int, shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_console(verbosity)
    emit()
    assert capsys.readouterr().err.splitlines() == shown


def test_the_log_file_holds_optima_from_debug_and_libraries_from_info(tmp_path: Path) -> None:
    configure_console(-1)
    path = log_to_file(tmp_path)
    emit()
    stop_logging()  # closes the file
    lines = path.read_text().splitlines()
    assert path == tmp_path / "optima.log"
    assert [line.split(": ", 1)[1] for line in lines] == [
        "optima debug",
        "optima info",
        "optima warning",
        "library info",
        "library warning",
    ]
    assert "INFO    optima.inputs: optima info" in lines[1]


def test_a_second_run_in_the_process_logs_to_its_own_file_only(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    log_to_file(first)
    logging.getLogger("optima.inputs").info("run 1")
    log_to_file(second)
    logging.getLogger("optima.inputs").info("run 2")
    stop_logging()
    assert "run 1" in (first / "optima.log").read_text() and "run 2" not in (first / "optima.log").read_text()
    assert "run 2" in (second / "optima.log").read_text()
    assert not [h for h in logging.getLogger().handlers if (h.get_name() or "").startswith("optima.")]


@pytest.mark.parametrize("verbosity", [-1, 0, 1], ids=["quiet", "default", "verbose"])
def test_progress_lines_are_printed_once_and_kept_in_optima_log(
    verbosity: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optima_core.logs import say

    configure_console(verbosity)
    log_file = log_to_file(tmp_path)
    say("[main_hyperopt] 4 trials, up to 2 at once")
    captured = capsys.readouterr()
    assert captured.out == "[main_hyperopt] 4 trials, up to 2 at once\n"
    assert "4 trials" not in captured.err
    stop_logging()
    assert "optima.progress: [main_hyperopt] 4 trials, up to 2 at once" in log_file.read_text()


def test_records_before_the_output_folder_exists_are_written_to_its_log_first(tmp_path: Path) -> None:
    """The inputs are loaded before the run's folder exists (issue 13): their log lines still reach optima.log."""
    hold_for_file()
    emit()
    path = log_to_file(tmp_path)
    logging.getLogger("optima.inputs").info("after")
    stop_logging()
    messages = [line.split(": ", 1)[1] for line in path.read_text().splitlines()]
    assert messages == ["optima debug", "optima info", "optima warning", "library info", "library warning", "after"]


def test_held_records_are_bounded_when_no_log_file_follows(tmp_path: Path) -> None:
    hold_for_file()
    for index in range(HELD_RECORDS + 5):
        logging.getLogger("optima.inputs").info("record %d", index)
    path = log_to_file(tmp_path)
    stop_logging()
    lines = path.read_text().splitlines()
    assert len(lines) == HELD_RECORDS and lines[-1].endswith(f"record {HELD_RECORDS + 4}")
