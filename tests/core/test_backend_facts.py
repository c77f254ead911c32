"""Backends describe themselves: validation and ``optima check`` read a backend's facts from its descriptor.

The backends here are fake plugins installed into a fake site, registered exactly as a third-party backend would
register itself; the core knows nothing about them but what their descriptors state.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from core_helpers import FakeSite

from optima_core.cli import cli
from optima_core.config.loader import load_run_config
from optima_core.config.validation import validate
from optima_core.plugins.descriptors import BackendDescriptor

#: A plugin registering backends with various facts, and an evaluator; none of the frameworks is ever imported.
FACTS_PLUGIN = """
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor, EvaluatorDescriptor


@hookimpl
def optima_register_backends():
    return [
        BackendDescriptor("Bare", "factsplug:Backend", "states no facts"),
        BackendDescriptor("Framed", "factsplug:Backend", requires=("numpy", "fakeframework")),
        BackendDescriptor("Missing", "factsplug:Backend", requires=("optima_no_such_framework",)),
        BackendDescriptor("Needy", "factsplug:Backend", required_hooks=("evaluate_variable_importance",)),
        BackendDescriptor(
            "Mutating",
            "factsplug:Backend",
            model_hooks=("build_model",),
            mutatable=("learning_rate", "loss_weight_class_N"),
            scalings=("linear", "cbrt"),
        ),
    ]


@hookimpl
def optima_register_variable_importance_evaluators():
    return [EvaluatorDescriptor("permutation", "factsplug:Evaluator", "shuffle without replacement")]
"""

#: A framework whose import name differs from its distribution name (like tensorflow from tensorflow-cpu).
FRAMEWORK = "raise RuntimeError('the fake framework must not be imported by optima check')\n"

PBT = "perform_PBT_hyperopt = True\n"
SEARCHED_LR = "search_space = {'batch_size': 32, 'learning_rate': {'type': 'range', 'bounds': [1e-4, 1e-2]}}\n"
BUILD_MODEL = "def build_model(model_config, input_handler, train_data):\n    return None\n"


@pytest.fixture
def facts_site(fake_site: FakeSite) -> FakeSite:
    fake_site.add_distribution("factsplug", {"facts": "factsplug"}, {"factsplug": FACTS_PLUGIN})
    fake_site.add_distribution("fakeframework-cpu", {}, {"fakeframework": FRAMEWORK}, version="2.5")
    dist_info = fake_site.path / "fakeframework_cpu-2.5.dist-info"
    (dist_info / "top_level.txt").write_text("fakeframework\n")
    return fake_site


def _check(path: Path, *arguments: str) -> Result:
    return CliRunner().invoke(cli, ["check", str(path), *arguments])


def _problems(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_framework_versions_are_read_from_metadata_without_importing() -> None:
    descriptor = BackendDescriptor("Toy", "toy:Backend", requires=("pluggy", "optima_no_such_framework"))
    assert descriptor.framework_versions() == {"pluggy": metadata.version("pluggy"), "optima_no_such_framework": None}


def test_check_prints_each_backends_framework_versions(facts_site: FakeSite, write_config) -> None:
    result = _check(write_config())
    assert result.exit_code == 0, result.output
    assert "fakeframework" not in sys.modules
    lines = result.output.split("[Backends]")[1].splitlines()
    assert f"  Framed: numpy {metadata.version('numpy')}, fakeframework 2.5" in lines
    assert "  Missing: optima_no_such_framework NOT INSTALLED" in lines
    assert "  Bare: (no frameworks declared)" in lines
    assert any(line.startswith("  Keras: ") and line.endswith("(model_type)") for line in lines)

    payload = _check(write_config(), "--json").output
    assert '"fakeframework": "2.5"' in payload and '"optima_no_such_framework": null' in payload


def test_check_refuses_a_backend_whose_framework_is_missing(facts_site: FakeSite, write_config) -> None:
    stderr = _problems(_check(write_config("model_type = 'Missing'")))
    assert "- model_type = 'Missing': expected a backend whose frameworks are installed" in stderr
    assert "not installed: optima_no_such_framework (provider: 'facts' (factsplug))" in stderr


def test_a_hook_the_backend_requires_must_be_provided(facts_site: FakeSite, write_config) -> None:
    stderr = _problems(_check(write_config("model_type = 'Needy'")))
    assert "- evaluate_variable_importance = (not defined)" in stderr
    assert "the 'Needy' backend requires it" in stderr
    hook = (
        "def evaluate_variable_importance(run_config, model_config, models_with_inputs, variable_sets, metric,"
        " num_repeats, input_handler, output_dir, cpus, return_models_with_inputs):\n    return {}\n"
    )
    result = _check(write_config("model_type = 'Needy'\n" + hook))
    assert result.exit_code == 0, result.output


def test_scalings_are_those_of_the_backends_builtin_model(facts_site: FakeSite, write_config) -> None:
    cbrt = "input_scaling = {'pt': ('cbrt', (1.0, 0.0))}\n"
    assert _check(write_config("model_type = 'Mutating'\n" + cbrt)).exit_code == 0
    sqrt = "input_scaling = {'pt': ('sqrt', (1.0, 0.0))}\n"
    stderr = _problems(_check(write_config("model_type = 'Mutating'\n" + sqrt)))
    assert (
        "- input_scaling['pt'] = 'sqrt': expected a scale type of the built-in 'Mutating' model: 'linear', 'cbrt'"
        in (stderr)
    )
    # a run-config model does its own scaling; a backend that states no scalings is not second-guessed
    assert _check(write_config("model_type = 'Mutating'\n" + sqrt + BUILD_MODEL)).exit_code == 0
    assert _check(write_config("model_type = 'Bare'\n" + sqrt)).exit_code == 0


def test_pbt_mutates_the_backends_builtin_hyperparameters(facts_site: FakeSite, write_config) -> None:
    weights = "search_space = {'batch_size': 32, 'loss_weight_class_1': {'type': 'range', 'bounds': [0.5, 2.0]}}\n"
    for space in (SEARCHED_LR, weights):
        assert _check(write_config("model_type = 'Mutating'\n" + PBT + space)).exit_code == 0


@pytest.mark.parametrize("backend", ["Mutating", "Bare"])
def test_pbt_with_nothing_mutatable_is_refused(backend: str, facts_site: FakeSite, write_config) -> None:
    """A run-config model (or a backend without built-in mutatable ones) needs an explicit 'supports_mutation'."""
    source = f"model_type = {backend!r}\n{PBT}{SEARCHED_LR}{BUILD_MODEL}"
    stderr = _problems(_check(write_config(source)))
    assert "- perform_PBT_hyperopt = True: expected at least one searched hyperparameter in search_space that" in stderr
    assert "'supports_mutation': True" in stderr
    if backend == "Mutating":
        assert "the run-config's build_model replaces the built-in 'Mutating' model" in stderr
    marked = source.replace("[1e-4, 1e-2]}", "[1e-4, 1e-2], 'supports_mutation': True}")
    assert _check(write_config(marked)).exit_code == 0


def test_evaluator_names_come_from_the_registered_evaluators(facts_site: FakeSite, write_config) -> None:
    assert _check(write_config("variable_optimization_mode = 'permutation'")).exit_code == 0
    stderr = _problems(_check(write_config("variable_optimization_mode = 'permutaton'")))
    assert "did you mean 'permutation'?" in stderr
    for name in ("'custom'", "'hybrid'", "'permutation'", "'retrain'", "'shuffle'"):
        assert name in stderr


def test_without_a_plugin_manager_backend_facts_are_not_guessed(write_config) -> None:
    """The API's validate() without a manager checks what needs no installed plugin, and nothing else."""
    source = PBT + SEARCHED_LR + "input_scaling = {'pt': ('cbrt', (1.0, 0.0))}\nvariable_optimization_mode = 'x'\n"
    report = validate(load_run_config(write_config(source + BUILD_MODEL)))
    assert report.problems == []
    bad = validate(load_run_config(write_config(source + "input_scaling = {'ptt': ('linear', (1.0, 0.0))}")))
    assert [p.parameter for p in bad.problems] == ["input_scaling['ptt']"]


#: A run-config LitModel written from the reference: constructor and prepare() with the documented parameters.
LIT_MODEL = """
class LitModel:
    def __init__(self, model_config, input_vars, metrics, weighted_metrics):
        self.model_config = model_config

    def prepare(self, input_handler, data_module, first_prepare):
        pass
"""


def test_pbt_with_a_run_config_litmodel_and_nothing_mutatable_is_refused(write_config) -> None:
    from optima_core.plugins.manager import create_plugin_manager

    if "Lightning" not in create_plugin_manager().backends():
        pytest.skip("optima-lightning is not installed")
    space = "search_space = {'batch_size': 32, 'dropout': {'type': 'range', 'bounds': [0.0, 0.3]}}\n"
    builtin = write_config("model_type = 'Lightning'\n" + PBT + space)
    assert _check(builtin).exit_code == 0  # the built-in MLP mutates its dropout
    stderr = _problems(_check(write_config("model_type = 'Lightning'\n" + PBT + space + LIT_MODEL)))
    assert "- perform_PBT_hyperopt = True: expected at least one searched hyperparameter" in stderr
    assert "the run-config's LitModel replaces the built-in 'Lightning' model" in stderr
