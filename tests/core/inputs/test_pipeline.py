"""The built-in get_experiment_inputs: hooks from the plugin manager, run-config overrides, the InputHandler."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from inputs_testdata import VARIABLES, run_config

from optima_core.builtin.input_handler import InputHandler
from optima_core.inputs.dataset import EventData
from optima_core.inputs.errors import InputDataError
from optima_core.inputs.pipeline import splitting_condition
from optima_core.inputs.splitting import EventNumberCondition, EventNumberSplit, RandomSplit
from optima_core.plugins.active import using_manager
from optima_core.plugins.manager import create_plugin_manager


def run(config: Any, module: types.ModuleType | None = None, crossvalidation: bool = False, handler: Any = None):
    manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
    handler = handler or InputHandler(config)
    with using_manager(manager):
        split = manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=handler,
            output_dir=None,
            inputs_for_crossvalidation=crossvalidation,
            disable_printing=True,
        )
    return split, handler


def test_builtin_inputs_plugin_is_registered_before_the_run_config() -> None:
    module = types.ModuleType("rc_order")
    exec("def get_inputs(run_config, nevts, input_vars_list):\n    return None\n", module.__dict__)
    manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
    for hook in ("get_experiment_inputs", "get_inputs", "get_training_data"):
        assert "optima_core.inputs.plugin" in manager.hook_providers(hook)
    assert manager.hook_providers("get_inputs")[0] == "run-config"


def test_default_split_and_the_handler_learns_the_variables(parquet_file: Path) -> None:
    (train, val, test), handler = run(run_config(inputs_file=str(parquet_file)))
    assert handler.get_vars() == VARIABLES
    assert (len(train), len(val), len(test)) == (90, 30, 30)
    assert all(isinstance(part, EventData) for part in (train, val, test))
    assert not set(train["EventNumber"]) & set(val["EventNumber"])


def test_without_testing_set_and_with_crossvalidation(parquet_file: Path) -> None:
    (train, val), _ = run(run_config(inputs_file=str(parquet_file), use_testing_dataset=False))
    assert len(train) + len(val) == 150
    folds, _ = run(run_config(inputs_file=str(parquet_file)), crossvalidation=True)
    assert len(folds) == 3 and len(folds[0]) == 4


def test_input_vars_select_and_order_the_columns(parquet_file: Path) -> None:
    (train, _, _), _ = run(run_config(inputs_file=str(parquet_file), input_vars=["mass", "pt"]))
    assert train.variables == ["mass", "pt"] and train["Input"].shape[1] == 2


def test_splitting_condition_from_the_run_config() -> None:
    assert splitting_condition(run_config()) == RandomSplit(0.2, 0.2, 42)
    assert splitting_condition(run_config(use_testing_dataset=False, random_seed=3)) == RandomSplit(0.2, None, 3)
    condition = splitting_condition(
        run_config(use_eventNums_splitting=True, eventNums_splitting_N=4, eventNums_splitting_offset_test=6)
    )
    assert condition == EventNumberSplit(EventNumberCondition(4, 0), EventNumberCondition(4, 2), 42)


def test_run_config_get_inputs_and_get_training_data_replace_the_builtins(parquet_file: Path) -> None:
    module = types.ModuleType("rc_override")
    module.seen = {}
    source = """
import numpy as np
from optima_core.inputs.dataset import EventData

def get_inputs(run_config, nevts, input_vars_list, disable_printing=False):
    rng = np.random.default_rng(0)
    return EventData({"Input": rng.normal(size=(40, 2)), "Target": np.arange(40) % 2, "Weight": np.ones(40)}, ["u", "v"])

def get_training_data(dataset, splitting_cond, do_kfold=False, shuffle=False, fixed_test_dataset=True,
                      disable_printing=False):
    seen["cond"] = splitting_cond
    return dataset.take(np.arange(30)), dataset.take(np.arange(30, 40))
"""
    exec(compile(source, "rc_override.py", "exec"), module.__dict__)
    (train, val), handler = run(run_config(), module)
    assert (len(train), len(val)) == (30, 10)
    assert handler.get_vars() == ["u", "v"]
    assert isinstance(module.seen["cond"], RandomSplit)


def test_data_from_a_custom_get_inputs_is_checked(tmp_path: Path) -> None:
    module = types.ModuleType("rc_bad")
    source = """
import numpy as np
from optima_core.inputs.dataset import EventData

def get_inputs(run_config, nevts, input_vars_list):
    inputs = np.ones((20, 2))
    inputs[3, 1] = np.nan
    return {"Input": inputs, "Target": np.arange(20) % 2}
"""
    exec(compile(source, "rc_bad.py", "exec"), module.__dict__)
    with pytest.raises(InputDataError, match="variable 'input_1'"):
        run(run_config(), module)


def test_a_get_inputs_returning_something_else_is_a_clear_error() -> None:
    module = types.ModuleType("rc_wrong")
    exec("def get_inputs(run_config, nevts, input_vars_list):\n    return [1, 2, 3]\n", module.__dict__)
    with pytest.raises(InputDataError, match="an EventData, a Ray Dataset"):
        run(run_config(), module)


def test_outside_a_run_the_builtin_fails_loudly_instead_of_building_a_second_manager(
    parquet_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optima_core.plugins.manager as manager_module

    manager = create_plugin_manager(load_entry_points=False)
    monkeypatch.setattr(
        manager_module, "create_plugin_manager", lambda *a, **k: pytest.fail("a second plugin manager was built")
    )
    config = run_config(inputs_file=str(parquet_file))
    with pytest.raises(RuntimeError, match=r"get_experiment_inputs needs the run's plugin manager.*using_manager"):
        manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=InputHandler(config),
            output_dir=None,
            inputs_for_crossvalidation=False,
            disable_printing=True,
        )


def test_a_run_that_loads_both_kinds_of_split_draws_its_input_plots_once(parquet_file: Path, tmp_path: Path) -> None:
    """An optimization loads its inputs for the trials and per fold; both loads ask for the same input plots, which
    were drawn twice (about half of the driver's CPU time in a short run)."""
    from optima_core.inputs.output_writes import holding_output_writes, write_to_output

    module = types.ModuleType("rc_plots")
    exec(
        "calls = []\ndef plot_input_data(run_config, dataset, outdir, input_vars_list):\n    calls.append(outdir)\n    return True\n",
        module.__dict__,
    )
    config = run_config(inputs_file=str(parquet_file), produce_inputs_plots=True)
    manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
    with holding_output_writes() as held, using_manager(manager):
        write_to_output(lambda: module.calls.append("an unkeyed write"))
        for crossvalidation in (False, True):
            manager.hooks.get_experiment_inputs(
                run_config=config,
                input_handler=InputHandler(config),
                output_dir=str(tmp_path),
                inputs_for_crossvalidation=crossvalidation,
                disable_printing=True,
            )
        write_to_output(lambda: module.calls.append("another unkeyed write"))
    assert module.calls == []  # held until the output folder exists
    for write in held:
        write()
    assert module.calls == ["an unkeyed write", tmp_path / "inputs", "another unkeyed write"]

    write_to_output(lambda: module.calls.append("not held"))  # outside the block: written at once
    assert module.calls[-1] == "not held"
