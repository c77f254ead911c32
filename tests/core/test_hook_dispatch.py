"""Every run-config hook, defined in a generated run-config, is called through the typed facade with exactly the
arguments given, and its result is returned. Plus: the reference's documented signatures are valid as written.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from optima_core.config.loader import load_module
from optima_core.plugins.manager import create_plugin_manager
from optima_core.plugins.runconfig import (
    CLASS_HOOKS,
    POSITIONAL_HOOKS,
    RUN_CONFIG_PLUGIN_NAME,
    build_run_config_plugin,
    hook_argnames,
    run_config_hook_names,
)

#: Spelled out so that the hook meta-test finds each name in a test; kept equal to the hookspecs below.
ALL_RUN_CONFIG_HOOKS = (
    "InputHandler",
    "get_experiment_inputs",
    "get_inputs",
    "get_training_data",
    "plot_input_data",
    "build_tensorflow_dataset",
    "LightningDataset",
    "DataLoader",
    "DataModule",
    "build_model",
    "compile_model",
    "update_model",
    "get_loss",
    "get_native_metric_values",
    "LitModel",
    "fit_function",
    "evaluate",
    "finalize_model",
    "create_variable_sets_to_try",
    "shuffle_input_var",
    "evaluate_variable_importance",
)


class Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


def test_the_list_above_is_every_run_config_hook() -> None:
    assert sorted(ALL_RUN_CONFIG_HOOKS) == sorted(run_config_hook_names())


def _load(tmp_path: Path, source: str):
    path = tmp_path / "generated_run_config.py"
    path.write_text(source)
    return load_module(path)


@pytest.mark.parametrize("name", run_config_hook_names())
def test_every_hook_defined_in_a_run_config_is_called_with_the_given_arguments(name: str, tmp_path: Path) -> None:
    argnames = hook_argnames(name)
    if name in CLASS_HOOKS:
        assert argnames == ()
        module = _load(tmp_path, f"class {name}:\n    pass\n")
        manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
        assert getattr(manager.hooks, name)() is getattr(module, name)
        return

    # Positional hooks are written with the user's own parameter names, to prove they are passed by position.
    parameters = [f"p{i}" for i in range(len(argnames))] if name in POSITIONAL_HOOKS else list(argnames)
    module = _load(
        tmp_path,
        textwrap.dedent(
            f"""
            CALLS = []
            RESULT = object()

            def {name}({", ".join(parameters)}):
                CALLS.append(({", ".join(parameters)},))
                return RESULT
            """
        ),
    )
    manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
    assert manager.hook_providers(name)[0] == RUN_CONFIG_PLUGIN_NAME
    sentinels = {argument: Sentinel(argument) for argument in argnames}

    result = getattr(manager.hooks, name)(**sentinels)

    (received,) = module.CALLS
    assert len(received) == len(argnames)
    for argument, value in zip(argnames, received, strict=True):
        assert value is sentinels[argument], f"{name}: '{argument}' received {value!r}"
    if manager.pm.hook.__dict__[name].spec.opts["firstresult"]:
        assert result is module.RESULT
    else:
        assert result is None  # every implementation is called; results are ignored


#: Signatures as the reference documents them for run-config authors ("define ... in the run-config").
REFERENCE_SIGNATURES = (
    "def build_model(model_config, *, input_handler, train_data): ...",
    "def compile_model(model, model_config, *, metrics, weighted_metrics, input_handler, train_data, first_compile): ...",
    "def update_model(model, model_config, *, input_handler, train_data): ...",
    "def get_loss(run_config, model_config, model, dataset, input_handler): ...",
    "def get_native_metric_values(run_config, native_metrics, model_config, model, dataset_or_dataloader, input_handler): ...",
    "def get_experiment_inputs(run_config, input_handler, output_dir=None, inputs_for_crossvalidation=False, disable_printing=False): ...",
    "def get_inputs(run_config, nevts, input_vars_list, disable_printing=False): ...",
    "def get_training_data(dataset, splitting_cond, do_kfold=False, shuffle=False, fixed_test_dataset=True, disable_printing=False): ...",
    "def plot_input_data(run_config, dataset, outdir, input_vars_list=None): ...",
    "def build_tensorflow_dataset(ray_dataset, input_handler, run_config, model_config): ...",
    "def shuffle_input_var(run_config, input_handler, model_config, dataset, vars_to_shuffle): ...",
    "def fit_function(df, metric_to_fit, metric_to_fit_op, overtraining_conditions): ...",
    "def finalize_model(run_config, dataset_split, results_dir, model_dir, model_info, input_handler): ...",
    "def create_variable_sets_to_try(model_config, models_with_inputs, metric, all_vars, vars_remaining): ...",
    "def evaluate(run_config, model_path, model_config, dataset_split, input_handler, fig_dir, native_metrics, "
    "weighted_native_metrics, custom_metrics, composite_metrics, class_labels, cpus, print_results, return_unfilled): ...",
)


def _signature(line: str) -> tuple[str, list[str]]:
    function = ast.parse(line).body[0]
    assert isinstance(function, ast.FunctionDef)
    arguments = function.args
    return function.name, [a.arg for a in [*arguments.args, *arguments.kwonlyargs]]


@pytest.mark.parametrize("line", REFERENCE_SIGNATURES, ids=[_signature(s)[0] for s in REFERENCE_SIGNATURES])
def test_reference_signature_matches_the_hookspec(line: str) -> None:
    name, arguments = _signature(line)
    assert list(hook_argnames(name)) == arguments


@pytest.mark.parametrize("line", REFERENCE_SIGNATURES, ids=[_signature(s)[0] for s in REFERENCE_SIGNATURES])
def test_reference_signature_is_a_valid_run_config_hook(line: str, tmp_path: Path) -> None:
    """Written exactly as documented (keyword-only markers and defaults included), each receives every value."""
    name, arguments = _signature(line)
    body = f"    return dict({', '.join(f'{a}={a}' for a in arguments)})\n"
    module = _load(tmp_path, line.replace(": ...", ":\n") + body)
    hooks = build_run_config_plugin(module)
    assert hooks.problems == () and hooks.provided == (name,)
    manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
    sentinels = {argument: Sentinel(argument) for argument in arguments}
    result = getattr(manager.hooks, name)(**sentinels)
    if name == "finalize_model":
        return  # not firstresult: nothing is returned; the dispatch test above checks the arguments
    assert result == sentinels
