"""The run-config as the highest-priority plugin: what it defines replaces built-ins; what it imports does not."""

from __future__ import annotations

import textwrap
import types
from pathlib import Path

import pytest

from optima_core.builtin.input_handler import InputHandler as BuiltinInputHandler
from optima_core.config.loader import load_module, load_run_config
from optima_core.config.validation import validate
from optima_core.hookspecs import hookimpl
from optima_core.plugins.manager import OptimaPluginManager, create_plugin_manager
from optima_core.plugins.runconfig import RUN_CONFIG_PLUGIN_NAME, build_run_config_plugin


def _module(tmp_path: Path, source: str, name: str = "rc.py") -> types.ModuleType:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return load_module(path)


def _manager(module: types.ModuleType) -> OptimaPluginManager:
    """Built-ins plus the run-config (installed plugins left out, so the baseline is known)."""
    return create_plugin_manager(run_config_module=module, load_entry_points=False)


# ---------------------------------------------------------------------------------------------------------------
# Defining a hook replaces the built-in
# ---------------------------------------------------------------------------------------------------------------


def test_run_config_fit_function_replaces_the_builtin(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        """
        def fit_function(history, metric, op, conditions):
            return ("user fit", history, metric, op, conditions)
        """,
    )
    manager = _manager(module)
    providers = manager.hook_providers("fit_function")
    assert providers[0] == RUN_CONFIG_PLUGIN_NAME and "optima_core.builtin.plugin" in providers[1:]
    result = manager.hooks.fit_function(
        df="DF", metric_to_fit="val_loss", metric_to_fit_op="min", overtraining_conditions=[]
    )
    assert result == ("user fit", "DF", "val_loss", "min", [])
    assert manager.run_config_hooks is not None
    assert manager.run_config_hooks.provided == ("fit_function",)


def test_builtin_fit_function_answers_without_a_run_config() -> None:
    pandas = pytest.importorskip("pandas")
    manager = create_plugin_manager(load_entry_points=False)
    epochs = list(range(1, 13))
    frame = pandas.DataFrame({"training_iteration": epochs, "val_loss": [1.0 / e + 0.1 for e in epochs]})
    fitted = manager.hooks.fit_function(
        df=frame, metric_to_fit="val_loss", metric_to_fit_op="min", overtraining_conditions=[]
    )
    assert callable(fitted)
    assert fitted(6.0) == pytest.approx(1.0 / 6 + 0.1, abs=1e-3)
    short = frame.head(5)
    assert (
        manager.hooks.fit_function(
            df=short, metric_to_fit="val_loss", metric_to_fit_op="min", overtraining_conditions=[]
        )
        is None
    )


def test_fit_function_is_called_positionally(tmp_path: Path) -> None:
    """The reference calls fit_function with positional arguments: parameter names are the user's choice."""
    module = _module(
        tmp_path,
        """
        def fit_function(a, b, *rest):
            return (a, b, rest)
        """,
    )
    manager = _manager(module)
    assert manager.hooks.fit_function(df=1, metric_to_fit=2, metric_to_fit_op=3, overtraining_conditions=4) == (
        1,
        2,
        (3, 4),
    )


def test_fit_function_requiring_too_many_arguments_is_a_problem(tmp_path: Path) -> None:
    module = _module(tmp_path, "def fit_function(a, b, c, d, e):\n    return None\n")
    hooks = build_run_config_plugin(module)
    assert hooks.provided == ()
    (problem,) = hooks.problems
    assert problem.hook == "fit_function"
    assert "more required arguments than the 4 the hook passes" in problem.message


def test_run_config_input_handler_class_replaces_the_builtin(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        """
        class InputHandler:
            def __init__(self, run_config):
                self.run_config = run_config
        """,
    )
    assert create_plugin_manager(load_entry_points=False).hooks.InputHandler() is BuiltinInputHandler
    manager = _manager(module)
    assert manager.hooks.InputHandler() is module.InputHandler
    assert manager.hook_providers("InputHandler")[0] == RUN_CONFIG_PLUGIN_NAME


def test_run_config_wins_over_third_party_plugins(tmp_path: Path) -> None:
    class ThirdParty:
        @hookimpl
        def get_inputs(self, run_config, nevts, input_vars_list, disable_printing):
            return "third party"

    class EagerThirdParty:
        @hookimpl(tryfirst=True)
        def get_loss(self, run_config, model_config, model, dataset, input_handler):
            return "eager third party"

    module = _module(
        tmp_path,
        """
        def get_inputs(run_config, nevts, input_vars_list, disable_printing=False):
            return "run-config"

        def get_loss(run_config, model_config, model, dataset, input_handler):
            return "run-config loss"
        """,
    )
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(ThirdParty(), name="third")
    manager.pm.register(EagerThirdParty(), name="eager")
    arguments = {"run_config": None, "nevts": 1, "input_vars_list": [], "disable_printing": False}
    assert manager.hooks.get_inputs(**arguments) == "third party"
    manager.register_run_config(module)
    assert manager.hooks.get_inputs(**arguments) == "run-config"
    loss = manager.hooks.get_loss(run_config=None, model_config={}, model=None, dataset=None, input_handler=None)
    assert loss == "run-config loss"


def test_registering_a_second_run_config_replaces_the_first(tmp_path: Path) -> None:
    first = _module(
        tmp_path, "def get_inputs(run_config, nevts, input_vars_list, disable_printing):\n    return 1\n", "a.py"
    )
    second = _module(
        tmp_path, "def get_inputs(run_config, nevts, input_vars_list, disable_printing):\n    return 2\n", "b.py"
    )
    manager = _manager(first)
    manager.register_run_config(second)
    assert manager.hooks.get_inputs(run_config=None, nevts=0, input_vars_list=[], disable_printing=False) == 2
    assert [r.name for r in manager.records].count(RUN_CONFIG_PLUGIN_NAME) == 1
    providers = manager.hook_providers("get_inputs")
    assert providers[0] == RUN_CONFIG_PLUGIN_NAME and providers.count(RUN_CONFIG_PLUGIN_NAME) == 1


# ---------------------------------------------------------------------------------------------------------------
# Imported names are not hooks (pitfall 4)
# ---------------------------------------------------------------------------------------------------------------


IMPORTING_CONFIG = """
from collections import OrderedDict as DataLoader
from optima_core.builtin.fit import fit_history as fit_function
from optima_core.builtin.input_handler import InputHandler
import json as DataModule
"""


def test_imported_names_do_not_override_hooks(tmp_path: Path) -> None:
    module = _module(tmp_path, IMPORTING_CONFIG)
    manager = _manager(module)
    assert manager.run_config_hooks is not None
    assert manager.run_config_hooks.provided == ()
    assert set(manager.run_config_hooks.ignored_imports) == {"DataLoader", "fit_function", "InputHandler", "DataModule"}
    for name in ("DataLoader", "fit_function", "InputHandler", "DataModule"):
        assert RUN_CONFIG_PLUGIN_NAME not in manager.hook_providers(name)
    assert manager.hooks.DataLoader() is not module.DataLoader
    assert manager.hooks.DataModule() is not module.DataModule
    assert manager.hooks.InputHandler() is BuiltinInputHandler


def test_imported_names_are_reported_as_warnings(write_config) -> None:
    run_config = load_run_config(write_config(IMPORTING_CONFIG))
    manager = create_plugin_manager(run_config_module=run_config.module)
    report = validate(run_config, manager)
    assert report.problems == []
    for name in ("DataLoader", "fit_function", "InputHandler", "DataModule"):
        assert any(
            w.startswith(f"'{name}' is imported into the run-config, not defined there") for w in report.warnings
        )


def test_a_plain_value_with_a_hook_name_is_a_problem(tmp_path: Path) -> None:
    module = _module(tmp_path, "fit_function = 3\nInputHandler = 'mine'\n")
    hooks = build_run_config_plugin(module)
    assert hooks.provided == () and hooks.ignored_imports == ()
    messages = {p.hook: p.message for p in hooks.problems}
    assert (
        "must be a function fit_function(df, metric_to_fit, metric_to_fit_op, overtraining_conditions)"
        in (messages["fit_function"])
    )
    assert messages["InputHandler"] == "'InputHandler' must be a class, got str"


def test_a_class_hook_defined_as_a_function_is_a_problem(tmp_path: Path) -> None:
    module = _module(tmp_path, "def LitModel():\n    return None\n")
    (problem,) = build_run_config_plugin(module).problems
    assert (problem.hook, problem.message) == ("LitModel", "'LitModel' must be a class, got function")


def test_a_function_hook_defined_as_a_class_is_a_problem(tmp_path: Path) -> None:
    module = _module(tmp_path, "class get_inputs:\n    pass\n")
    (problem,) = build_run_config_plugin(module).problems
    assert problem.hook == "get_inputs"
    assert "must be a function get_inputs(run_config, nevts, input_vars_list, disable_printing)" in problem.message


# ---------------------------------------------------------------------------------------------------------------
# Signatures: keyword-only and defaulted parameters are passed; missing ones are clear problems
# ---------------------------------------------------------------------------------------------------------------


def test_keyword_only_and_defaulted_parameters_are_passed(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        """
        def build_model(model_config, *, input_handler, train_data):
            return {"model_config": model_config, "input_handler": input_handler, "train_data": train_data}

        def get_inputs(run_config, nevts, input_vars_list, disable_printing=False):
            return (run_config, nevts, input_vars_list, disable_printing)

        def get_training_data(dataset, splitting_cond, do_kfold=False, shuffle=False, fixed_test_dataset=True,
                              disable_printing=False):
            return (dataset, splitting_cond, do_kfold, shuffle, fixed_test_dataset, disable_printing)
        """,
    )
    hooks = _manager(module).hooks
    assert hooks.build_model(model_config={"units": 4}, input_handler="IH", train_data="TD") == {
        "model_config": {"units": 4},
        "input_handler": "IH",
        "train_data": "TD",
    }
    assert hooks.get_inputs(run_config="RC", nevts=10, input_vars_list=["a"], disable_printing=True) == (
        "RC",
        10,
        ["a"],
        True,
    )
    assert hooks.get_training_data(
        dataset="D",
        splitting_cond=(0.2, 0.2),
        do_kfold=True,
        shuffle=True,
        fixed_test_dataset=False,
        disable_printing=True,
    ) == ("D", (0.2, 0.2), True, True, False, True)


def test_a_function_taking_fewer_or_keyword_arguments_gets_what_it_accepts(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        """
        def get_loss(model, dataset):
            return ("fewer", model, dataset)

        def shuffle_input_var(**arguments):
            return sorted(arguments.items())
        """,
    )
    hooks = _manager(module).hooks
    assert hooks.get_loss(run_config=1, model_config=2, model=3, dataset=4, input_handler=5) == ("fewer", 3, 4)
    assert hooks.shuffle_input_var(run_config=1, input_handler=2, model_config=3, dataset=4, vars_to_shuffle=5) == [
        ("dataset", 4),
        ("input_handler", 2),
        ("model_config", 3),
        ("run_config", 1),
        ("vars_to_shuffle", 5),
    ]


def test_a_function_requiring_an_argument_the_hook_does_not_pass_is_a_problem(tmp_path: Path) -> None:
    module = _module(tmp_path, "def build_model(model_config, input_handler, train_data, n_outputs):\n    return 1\n")
    manager = _manager(module)
    assert manager.run_config_hooks is not None
    (problem,) = manager.run_config_hooks.problems
    assert problem.hook == "build_model"
    assert "requires argument(s) 'n_outputs' that the hook does not pass" in problem.message
    assert "build_model(model_config, input_handler, train_data)" in problem.message
    assert RUN_CONFIG_PLUGIN_NAME not in manager.hook_providers("build_model")


def test_the_hook_problem_fails_validation_naming_the_argument(write_config) -> None:
    run_config = load_run_config(
        write_config("def get_inputs(run_config, nevts, input_vars_list, disable_printing, extra):\n    return 1\n")
    )
    report = validate(run_config, create_plugin_manager(run_config_module=run_config.module))
    (problem,) = report.problems
    assert problem.parameter == "get_inputs"
    assert "'extra'" in problem.hint


# ---------------------------------------------------------------------------------------------------------------
# Side-effect hooks
# ---------------------------------------------------------------------------------------------------------------


def test_plot_input_data_returning_none_counts_as_handled(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        """
        CALLS = []

        def plot_input_data(run_config, dataset, outdir, input_vars_list=None):
            CALLS.append((run_config, dataset, outdir, input_vars_list))
        """,
    )
    result = _manager(module).hooks.plot_input_data(run_config="RC", dataset="DS", outdir="out", input_vars_list=["x"])
    assert result is True
    assert module.CALLS == [("RC", "DS", "out", ["x"])]


def test_plot_input_data_result_other_than_none_is_kept(tmp_path: Path) -> None:
    module = _module(
        tmp_path, "def plot_input_data(run_config, dataset, outdir, input_vars_list):\n    return 'drawn'\n"
    )
    assert _manager(module).hooks.plot_input_data(run_config=1, dataset=2, outdir=3, input_vars_list=4) == "drawn"


def test_finalize_model_calls_every_implementation(tmp_path: Path) -> None:
    calls = []

    class Exporter:
        @hookimpl
        def finalize_model(self, run_config, dataset_split, results_dir, model_dir, model_info, input_handler):
            calls.append(("exporter", model_info))

    module = _module(
        tmp_path,
        """
        SEEN = []

        def finalize_model(run_config, dataset_split, results_dir, model_dir, model_info, input_handler):
            SEEN.append(model_info)
        """,
    )
    manager = _manager(module)
    manager.pm.register(Exporter(), name="exporter")
    info = {"name": "model_0", "split": 0, "config": {}}
    assert (
        manager.hooks.finalize_model(
            run_config=None, dataset_split=(), results_dir="r", model_dir="m", model_info=info, input_handler=None
        )
        is None
    )
    assert [info] == module.SEEN
    assert calls == [("exporter", info)]


def test_positional_only_and_args_only_functions_are_clear_problems(tmp_path):
    from optima_core.plugins.runconfig import build_run_config_plugin

    source = "def get_inputs(a, b, c, d, /):\n    return 1\ndef get_training_data(*args):\n    return 2\n"
    path = tmp_path / "odd_signatures.py"
    path.write_text(source)
    import importlib.util

    spec = importlib.util.spec_from_file_location("odd_signatures_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    hooks = build_run_config_plugin(module)
    messages = {p.hook: p.message for p in hooks.problems}
    assert "positional-only" in messages["get_inputs"]
    assert "only takes *args" in messages["get_training_data"]
    assert hooks.provided == ()
