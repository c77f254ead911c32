"""The Python API: ``run(dict)`` gives the summary ``load_run`` reads back, ``predict`` reproduces the
cross-validation's test outputs per event, and every mistake (options, config, folder, stage, selection, data) is
an ``OptimaUserError`` saying what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from api_helpers import N_EVENTS, N_FOLDS, ApiRun, base_config

from optima_core import api
from optima_core.api.configs import DICT_CONFIG_PATH, dict_to_text, load_config
from optima_core.api.predict import fold_plan
from optima_core.config.loader import RunConfig, resolve
from optima_core.config.problems import ConfigError
from optima_core.errors import OptimaUserError
from optima_core.plugins.manager import create_plugin_manager

# ---------------------------------------------------------------------------------------------------------------
# Options and run-configs: refused before anything expensive starts
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        ({"cpus": "two"}, ["--cpus = 'two': expected an integer"]),
        ({"cpu": 2}, ["option 'cpu'", "did you mean 'cpus'?"]),
        ({"resume": "yes"}, ["--resume = 'yes': expected True or False"]),
        ({"cluster": "custom"}, ["--cluster custom needs --cluster_config"]),
        ({"cpus_per_trial": [1]}, ["--cpus_per_trial = [1]: expected a number"]),
    ],
)
def test_bad_options_are_refused_like_on_the_command_line(options: dict, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        api.run({"perform_main_hyperopt": True}, **options)
    assert str(raised.value).startswith("The command line has")
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_options_get_the_command_lines_defaults() -> None:
    resolved = api.resolve_options({"cpus": 3, "cpus-per-trial": 2})
    assert resolved["cpus"] == 3 and resolved["cpus_per_trial"] == 2.0
    assert resolved["cluster"] == "local" and resolved["gpus"] == 0 and resolved["resume"] is False
    assert set(resolved) == {option.name for option in api.RUN_OPTIONS}


def test_a_dict_config_is_validated_like_a_file(tmp_path: Path) -> None:
    config = base_config(tmp_path, tmp_path / "missing.parquet", max_epoch=10, validation_fraction=1.5)
    del config["perform_PBT_hyperopt"]
    with pytest.raises(ConfigError) as raised:
        api.run(config, cpus=1)
    message = str(raised.value)
    assert message.startswith(f"The run-config '{DICT_CONFIG_PATH}' has")
    assert "max_epoch = 10: expected a known parameter; unknown parameter; did you mean 'max_epochs'?" in message
    assert "perform_PBT_hyperopt" in message
    assert not (tmp_path / "out").exists()


def test_a_dict_config_is_written_as_text_that_gives_the_same_values(tmp_path: Path) -> None:
    from optima_core.builtin.fit import r_squared
    from optima_core.metrics import WeightedAUC

    config = base_config(
        tmp_path,
        tmp_path / "events.parquet",
        max_num_events=np.inf,
        custom_metrics=[("Z", WeightedAUC(signal_class=1))],
        tune_callbacks=lambda stage: [],
        helper=r_squared,
    )
    text = dict_to_text(config)
    assert text == dict_to_text(config), "the same dict must give the same text (the fingerprint of --resume)"
    assert "max_num_events = float('inf')" in text
    assert "importlib.import_module('optima_core.builtin.fit').r_squared" in text
    run_config = load_config(config)
    assert run_config.text == text and run_config.path == DICT_CONFIG_PATH
    for name in ("input_vars", "input_scaling", "search_space", "max_num_events", "eventNums_splitting_N"):
        assert run_config.get(name) == config[name], name
    ((name, metric),) = run_config.custom_metrics
    assert name == "Z" and isinstance(metric, WeightedAUC) and metric.signal_class == 1
    assert run_config.tune_callbacks("main_hyperopt") == []
    assert run_config.helper is r_squared


def test_a_dict_config_refuses_hooks_and_bad_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        dict_to_text({"get_inputs": lambda *a: None, "not a name": 1, "max_epochs": 3})
    message = str(raised.value)
    assert "config['get_inputs']" in message and "is a hook; define it in a run-config file or module" in message
    assert "config['not a name'] = 1: expected a run-config parameter name" in message


def test_a_config_of_another_kind_is_refused() -> None:
    with pytest.raises(OptimaUserError, match="expected the path of a run-config file, an imported run-config"):
        api.run(42)


# ---------------------------------------------------------------------------------------------------------------
# Output folders, stages and selections that are not there
# ---------------------------------------------------------------------------------------------------------------


def test_load_run_refuses_a_missing_folder_and_a_folder_without_a_run(tmp_path: Path) -> None:
    with pytest.raises(OptimaUserError, match=r"the output folder '.*nowhere' does not exist"):
        api.load_run(tmp_path / "nowhere")
    (tmp_path / "results.txt").write_text("not OPTIMA's\n")
    with pytest.raises(OptimaUserError, match=r"holds no OPTIMA run \(no optima_run.json\)"):
        api.load_run(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# The fold rule of predict, on event numbers alone
# ---------------------------------------------------------------------------------------------------------------


def _run_config(**values: object) -> RunConfig:
    settings = {"perform_variable_opt": False, "perform_main_hyperopt": True, "perform_PBT_hyperopt": False, **values}
    return RunConfig(resolve(settings)[0])


@pytest.mark.parametrize("fixed_test", [False, True])
@pytest.mark.parametrize("use_test", [True, False])
def test_each_event_goes_to_the_folds_that_held_it_out(use_test: bool, fixed_test: bool) -> None:
    """The same events split by the run's own k-fold splitting: each fold predicts its testing set (validation set
    without testing sets); a fixed testing set is predicted by every fold."""
    from optima_core.inputs.pipeline import splitting_condition
    from optima_core.inputs.splitting import split_indices

    run_config = _run_config(
        use_eventNums_splitting=True,
        eventNums_splitting_N=4,
        eventNums_splitting_offset_val=1,
        eventNums_splitting_offset_test=3,
        use_testing_dataset=use_test,
        fixed_testing_dataset=fixed_test,
    )
    manager = create_plugin_manager(load_entry_points=False)
    event_numbers = np.random.default_rng(3).permutation(400) - 37  # negative ones too
    plan = fold_plan(run_config, manager, event_numbers)
    folds = split_indices(
        len(event_numbers), event_numbers, splitting_condition(run_config), True, False, use_test and fixed_test
    )
    assert sorted(plan) == list(range(len(folds)))
    for index, sets in enumerate(folds):
        held_out = sets[2] if use_test else sets[1]
        if use_test and fixed_test:  # and each validation set by its own fold
            held_out = np.concatenate([sets[1], sets[2]])
        assert sorted(plan[index]) == sorted(held_out), index
    counts = np.bincount(np.concatenate(list(plan.values())), minlength=len(event_numbers))
    assert counts.min() >= 1


def test_predict_needs_a_fold_for_a_random_split() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    with pytest.raises(OptimaUserError, match=r"split its events at random.*pass fold=k"):
        fold_plan(_run_config(use_eventNums_splitting=False), manager, np.arange(10))


# ---------------------------------------------------------------------------------------------------------------
# A real run (Lightning, Ray Tune, Optuna): the summary and the predictions
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.lightning
def test_run_returns_the_summary_load_run_reads(api_run: ApiRun) -> None:
    summary = api_run.summary
    loaded = api.load_run(summary.output)
    assert loaded.summary == summary
    assert [stage.name for stage in summary.stages] == ["main_hyperopt"]
    stage = summary.stage()
    assert stage.folder == summary.output / "main_hyperopt" and stage.input_vars == tuple(api_run.config["input_vars"])
    recorded = json.loads((stage.folder / "selection.json").read_text())
    best = stage.selection("best_value")
    assert (best.trial, best.epoch, best.value) == (
        recorded["best-value"]["trial"],
        recorded["best-value"]["epoch"],
        recorded["best-value"]["value"],
    )
    assert best.config["learning_rate"] == recorded["best-value"]["config"]["learning_rate"]
    assert best.evaluation is not None and best.evaluation["selected"]["trial"] == best.trial
    assert len(best.evaluation["folds"]) == N_FOLDS
    assert 0.5 < best.evaluation["average"]["test"]["roc_auc"]["value"] <= 1.0
    assert summary.report == (summary.output / "report.html" if (summary.output / "report.html").exists() else None)
    snapshot = (summary.output / "run_config.py").read_text()
    assert snapshot == dict_to_text(api_run.config), "run_config.py is the dict written as text"


@pytest.mark.slow
@pytest.mark.lightning
def test_predict_reproduces_the_crossvalidation_test_outputs(api_run: ApiRun) -> None:
    """Every event's prediction equals the output of the fold model whose testing set held it during the run (that
    model loaded with Lightning's own API, on the run's own split)."""
    import pandas as pd
    from engine_helpers import BACKENDS

    from optima_core.engine.context import experiment_inputs, new_input_handler

    loaded = api.load_run(api_run.summary.output)
    frame = pd.read_parquet(api_run.events)
    predicted = loaded.predict(frame)
    assert predicted.shape == (N_EVENTS, 1) and np.isfinite(predicted).all()
    row_of = {int(number): row for row, number in enumerate(frame["EventNumber"])}

    run_config, manager = loaded.run_config_and_plugins()
    folds = experiment_inputs(manager, run_config, new_input_handler(manager.hooks, run_config), None, True)
    models_dir = loaded.stage("main_hyperopt").selection("best_value").models_dir
    seen: set[int] = set()
    for index, fold in enumerate(folds):
        test = fold["test"]
        expected = BACKENDS["Lightning"].load(models_dir / f"model_fold{index}.ckpt")(test["Input"])
        rows = [row_of[int(number)] for number in test["EventNumber"]]
        np.testing.assert_allclose(predicted[rows], expected, rtol=1e-5, atol=1e-6)
        seen.update(rows)
    assert len(seen) == N_EVENTS, "every event is in the testing set of one fold"

    one_fold = loaded.predict(frame.drop(columns=["EventNumber"]), fold=1)
    expected = BACKENDS["Lightning"].load(models_dir / "model_fold1.ckpt")(
        frame[list(api_run.config["input_vars"])].to_numpy(np.float32)
    )
    np.testing.assert_allclose(one_fold, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.lightning
def test_predict_names_what_is_missing(api_run: ApiRun) -> None:
    import pandas as pd

    loaded = api.load_run(api_run.summary.output)
    frame = pd.read_parquet(api_run.events).head(20)
    with pytest.raises(OptimaUserError, match=r"stage = 'PBT': expected one of 'main_hyperopt'"):
        loaded.predict(frame, stage="PBT")
    with pytest.raises(OptimaUserError, match=r"selection = 'best_guess': expected one of 'best_value'"):
        loaded.predict(frame, selection="best_guess")
    with pytest.raises(OptimaUserError, match=r"no input-variable column 'eta'; did you mean 'Eta'"):
        loaded.predict(frame.rename(columns={"eta": "Eta"}))
    with pytest.raises(OptimaUserError, match=r"no event-number column 'EventNumber'"):
        loaded.predict(frame.drop(columns=["EventNumber"]))
    with pytest.raises(OptimaUserError, match=r"\['mass'\] hold NaN or infinite values"):
        loaded.predict(frame.assign(mass=np.nan))
    with pytest.raises(OptimaUserError, match=r"fold = -1: expected a fold number"):
        loaded.predict(frame, fold=-1)
    with pytest.raises(OptimaUserError, match=r"model_fold7.ckpt does not exist"):
        loaded.predict(frame, fold=7)
