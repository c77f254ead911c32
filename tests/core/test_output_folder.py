"""The output-folder guard (issue 13, defects 6 and 12): one run per folder, even when started at the same instant.

Runs are real processes (forked) that meet at a barrier and then take the folder at once.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import traceback
from pathlib import Path

import pytest

from optima_core.config.loader import RunConfig, load_run_config
from optima_core.config.problems import ConfigError
from optima_core.engine.output import MANIFEST, holding_output_folder, prepare_output_folder

FORK = multiprocessing.get_context("fork")


def run_config(tmp_path: Path, name: str = "run_config.py", extra: str = "") -> RunConfig:
    path = tmp_path / name
    path.write_text(f"output_path = {str(tmp_path / 'out')!r}\noutput_name = 'race'\nuse_exact_name = True\n{extra}")
    return load_run_config(path)


def _take(config_path: str, start: object, done: object, results: object) -> None:
    """In a child process: wait for the others, take the folder, report, and stay alive until all have tried."""
    try:
        config = load_run_config(config_path)
        start.wait(timeout=60)  # type: ignore[attr-defined]
        try:
            prepare_output_folder(config, resume=False)
            outcome = "taken"
        except ConfigError as error:
            outcome = "refused: " + str(error)
        except Exception:  # noqa: BLE001 - the test reports any other failure
            outcome = "crashed: " + traceback.format_exc()
        results.put(outcome)  # type: ignore[attr-defined]
        done.wait(timeout=60)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        results.put("crashed: " + traceback.format_exc())  # type: ignore[attr-defined]


def race(config: RunConfig, runs: int) -> list[str]:
    start, done, results = FORK.Barrier(runs), FORK.Barrier(runs), FORK.Queue()
    children = [FORK.Process(target=_take, args=(str(config.path), start, done, results)) for _ in range(runs)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
    return outcomes


def test_runs_started_at_the_same_instant_never_share_the_folder(tmp_path: Path) -> None:
    for round_ in range(8):
        base = tmp_path / f"round{round_}"
        base.mkdir()
        outcomes = race(run_config(base), runs=4)
        taken = [o for o in outcomes if o == "taken"]
        assert len(taken) == 1, outcomes
        others = [o for o in outcomes if o != "taken"]
        assert all(o.startswith("refused: ") and "in use by another OPTIMA run" in o for o in others), others
        assert json.loads((base / "out" / "race" / MANIFEST).read_text())["config_sha256"]


def test_a_run_holds_the_folder_while_it_lives_and_not_after(tmp_path: Path) -> None:
    config = run_config(tmp_path)
    with holding_output_folder(prepare_output_folder(config, resume=False)) as folder:
        child = race_one(config)
        assert "in use by another OPTIMA run" in child, child
    assert race_one(config) == "taken"  # the first run ended at start-up: no results, so the folder is free again
    assert (folder / "run_config.py").is_file()


def race_one(config: RunConfig) -> str:
    return race(config, runs=1)[0]


def test_a_folder_not_written_by_optima_is_never_written_into(tmp_path: Path) -> None:
    config = run_config(tmp_path)
    folder = tmp_path / "out" / "race"
    folder.mkdir(parents=True)
    (folder / "model_crossval_0.h5").write_bytes(b"from the original tool")
    with pytest.raises(ConfigError, match=r"holds no optima_run\.json, so it was not written by OPTIMA"):
        prepare_output_folder(config, resume=False)
    assert sorted(p.name for p in folder.iterdir()) == ["model_crossval_0.h5"]
    assert (folder / "model_crossval_0.h5").read_bytes() == b"from the original tool"


def test_a_folder_whose_run_stopped_before_its_first_stage_is_reused_with_a_note(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with holding_output_folder(prepare_output_folder(run_config(tmp_path), resume=False)) as folder:
        (folder / "optima.log").write_text("error: the data file cannot be read\n")
        (folder / "inputs").mkdir()  # input plots drawn before the data error
    fixed = run_config(tmp_path, "fixed_config.py", extra="max_epochs = 7\n")  # the config changed: another SHA-256
    with caplog.at_level(logging.WARNING), holding_output_folder(prepare_output_folder(fixed, resume=False)):
        pass
    assert "reusing the output folder" in caplog.text
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["config"] == str(fixed.path)
    assert (folder / "run_config.py").read_text() == fixed.path.read_text()


def test_a_folder_with_results_needs_resume_and_the_same_config(tmp_path: Path) -> None:
    config = run_config(tmp_path)
    with holding_output_folder(prepare_output_folder(config, resume=False)) as folder:
        (folder / "main_hyperopt").mkdir()
    with pytest.raises(ConfigError, match=r"already holds the results of a run \(main_hyperopt\).*--resume"):
        prepare_output_folder(config, resume=False)
    with holding_output_folder(prepare_output_folder(config, resume=True)):
        pass
    changed = run_config(tmp_path, "changed.py", extra="max_epochs = 3\n")
    with pytest.raises(ConfigError, match="different run-config"):
        prepare_output_folder(changed, resume=True)


def test_resume_without_a_run_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing to resume"):
        prepare_output_folder(run_config(tmp_path), resume=True)
    assert not (tmp_path / "out" / "race").exists()


def test_an_unreadable_manifest_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "race"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text('{"optima_version": ')
    with pytest.raises(ConfigError, match=r"unreadable optima_run\.json"):
        prepare_output_folder(run_config(tmp_path), resume=True)
