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


class Backend:
    pass


class Evaluator:
    pass


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


def test_the_package_index_of_the_installed_distributions_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mapping an import name to its distribution scans every installed package's files (about 0.4 s); ``optima
    check`` and a run's start look up several, so the scan is made once per process."""
    from optima_core.plugins import descriptors

    scans = []

    def counting() -> dict[str, list[str]]:
        scans.append(1)
        return {"tensorflow": ["tensorflow-cpu"]}

    monkeypatch.setattr(metadata, "packages_distributions", counting)
    descriptors._packages_distributions.cache_clear()
    try:
        descriptor = BackendDescriptor("Toy", "toy:Backend", requires=("optima_no_such_framework",))
        for _ in range(3):
            assert descriptor.framework_versions() == {"optima_no_such_framework": None}
        assert descriptors.providing_distributions("tensorflow.keras") == ["tensorflow-cpu"]
        assert len(scans) == 1
    finally:
        descriptors._packages_distributions.cache_clear()


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


def test_the_lightning_mlp_states_every_hyperparameter_it_reads(write_config) -> None:
    """The descriptor's facts are those of the MLP: every default it fills in, its activations; 'ReLU' is refused."""
    pytest.importorskip("optima_lightning")
    from optima_core.plugins.manager import create_plugin_manager
    from optima_lightning.hyperparameters import ACTIVATIONS, DEFAULTS

    lightning = create_plugin_manager().backends()["Lightning"]
    assert all(lightning.builtin_hyperparameter(name) is not None for name in [*DEFAULTS, "units_3"])
    assert lightning.builtin_hyperparameter("activation").choices == ACTIVATIONS
    stderr = _problems(
        _check(write_config("model_type = 'Lightning'\nsearch_space = {'batch_size': 8, 'activation': 'ReLU'}"))
    )
    assert "- search_space['activation'] = 'ReLU': expected one of 'swish'" in stderr
    assert "'Lightning' model; did you mean 'relu'?" in stderr


def test_the_keras_stub_of_the_core_tests_states_the_real_facts() -> None:
    pytest.importorskip("optima_keras")
    from core_helpers import KERAS_STUB

    from optima_keras.plugin import optima_register_backends

    namespace: dict = {}
    exec(KERAS_STUB, namespace)  # the stub module, as the fake site would import it
    (stub,) = namespace["optima_register_backends"]()
    (real,) = optima_register_backends()
    facts = ("model_hooks", "mutatable", "scalings", "hyperparameters")
    assert [getattr(stub, f) for f in facts] == [getattr(real, f) for f in facts]


# ---------------------------------------------------------------------------------------------------------------
# Issue 13, defect 11: the components a run uses are resolved before Ray starts
# ---------------------------------------------------------------------------------------------------------------

#: Registers components whose "module:attr" targets are wrong; 'heavyback' may be located but never imported.
WRONG_TARGETS = """
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor, EvaluatorDescriptor, PlotDescriptor


@hookimpl
def optima_register_backends():
    return [
        BackendDescriptor("NoModule", "optima_no_such_module:Backend"),
        BackendDescriptor("Typo", "heavyback:Bakend"),
        BackendDescriptor("Heavy", "heavyback:Backend"),
    ]


@hookimpl
def optima_register_variable_importance_evaluators():
    return [EvaluatorDescriptor("permutation", "optima_no_such_module.evaluators:Permutation")]
"""

#: Stands for a backend module importing a framework: it must not be imported by optima check.
HEAVY_BACKEND = """
raise RuntimeError("heavyback must not be imported by optima check")


class Backend:
    pass
"""


@pytest.fixture
def wrong_targets(fake_site: FakeSite) -> FakeSite:
    fake_site.add_distribution(
        "wrongtargets", {"wrong": "wrongtargets"}, {"wrongtargets": WRONG_TARGETS, "heavyback": HEAVY_BACKEND}
    )
    return fake_site


def test_a_backend_module_that_does_not_exist_is_refused(wrong_targets: FakeSite, write_config) -> None:
    stderr = _problems(_check(write_config("model_type = 'NoModule'")))
    assert "- model_type = 'NoModule': expected a backend that can be loaded" in stderr
    assert "the backend 'NoModule' registered by 'wrong' (wrongtargets) cannot be loaded from" in stderr
    assert "No module named 'optima_no_such_module'" in stderr


def test_a_backend_attribute_typo_is_found_without_importing_the_module(wrong_targets: FakeSite, write_config) -> None:
    stderr = _problems(_check(write_config("model_type = 'Typo'")))
    assert "cannot be loaded from 'heavyback:Bakend': module 'heavyback' defines no 'Bakend'" in stderr
    result = _check(write_config("model_type = 'Heavy'"))
    assert result.exit_code == 0, result.output
    assert "heavyback" not in sys.modules


def test_the_evaluator_of_the_variable_selection_is_imported(wrong_targets: FakeSite, write_config) -> None:
    source = "perform_variable_opt = True\nvariable_optimization_mode = 'permutation'\n"
    stderr = _problems(_check(write_config(source)))
    assert "- variable_optimization_mode = 'permutation': expected an evaluator that can be loaded" in stderr
    assert "ModuleNotFoundError: No module named 'optima_no_such_module'" in stderr
    # not used without the variable selection
    assert _check(write_config("variable_optimization_mode = 'permutation'")).exit_code == 0


def test_a_figure_that_cannot_be_loaded_is_refused(fake_site: FakeSite, write_config) -> None:
    plots = (
        "from optima_core.hookspecs import hookimpl\n"
        "from optima_core.plugins.descriptors import PlotDescriptor\n"
        "@hookimpl\n"
        "def optima_register_plots():\n"
        "    return [PlotDescriptor('my_figure', 'myplots:draw_my_figur')]\n"
        "def draw_my_figure():\n"
        "    pass\n"
    )
    fake_site.add_distribution("myplots", {"myplots": "myplots"}, {"myplots": plots})
    stderr = _problems(_check(write_config()))
    assert "- plugins = \"figure 'my_figure'\": expected figures that can be loaded" in stderr
    assert "module 'myplots' has no attribute 'draw_my_figur'" in stderr


def test_a_missing_name_names_the_plugins_that_failed_to_load(fakeplug: FakeSite, write_config) -> None:
    stderr = _problems(_check(write_config("perform_variable_opt = True\nvariable_optimization_mode = 'broken'")))
    assert "- variable_optimization_mode = 'broken'" in stderr
    assert (
        "it may be provided by plugin 'broken' (fakeplug), which failed to load: "
        "RuntimeError: fakeplug_broken refuses to import"
    ) in stderr
    stderr = _problems(_check(write_config("model_type = 'Broken'")))
    assert "- model_type = 'Broken'" in stderr and "plugin 'broken' (fakeplug), which failed to load" in stderr


def test_optima_run_refuses_a_wrong_target_before_the_output_folder_exists(
    wrong_targets: FakeSite, write_config, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    source = f"output_path = {str(output)!r}\nperform_variable_opt = True\nvariable_optimization_mode = 'permutation'\n"
    stderr = _problems(CliRunner().invoke(cli, ["run", str(write_config(source))]))
    assert "the evaluator 'permutation' registered by 'wrong' (wrongtargets) cannot be loaded" in stderr
    assert not output.exists()
