"""Ctrl-C and SIGTERM stop ``optima run`` (issue 13, defect 2): exit 130 / 143 with one line saying how to continue,
no later phase on partial results, and ``--resume`` ends with the selection and models of one and the same trial.

Each run is a real ``optima`` process (signals need one) on the tiny data of ``engine_helpers``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import FOLDS, Backend, ConfigWriter

pytestmark = [pytest.mark.slow, pytest.mark.lightning]

OPTIMA = Path(sys.executable).parent / "optima"
#: Long enough that the run is still in the phase when the signal comes: after the first reported epoch 29 more
#: epochs of the two trials (both run at once on the 2 CPUs) are left in the HPO, as many as with 4 trials of 15
#: epochs, and 24 of the selected trial's folds (best epoch 25) in the cross-validation. With these two trials
#: best-value and best-fit share one cross-validation.
SETTINGS: dict[str, Any] = {
    "num_samples_main": 2,
    "max_epochs": 30,
    "use_ASHAScheduler": False,
    "early_stopping_patience": 100,
}


class Run:
    """An ``optima run`` process in its own session, its output in ``<tmp_path>/<label>.log``."""

    def __init__(self, config: Path, label: str, *arguments: str) -> None:
        self.log_path = config.parent / f"{label}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(OPTIMA), "run", str(config), "--cpus", "2", *arguments],
                cwd=config.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"optima run ended before {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.output}"
            time.sleep(0.2)

    def stop(self, signum: int, timeout: float = 30) -> int:
        """Send ``signum`` to the driver only; its exit status (the run must end within ``timeout`` seconds)."""
        os.kill(self.process.pid, signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail(f"optima run did not stop within {timeout} s of {signal.Signals(signum).name}:\n{self.output}")

    def finish(self, timeout: float = 600) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail(f"optima run did not finish within {timeout} s:\n{self.output}")


def reported(folder: Path) -> bool:
    """Whether a trial below ``folder`` has reported an epoch (its ``result.json`` holds a line).

    Tune copies a trial's ``result.json`` into the stage's folder at its checkpoints and at its end; a short trial
    may show nothing before it ends. The HPO tells its study every epoch: see :func:`hpo_reported`.
    """
    return any(path.stat().st_size > 0 for path in folder.glob("**/result.json"))


def hpo_reported(stage: Path) -> bool:
    """Whether the driver has told the stage's Optuna study an epoch of a trial (written to its database at once)."""
    database = stage / "optuna_study.db"
    if not database.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)) as connection:
            return bool(connection.execute("SELECT COUNT(*) FROM trial_intermediate_values").fetchone()[0])
    except sqlite3.Error:  # created but without its tables yet, or locked by the writer
        return False


def assert_stopped(run: Run, status: int, signal_name: str, exit_code: int) -> None:
    output = run.output
    assert status == exit_code, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: the run was stopped ({signal_name}); what finished is saved. Continue it with: "
        f"optima run {run.process.args[2]} --resume"
    ], output
    assert "Traceback" not in output, output
    assert "Tuner.restore" not in output, output  # Tune's advice does not apply to OPTIMA
    assert not Path(f"/tmp/optima-ray-{run.process.pid}").exists(), "the run's Ray folder was left behind"


def model_configs(folder: Path, suffix: str) -> list[dict[str, Any]]:
    import torch

    models = sorted(folder.glob(f"model_fold*{suffix}"))
    assert len(models) == FOLDS, sorted(p.name for p in folder.iterdir())
    return [
        torch.load(path, map_location="cpu", weights_only=False)["hyper_parameters"]["model_config"] for path in models
    ]


def test_ctrl_c_in_the_hpo_and_in_the_crossvalidation_stops_and_resume_finishes_one_trial(
    lightning: Backend, write_config: ConfigWriter, tmp_path: Path
) -> None:
    config = write_config(lightning.name, **SETTINGS)
    stage = tmp_path / "out" / "main_e2e" / "main_hyperopt"
    crossvalidation = stage / "crossvalidation"

    # Ctrl-C during the HPO: no selection, no cross-validation
    run = Run(config, "hpo")
    run.wait_for(lambda: hpo_reported(stage), "a trial result")
    assert_stopped(run, run.stop(signal.SIGINT), "SIGINT", 130)
    assert not (stage / "selection.json").exists(), run.output
    assert not crossvalidation.exists(), run.output

    # Ctrl-C during the cross-validation: no evaluation
    run = Run(config, "crossvalidation", "--resume")
    run.wait_for(lambda: reported(crossvalidation), "a fold result")
    assert_stopped(run, run.stop(signal.SIGINT), "SIGINT", 130)
    assert not list(crossvalidation.glob("*/evaluation.txt")), run.output

    # --resume: the selection and the cross-validated models are of the same trial
    run = Run(config, "finished", "--resume")
    assert run.finish() == 0, run.output
    selected = json.loads((stage / "selection.json").read_text())["best-value"]
    folder = crossvalidation / "best_value"
    assert (folder / "evaluation.txt").is_file()
    for model_config in model_configs(folder, lightning.suffix):
        for key, value in selected["config"].items():
            assert model_config[key] == pytest.approx(value), (key, model_config, selected)


def test_sigterm_stops_the_run_with_exit_143_and_the_message(
    lightning: Backend, write_config: ConfigWriter, tmp_path: Path
) -> None:
    config = write_config(lightning.name, **SETTINGS)
    stage = tmp_path / "out" / "main_e2e" / "main_hyperopt"
    run = Run(config, "hpo")
    run.wait_for(lambda: hpo_reported(stage), "a trial result")
    assert_stopped(run, run.stop(signal.SIGTERM), "SIGTERM", 143)
    assert not (stage / "selection.json").exists(), run.output
