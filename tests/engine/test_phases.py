"""Phase times of a run in ``optima_run.json`` and ``optima.log``; work moved off the critical path (issue 14).

The recorder, the background thread of the input plots and the background start of Ray are checked on their own
(fast); one real ``optima run`` (a subprocess, so that its imports are its own) checks the phases it records, the
input plots drawn in the background, and that the driver never imported the frameworks (models are trained and
evaluated in Ray workers).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import SEARCH_SPACE, VARIABLES, write_events

from optima_core.engine.background import BackgroundTask
from optima_core.engine.phases import PHASES_KEY, PhaseRecorder, ShutDownClock, record_start_up

# -- the recorder ------------------------------------------------------------------------------------------------------


def _manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "optima_run.json").read_text()))


def test_phases_before_the_folder_exists_are_written_once_it_does(tmp_path: Path) -> None:
    (tmp_path / "optima_run.json").write_text(json.dumps({"optima_version": "x", "config_sha256": "abc"}))
    recorder = PhaseRecorder()
    record_start_up(recorder)
    with recorder.phase("inputs"):
        pass
    assert PHASES_KEY not in _manifest(tmp_path)

    recorder.attach(tmp_path)
    written = _manifest(tmp_path)
    assert written["config_sha256"] == "abc"  # the rest of the manifest is kept
    assert [p["phase"] for p in written[PHASES_KEY]] == ["start-up", "inputs"]
    assert written[PHASES_KEY][0]["stage"] is None and written[PHASES_KEY][0]["seconds"] > 0

    with pytest.raises(ValueError, match="boom"), recorder.phase("hpo", "main_hyperopt"):
        raise ValueError("boom")  # a phase that fails is still recorded
    done = recorder.clock("selection", "main_hyperopt")
    done()
    phases = _manifest(tmp_path)[PHASES_KEY]
    assert phases[2:] == [
        {"phase": "hpo", "stage": "main_hyperopt", "seconds": phases[2]["seconds"]},
        {"phase": "selection", "stage": "main_hyperopt", "seconds": phases[3]["seconds"]},
    ]
    assert not list(tmp_path.glob(".optima_run.json.*"))  # no temporary file left behind

    recorder.detach()
    ShutDownClock(recorder).stop()  # never started: nothing
    with recorder.phase("shut-down"):
        pass
    assert len(_manifest(tmp_path)[PHASES_KEY]) == 4  # detached: the folder is not written any more
    assert [p["phase"] for p in recorder.records][-1] == "shut-down"


def test_each_phase_is_said_in_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="optima_core.engine.phases")
    recorder = PhaseRecorder()
    record_start_up(recorder)
    recorder.record("inputs", None, 1.5)
    assert [r.getMessage() for r in caplog.records] == ["phase inputs took 1.50 s"]
    recorder.attach(tmp_path)  # no manifest here: nothing is written, the start-up is said now
    recorder.record("hpo", "main_hyperopt", 2.0)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[1].startswith("phase start-up took ") and messages[2] == "phase hpo [main_hyperopt] took 2.00 s"
    assert not (tmp_path / "optima_run.json").exists()


def test_the_start_up_of_an_api_run_counts_from_the_call_not_from_the_start_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from optima_core import api
    from optima_core.api import runner
    from optima_core.engine import phases

    monkeypatch.setattr(phases, "process_age_s", lambda: 3600.0)  # a notebook's kernel, started an hour ago
    from_the_command_line = PhaseRecorder()
    record_start_up(from_the_command_line)  # `optima run`: its process was started for the run
    assert from_the_command_line.records[0]["seconds"] == 3600.0

    through_the_api = PhaseRecorder()
    monkeypatch.setattr(runner, "execute", lambda config, options: record_start_up(through_the_api))
    api.run({"perform_main_hyperopt": True})
    assert [p["phase"] for p in through_the_api.records] == ["start-up"]
    assert 0 <= through_the_api.records[0]["seconds"] < 60, through_the_api.records

    after_it = PhaseRecorder()
    record_start_up(after_it)  # a later `optima run` in the same process counts from the process start again
    assert after_it.records[0]["seconds"] == 3600.0


# -- work in the background ------------------------------------------------------------------------------------------


def test_an_error_of_background_work_is_raised_where_it_is_joined() -> None:
    task = BackgroundTask("fails", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        task.join()
    assert BackgroundTask("works", lambda: 42).join() == 42


def test_input_plots_are_drawn_in_the_background_and_their_error_is_not_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from optima_core.engine.context import RunContext

    context = RunContext.__new__(RunContext)  # only the phases and the plots' task are used here
    context.phases = PhaseRecorder()
    context._background_figures = []
    release = threading.Event()
    drawn: list[str] = []

    def draw() -> None:
        release.wait(10)
        drawn.append(threading.current_thread().name)

    context.start_input_plots(draw)
    assert drawn == []  # start_input_plots returned before the plots were drawn
    release.set()
    context.finish_background_figures()
    assert drawn == ["optima-input-plots"]
    assert [p["phase"] for p in context.phases.records] == ["input plots"]

    def fail() -> None:
        raise OSError("disk full")

    context.start_input_plots(fail)
    with pytest.raises(OSError, match="disk full"):
        context.finish_background_figures()
    context.start_input_plots(fail)
    context.finish_background_figures(raise_error=False)  # a run that failed already: said, not raised
    assert "the input plots failed: disk full" in caplog.text


def test_ray_starts_in_a_thread_that_lives_until_the_session_ends() -> None:
    """Ray's GCS and raylet die with the thread that started them (PR_SET_PDEATHSIG), so it must outlive the run."""
    from optima_core.engine.ray_session import ray_session_in_background

    events: list[tuple[str, str]] = []

    @contextmanager
    def session() -> Iterator[str]:
        events.append(("enter", threading.current_thread().name))
        yield "ray"
        events.append(("exit", threading.current_thread().name))

    with ray_session_in_background(session()) as wait:
        assert wait() == "ray"
        starter = [t for t in threading.enumerate() if t.name == "optima-ray-start"]
        assert len(starter) == 1 and starter[0].is_alive()
    assert events == [("enter", "optima-ray-start"), ("exit", "MainThread")]
    assert not starter[0].is_alive()

    @contextmanager
    def broken() -> Iterator[str]:
        raise RuntimeError("no GCS")
        yield "never"

    with pytest.raises(RuntimeError, match="no GCS"), ray_session_in_background(broken()) as wait:
        wait()


# -- one real run ----------------------------------------------------------------------------------------------------

DRIVER = """
import json, sys
import optima_core.engine.side_process as side
from optima_core.cli import cli
drawn, start = [], side.call_in_side_process
side.call_in_side_process = lambda reference, *args, **kwargs: drawn.append(reference) or start(reference, *args, **kwargs)
try:
    cli(["run", sys.argv[1], "--cpus", "2"], standalone_mode=False)
finally:
    heavy = sorted(m for m in ("torch", "lightning", "tensorflow", "keras", "mlflow") if m in sys.modules)
    print("DRIVER-MODULES " + json.dumps(heavy))
    print("INPUT-PLOTS " + json.dumps(drawn))
"""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("optima_lightning")
    folder = tmp_path_factory.mktemp("phases")
    events = write_events(folder / "events.parquet")
    source = f"""
    perform_variable_opt = False
    perform_main_hyperopt = True
    perform_PBT_hyperopt = False
    model_type = "Lightning"
    inputs_file = {str(events)!r}
    input_vars = {VARIABLES!r}
    input_scaling = {{"pt": ("log10", (1.0, 0.0))}}
    output_path = {str(folder / "out")!r}
    output_name = "phases"
    validation_fraction = 0.4
    test_fraction = 0.2
    max_epochs = 2
    num_samples_main = 2
    ASHA_grace_period = 1
    random_seed = 42
    """
    config = folder / "run_config.py"
    config.write_text(textwrap.dedent(source) + textwrap.dedent(SEARCH_SPACE))
    process = subprocess.run(
        [sys.executable, "-c", DRIVER, str(config)], capture_output=True, text=True, timeout=800, check=False
    )
    assert process.returncode == 0, process.stdout + process.stderr
    modules = next(line for line in process.stdout.splitlines() if line.startswith("DRIVER-MODULES "))
    plots = next(line for line in process.stdout.splitlines() if line.startswith("INPUT-PLOTS "))
    return {
        "output": folder / "out" / "main_phases",
        "driver_modules": json.loads(modules.split(" ", 1)[1]),
        "side_process_calls": json.loads(plots.split(" ", 1)[1]),
    }


@pytest.mark.slow
@pytest.mark.lightning
def test_a_run_records_where_its_time_went(finished_run: dict[str, Any]) -> None:
    output = finished_run["output"]
    phases = _manifest(output)[PHASES_KEY]
    named = {(p["phase"], p["stage"]) for p in phases}
    expected = {
        ("start-up", None),
        ("inputs", None),
        ("ray start-up", None),
        ("input plots", None),
        ("hpo", "main_hyperopt"),
        ("selection", "main_hyperopt"),
        ("search plots", "main_hyperopt"),
        ("evaluation best_value", "main_hyperopt"),
        ("shut-down", None),
    }
    assert expected <= named, named
    assert any(p["phase"].startswith("crossvalidation best_value") and p["stage"] == "main_hyperopt" for p in phases)
    assert all(isinstance(p["seconds"], float) and p["seconds"] >= 0 for p in phases)
    assert next(p for p in phases if p["phase"] == "hpo")["seconds"] > 1.0  # two real trainings
    log = (output / "optima.log").read_text()
    for phase in phases:
        where = f" [{phase['stage']}]" if phase["stage"] else ""
        assert f"phase {phase['phase']}{where} took {phase['seconds']:.2f} s" in log


@pytest.mark.slow
@pytest.mark.lightning
def test_the_driver_leaves_training_evaluation_and_onnx_export_to_the_workers(finished_run: dict[str, Any]) -> None:
    output = finished_run["output"]
    # neither torch nor Lightning was imported by the driver: the workers also exported the ONNX graphs; nor MLflow
    # (installed here: the `mlflow` extra), which Tune imported only to count callbacks for its telemetry
    assert finished_run["driver_modules"] == []
    models = output / "main_hyperopt" / "crossvalidation" / "best_value"
    bundle = json.loads((models / "onnx" / "models.json").read_text())
    assert sorted(m["file"] for m in bundle["models"]) == [f"model_fold{k}.onnx" for k in range(len(bundle["models"]))]
    assert all((models / "onnx" / m["file"]).is_file() for m in bundle["models"]) and bundle["k"] >= 2
    evaluation = json.loads((models / "evaluation.json").read_text())
    assert 0.5 < evaluation["average"]["test"]["roc_auc"]["value"] <= 1.0
    assert not list(models.glob("*.optima_evaluation.pkl"))
    assert list((output / "inputs").glob("*.png"))  # the input plots, drawn in the background
    # in low-priority side processes, not the driver: the input plots once, though the run loads its inputs for
    # trials and folds, and the search plots of the stage
    assert finished_run["side_process_calls"] == [
        "optima_plots.plugin:draw_labelled",
        "optima_core.engine.side_process:call_each",
    ]
    assert (output / "main_hyperopt" / "metric_histories.png").is_file()
    assert (output / "main_hyperopt" / "search_overview.pdf").is_file()


def _json_printed_by(code: str) -> Any:
    """The JSON value on the last line ``code`` prints, run in a fresh interpreter (its imports are its own)."""
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_the_modules_imported_while_ray_starts_are_the_stages_and_no_framework() -> None:
    """What the run's main thread imports while it waits for Ray: Ray Tune and Optuna, never torch or TensorFlow."""
    code = (
        "import json, sys\n"
        "from optima_core.engine.driver_imports import STAGE_MODULES, import_stage_modules\n"
        "import_stage_modules()\n"
        "print(json.dumps({'missing': [m for m in STAGE_MODULES if m not in sys.modules],"
        " 'frameworks': sorted(m for m in ('torch', 'tensorflow', 'keras', 'lightning') if m in sys.modules)}))\n"
    )
    assert _json_printed_by(code) == {"missing": [], "frameworks": []}


def test_opening_the_study_and_the_best_fit_import_nothing_after_the_wait_for_ray(tmp_path: Path) -> None:
    """Optuna's study storage (at the start of the optimization) and the curve fit of best-fit selection (between
    the optimization and the cross-validation) find their modules imported while Ray started."""
    code = (
        "import json, sys\n"
        "from optima_core.engine.driver_imports import import_stage_modules\n"
        "import_stage_modules()\n"
        "before = set(sys.modules)\n"
        "import numpy as np, optuna, pandas as pd\n"
        "from optima_core.builtin.fit import fit_history\n"
        f"optuna.storages.RDBStorage('sqlite:///{tmp_path / 'study.db'}')\n"
        "epochs = np.arange(1.0, 16.0)\n"
        "frame = pd.DataFrame({'training_iteration': epochs, 'loss': 1 / epochs + 0.01 * epochs})\n"
        "assert fit_history(frame, 'loss') is not None\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    imported = _json_printed_by(code)
    assert not {"scipy", "sqlalchemy", "alembic"} & set(imported), imported
