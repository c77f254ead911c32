"""Experiment tracking through Ray Tune callbacks: the run-config parameter ``tune_callbacks`` (a list, or a
function of the stage name) and the plugin hook ``optima_tune_callbacks``, concatenated for every Tuner; for real,
a run logging every trial to MLflow (SQLite store) with its hyperparameters and metric history."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from api_helpers import MLFLOW_EXPERIMENT, ApiRun

from optima_core.config.loader import RunConfig, resolve
from optima_core.config.validation import validate
from optima_core.engine.tune_callbacks import stage_of, tune_callbacks
from optima_core.errors import OptimaUserError, PluginError
from optima_core.hookspecs import hookimpl
from optima_core.plugins.manager import create_plugin_manager

FLAGS = {"perform_variable_opt": False, "perform_main_hyperopt": True, "perform_PBT_hyperopt": False}


def _callback(label: str) -> Any:
    from ray.tune import Callback

    callback = Callback()
    callback.label = label  # type: ignore[attr-defined]
    return callback


def _context(tmp_path: Path, plugin: object | None = None, **values: Any) -> Any:
    manager = create_plugin_manager(load_entry_points=False)
    if plugin is not None:
        manager.pm.register(plugin, name="tracker")
    run_config = RunConfig(resolve({**FLAGS, **values})[0])
    return types.SimpleNamespace(run_config=run_config, manager=manager, hooks=manager.hooks, output=tmp_path)


class _Tracker:
    """A plugin adding one callback to the main HPO only."""

    def __init__(self, result: Any = None) -> None:
        self.stages: list[str] = []
        self.result = result

    @hookimpl
    def optima_tune_callbacks(self, run_config: Any, stage: Any) -> Any:
        self.stages.append(stage)
        if self.result is not None:
            return self.result
        return [_callback(f"plugin:{stage}")] if stage == "main_hyperopt" else None


def test_parameter_then_plugins_for_each_stage(tmp_path: Path) -> None:
    tracker = _Tracker()
    context = _context(tmp_path, tracker, tune_callbacks=lambda stage: [_callback(f"config:{stage}")])
    labels = [c.label for c in tune_callbacks(context, "main_hyperopt")]
    assert labels == ["config:main_hyperopt", "plugin:main_hyperopt"]
    assert [c.label for c in tune_callbacks(context, "PBT")] == ["config:PBT"]
    assert tracker.stages == ["main_hyperopt", "PBT"]

    listed = _context(tmp_path, tune_callbacks=[_callback("a"), _callback("b")])
    assert [c.label for c in tune_callbacks(listed, "fixed")] == ["a", "b"]
    assert tune_callbacks(_context(tmp_path), "main_hyperopt") == []


def test_the_stage_is_the_folder_of_the_tune_experiment(tmp_path: Path) -> None:
    context = _context(tmp_path)
    assert stage_of(context, tmp_path / "main_hyperopt" / "tune") == "main_hyperopt"
    assert stage_of(context, tmp_path / "PBT" / "crossvalidation" / "tune") == "PBT"
    assert stage_of(context, tmp_path / "variable_selection" / "retrain" / "iteration_1" / "tune") == (
        "variable_selection"
    )
    assert stage_of(context, tmp_path / "tune") == "fixed"  # training with fixed hyperparameters


def test_bad_callbacks_name_where_they_come_from(tmp_path: Path) -> None:
    returns_a_string = _context(tmp_path, tune_callbacks=lambda stage: "mlflow")
    with pytest.raises(OptimaUserError, match=r"tune_callbacks\('PBT'\) = 'mlflow': expected a list of ray.tune"):
        tune_callbacks(returns_a_string, "PBT")
    bad_plugin = _context(tmp_path, _Tracker(result=[object()]))
    with pytest.raises(PluginError, match=r"optima_tune_callbacks\(stage='PBT'\) of the plugins tracker = \[<object"):
        tune_callbacks(bad_plugin, "PBT")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("mlflow", "tune_callbacks = 'mlflow': expected a list of ray.tune.Callback instances"),
        ([42], "42 is not one"),
        (["MLflowLoggerCallback"], "'MLflowLoggerCallback' is not one"),
    ],
)
def test_validation_refuses_what_is_not_a_list_of_callbacks_or_a_function(value: Any, fragment: str) -> None:
    problems = [str(p) for p in validate(RunConfig(resolve({**FLAGS, "tune_callbacks": value})[0])).problems]
    assert any(fragment in p for p in problems), problems


def test_validation_refuses_a_callback_class_and_accepts_instances_and_functions() -> None:
    from ray.tune import Callback
    from ray.tune.logger import CSVLoggerCallback

    def problems(value: Any) -> list[str]:
        report = validate(RunConfig(resolve({**FLAGS, "tune_callbacks": value})[0]))
        return [str(p) for p in report.problems if p.parameter == "tune_callbacks"]

    assert any("the class CSVLoggerCallback (not an instance)" in p for p in problems([CSVLoggerCallback]))
    assert problems([CSVLoggerCallback(), Callback()]) == []
    assert problems(lambda stage: []) == []


def test_a_function_in_a_run_config_file_is_the_parameter(tmp_path: Path) -> None:
    from optima_core.config.loader import load_run_config

    path = tmp_path / "run_config.py"
    path.write_text(
        "perform_variable_opt = False\nperform_main_hyperopt = True\nperform_PBT_hyperopt = False\n"
        "def tune_callbacks(stage):\n    return []\n"
    )
    run_config = load_run_config(path)
    assert run_config.sources["tune_callbacks"] == "run-config"
    assert run_config.tune_callbacks("main_hyperopt") == []


# ---------------------------------------------------------------------------------------------------------------
# For real: every Tune trial of the run is one MLflow run with its hyperparameters and metric history
# ---------------------------------------------------------------------------------------------------------------


def _tune_trials(folder: Path) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
    """Every trial Tune ran under ``folder``: trial id -> (its config, its reported results)."""
    trials = {}
    for result_file in folder.rglob("result.json"):
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line.strip()]
        if rows:
            params = json.loads((result_file.parent / "params.json").read_text())
            trials[rows[0]["trial_id"]] = (params, pd.DataFrame(rows))
    return trials


@pytest.mark.slow
@pytest.mark.lightning
def test_mlflow_gets_one_run_per_trial_with_its_hyperparameters_and_metric_history(api_run: ApiRun) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    assert api_run.mlflow_uri is not None
    client = MlflowClient(tracking_uri=api_run.mlflow_uri)
    experiment = client.get_experiment_by_name(MLFLOW_EXPERIMENT)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    stage_folder = api_run.summary.stage("main_hyperopt").folder
    trials = _tune_trials(stage_folder)  # the optimization's trials and the cross-validation's folds
    searched = _tune_trials(stage_folder / "tune")
    assert len(searched) == api_run.config["num_samples_main"] and len(trials) > len(searched)
    by_trial = {}
    for run in runs:
        trial_id = next(t for t in trials if run.data.tags["trial_name"].endswith(t))
        assert trial_id not in by_trial, f"two MLflow runs for trial {trial_id}"
        by_trial[trial_id] = run
    assert set(by_trial) == set(trials)
    for trial_id, (config, results) in searched.items():
        run = by_trial[trial_id]
        assert run.info.status == "FINISHED"
        assert float(run.data.params["learning_rate"]) == pytest.approx(config["learning_rate"])
        assert float(run.data.params["dropout"]) == pytest.approx(config["dropout"])
        history = client.get_metric_history(run.info.run_id, "val_loss")
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(list(results["val_loss"]))
