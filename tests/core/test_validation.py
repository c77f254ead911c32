"""Run-config validation: every bad config is a clear error naming the parameter (exit 2, no traceback).

The bad configs are written as Python sources on top of a small valid Keras config (see ``write_config``) and
checked through ``optima check`` with click's CliRunner, the way a user meets them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from optima_core.cli import cli
from optima_core.config.loader import load_run_config
from optima_core.config.problems import ConfigError
from optima_core.config.validation import check
from optima_core.plugins.manager import create_plugin_manager


@dataclass(frozen=True)
class Bad:
    """A bad run-config: source added to the valid base (``drop`` removes base settings) and required fragments.

    ``{line}`` in a fragment is the number of the last line of the written file.
    """

    source: str
    fragments: tuple[str, ...]
    drop: tuple[str, ...] = ()


BAD_CONFIGS: dict[str, Bad] = {
    # Required flags and unknown names
    "missing-perform-flag": Bad(
        "",
        ("- perform_PBT_hyperopt = (not set): expected True or False", "required in every run-config"),
        drop=("perform_PBT_hyperopt",),
    ),
    "perform-flag-none": Bad("perform_main_hyperopt = None", ("- perform_main_hyperopt = (not set)",)),
    "misspelled-parameter": Bad("max_epoch = 10", ("- max_epoch = 10", "did you mean 'max_epochs'?")),
    "misspelled-parameter-case": Bad("Max_Epochs = 10", ("- Max_Epochs = 10", "did you mean 'max_epochs'?")),
    # Wrong types
    "str-for-int": Bad("max_epochs = '10'", ("- max_epochs = '10': expected an integer >= 1",)),
    "int-for-bool": Bad("perform_main_hyperopt = 1", ("- perform_main_hyperopt = 1: expected True or False",)),
    "str-for-bool": Bad("use_ASHAScheduler = 'yes'", ("- use_ASHAScheduler = 'yes': expected True or False",)),
    "bool-for-int": Bad("max_epochs = True", ("- max_epochs = True: expected an integer",)),
    "int-for-str": Bad("output_name = 5", ("- output_name = 5: expected a string",)),
    # Out of range
    "validation-fraction-above-1": Bad(
        "validation_fraction = 1.5", ("- validation_fraction = 1.5: expected a number",)
    ),
    "fractions-sum-to-1": Bad(
        "validation_fraction = 0.5\ntest_fraction = 0.5",
        ("- validation_fraction + test_fraction = 1.0: expected a sum below 1",),
    ),
    "negative-epochs": Bad("max_epochs = -3", ("- max_epochs = -3: expected an integer >= 1",)),
    "negative-patience": Bad("early_stopping_patience = -1", ("- early_stopping_patience = -1",)),
    "zero-samples": Bad("num_samples_main = 0", ("- num_samples_main = 0: expected an integer >= 1",)),
    "asha-reduction-factor-1": Bad(
        "ASHA_reduction_factor = 1", ("- ASHA_reduction_factor = 1: expected an integer >= 2",)
    ),
    "asha-max-t-0": Bad("ASHA_max_t = 0", ("- ASHA_max_t = 0: expected an integer >= 1",)),
    "seed-too-large": Bad("random_seed = 2**33", ("- random_seed = 8589934592",)),
    "max-event-weight-nan": Bad("max_event_weight = float('nan')", ("- max_event_weight = nan",)),
    "predict-batch-size-0": Bad("predict_batch_size = 0", ("- predict_batch_size = 0",)),
    "r-squared-above-1": Bad("fit_min_R_squared = 2", ("- fit_min_R_squared = 2: expected a number <= 1",)),
    "max-num-events-zero": Bad("max_num_events = [0]", ("- max_num_events = [0]",)),
    # Choices
    "monitor-op-minimize": Bad("monitor_op = 'minimize'", ("- monitor_op = 'minimize': expected one of 'min', 'max'",)),
    "acceptance-criterion": Bad("acceptance_criterion = 'improve'", ("- acceptance_criterion = 'improve'",)),
    "model-type-lowercase": Bad("model_type = 'keras'", ("- model_type = 'keras'", "'Keras'")),
    "model-type-unknown": Bad(
        "model_type = 'TensorFlow'", ("- model_type = 'TensorFlow': expected a registered backend",)
    ),
    "variable-optimization-mode-typo": Bad(
        "variable_optimization_mode = 'shufle'", ("- variable_optimization_mode = 'shufle'", "did you mean 'shuffle'?")
    ),
    "custom-mode-without-evaluator": Bad(
        "perform_variable_opt = True\nvariable_optimization_mode = 'custom'",
        ("- evaluate_variable_importance = (not defined)", "variable_optimization_mode is 'custom'"),
    ),
    # Metrics
    "metric-tuple-shape": Bad(
        "native_metrics = [('auc', 'AUC')]", ("- native_metrics = [('auc', 'AUC')]: expected a list of ('name',",)
    ),
    "metric-not-a-list": Bad("weighted_native_metrics = 'auc'", ("- weighted_native_metrics = 'auc'",)),
    "composite-metric-typo": Bad(
        "composite_metrics = [('ratio', ('val_los', 'train_loss'), lambda a, b: a / b)]",
        ("- composite_metrics[0] ('ratio') = 'val_los'", "did you mean 'val_loss'?"),
    ),
    "overtraining-condition-typo": Bad(
        "overtraining_conditions = [('gap', ('val_loss', 'train_los'), lambda a, b: a > 2 * b)]",
        ("- overtraining_conditions[0] ('gap') = 'train_los'", "did you mean 'train_loss'?"),
    ),
    "monitor-name-without-prefix": Bad(
        "monitor_name = 'loss'", ("- monitor_name = 'loss'", "add the prefix: 'val_loss' or 'train_loss'")
    ),
    "monitor-metric-without-prefix": Bad(
        "native_metrics = [('accuracy', (dict, {}))]\nmonitor_name = 'accuracy'",
        ("- monitor_name = 'accuracy'", "'val_accuracy'"),
    ),
    "var-metric-unknown": Bad("var_metric = 'auc'", ("- var_metric = 'auc'", "'loss'")),
    "duplicate-metric-names": Bad(
        "native_metrics = [('acc', (dict, {}))]\nweighted_native_metrics = [('acc', (dict, {}))]",
        ("- metric names = 'acc': expected unique names",),
    ),
    "callback-shape": Bad("callbacks = [(1, {})]", ("- callbacks = [(1, {})]",)),
    "class-labels-empty": Bad("evaluation_class_labels = []", ("- evaluation_class_labels = []",)),
    # Inputs
    "input-scaling-unknown-type": Bad(
        "input_scaling = {'pt': ('log', (1.0, 0.0))}", ("- input_scaling['pt'] = 'log'", "'log10'")
    ),
    "input-scaling-unknown-variable": Bad(
        "input_scaling = {'ptt': ('log10', (1.0, 0.0))}", ("- input_scaling['ptt'] = 'ptt'", "did you mean 'pt'?")
    ),
    "input-scaling-shape": Bad("input_scaling = {'pt': 'log10'}", ("- input_scaling = {'pt': 'log10'}",)),
    "variable-opt-without-input-vars": Bad(
        "perform_variable_opt = True", ("- input_vars = None", "perform_variable_opt is True"), drop=("input_vars",)
    ),
    "input-vars-duplicates": Bad("input_vars = ['a', 'a']", ("- input_vars = ['a', 'a']", "without duplicates")),
    "inputs-file-missing": Bad(
        "", ("- inputs_file = None: expected the path of the input data file",), drop=("inputs_file",)
    ),
    "inputs-file-not-found": Bad(
        "inputs_file = '/nonexistent/optima/x.parquet'",
        ("- inputs_file = '/nonexistent/optima/x.parquet': expected an existing file",),
    ),
    "event-number-offsets-collide": Bad(
        "use_eventNums_splitting = True\neventNums_splitting_offset_val = 2\neventNums_splitting_offset_test = 7",
        ("- eventNums_splitting_offset_test = 7", "eventNums_splitting_offset_val=2 (mod 5)"),
    ),
    "event-number-n-too-small": Bad("eventNums_splitting_N = 1", ("- eventNums_splitting_N = 1",)),
    # Population Based Training needs something to mutate
    "pbt-run-config-model-nothing-mutatable": Bad(
        "perform_PBT_hyperopt = True\n"
        "search_space = {'batch_size': 32, 'learning_rate': {'type': 'range', 'bounds': [1e-4, 1e-2]}}\n"
        "def build_model(model_config, input_handler, train_data):\n    return None",
        (
            "- perform_PBT_hyperopt = True: expected at least one searched hyperparameter",
            "the run-config's build_model replaces the built-in 'Keras' model",
            "'supports_mutation': True",
        ),
    ),
    "pbt-nothing-searched": Bad(
        "perform_PBT_hyperopt = True\nsearch_space = {'batch_size': 32, 'learning_rate': 1e-3}",
        ("- perform_PBT_hyperopt = True", "search one of learning_rate, Adam_beta_1"),
    ),
    # Issue 13, defect 7: mistakes that used to surface only after every trial failed, or never
    "search-space-key-no-model-reads": Bad(
        "search_space = {'batch_size': 32, 'unit': {'type': 'range', 'bounds': [8, 64], 'value_type': 'int'}}",
        ("- search_space['unit'] = 'unit': expected a hyperparameter the built-in 'Keras' model reads", "'units'?"),
    ),
    "hyperparameter-at-top-level": Bad(
        "learning_rate = 0.05",
        ("- learning_rate = 0.05: expected an entry of search_space", "did you mean search_space['learning_rate']?"),
    ),
    "activation-wrong-case": Bad(
        "search_space = {'batch_size': 32, 'activation': 'ReLU'}",
        ("- search_space['activation'] = 'ReLU': expected one of", "(case-sensitive)", "did you mean 'relu'?"),
    ),
    "activation-choice-unknown": Bad(
        "search_space = {'batch_size': 32, 'activation': {'type': 'choice', 'values': ['relu', 'Swish']}}",
        ("- search_space['activation']['values'] = 'Swish'", "did you mean 'swish'?"),
    ),
    "negative-learning-rate": Bad(
        "search_space = {'batch_size': 32, 'learning_rate': -0.01}",
        ("- search_space['learning_rate'] = -0.01: expected a number > 0 for 'learning_rate'",),
    ),
    "negative-learning-rate-bound": Bad(
        "search_space = {'batch_size': 32, 'learning_rate': {'type': 'range', 'bounds': [-0.1, 0.1]}}",
        ("- search_space['learning_rate']['bounds'] = -0.1: expected a number > 0",),
    ),
    "monitor-name-not-reported": Bad(
        "monitor_name = 'val_auc'",
        ("- monitor_name = 'val_auc': expected a metric the built-in 'Keras' model reports", "'val_loss'"),
    ),
    "asha-grace-period-above-max-epochs": Bad(
        "max_epochs = 10",
        ("- ASHA_grace_period = 15: expected an integer <= ASHA_max_t = 10 (derived from max_epochs)",),
    ),
    # Hooks defined badly in the run-config
    "hook-needs-unknown-argument": Bad(
        "def build_model(model_config, input_handler, train_data, n_outputs):\n    return None",
        ("- build_model = (run-config definition)", "'n_outputs'"),
    ),
    "class-hook-as-function": Bad(
        "def LitModel():\n    return None", ("- LitModel = (run-config definition)", "must be a class")
    ),
    "value-with-hook-name": Bad("fit_function = 3", ("- fit_function = (run-config definition)", "got 3")),
    # The file itself
    "syntax-error": Bad("x = (", ("could not be executed (line {line})", "SyntaxError")),
    "raises-at-import": Bad(
        "import math\nraise ValueError('cannot open ' + str(math.pi))",
        ("could not be executed (line {line})", "ValueError: cannot open 3.14"),
    ),
    "name-error-at-import": Bad("max_epochs = undefined_name", ("could not be executed (line {line})", "NameError")),
}


def _check(config: Path, *arguments: str) -> Result:
    return CliRunner().invoke(cli, ["check", str(config), *arguments])


def _assert_clean_user_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""
    return result.stderr


def test_the_table_is_large_enough() -> None:
    assert len(BAD_CONFIGS) >= 30


@pytest.mark.parametrize("case", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_is_a_clear_error(case: Bad, write_config) -> None:
    path = write_config(case.source, drop=case.drop)
    last_line = len(path.read_text().splitlines())
    message = _assert_clean_user_error(_check(path))
    assert str(path) in message.splitlines()[0]
    for fragment in case.fragments:
        assert fragment.replace("{line}", str(last_line)) in message


@pytest.mark.parametrize("case", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_raises_config_error_from_the_api(case: Bad, write_config) -> None:
    with pytest.raises(ConfigError) as raised:
        run_config = load_run_config(write_config(case.source, drop=case.drop))
        check(run_config, create_plugin_manager(run_config_module=run_config.module))
    assert raised.value.problems


def test_a_good_config_passes(write_config) -> None:
    path = write_config()
    result = _check(path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{path}: valid")
    assert "warning" not in result.output


def test_several_problems_are_reported_together(write_config) -> None:
    path = write_config(
        """
        max_epoch = 10
        monitor_op = 'minimize'
        validation_fraction = 1.5
        model_type = 'keras'
        search_space = {'units': {'type': 'range', 'bounds': [8, 4]}}
        """
    )
    message = _assert_clean_user_error(_check(path))
    expected = [
        "- max_epoch = 10",
        "- monitor_op = 'minimize'",
        "- validation_fraction = 1.5",
        "- model_type = 'keras'",
        "- search_space['units']['bounds'] = [8, 4]: expected lower bound < upper bound",
        "- search_space = (no 'batch_size')",
    ]
    for fragment in expected:
        assert fragment in message
    assert message.splitlines()[0].endswith(f"has {message.count(chr(10) + '  - ')} problems:")
    assert message.count("\n  - ") >= len(expected)


def test_a_derived_value_is_not_reported_twice(write_config) -> None:
    """An invalid max_epochs is reported once, not again through the ASHA_max_t it is copied to."""
    message = _assert_clean_user_error(_check(write_config("max_epochs = 'many'")))
    assert "has 1 problem:" in message
    assert "ASHA_max_t" not in message


def test_an_invalid_perform_flag_does_not_cascade(write_config) -> None:
    message = _assert_clean_user_error(_check(write_config("perform_main_hyperopt = 'yes'")))
    assert "has 1 problem:" in message


def test_missing_config_file(tmp_path: Path) -> None:
    message = _assert_clean_user_error(_check(tmp_path / "nowhere.py"))
    assert "nowhere.py" in message and "file not found" in message


# ---------------------------------------------------------------------------------------------------------------
# Defaults, derived defaults and the defaults file
# ---------------------------------------------------------------------------------------------------------------


def _resolved(config: Path, *arguments: str) -> dict:
    result = _check(config, "--json", *arguments)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_keras_config_with_defaults(write_config) -> None:
    payload = _resolved(write_config())
    parameters = payload["parameters"]
    assert parameters["model_type"] == {"value": "Keras", "source": "run-config"}
    assert parameters["max_epochs"] == {"value": 200, "source": "built-in"}
    assert parameters["monitor_name"] == {"value": "val_loss", "source": "built-in"}
    assert parameters["max_num_events"]["value"] == "inf"
    assert parameters["search_space"]["value"]["batch_size"] == 64
    assert payload["warnings"] == []
    assert payload["hooks"]["fit_function"][-1] == "optima_core.builtin.plugin"


def test_asha_max_t_follows_max_epochs(write_config) -> None:
    """Pitfall 5: derived defaults are resolved after merging."""
    parameters = _resolved(write_config("max_epochs = 40"))["parameters"]
    assert parameters["ASHA_max_t"] == {"value": 40, "source": "derived from max_epochs"}
    explicit = _resolved(write_config("max_epochs = 40\nASHA_max_t = 30"))["parameters"]
    assert explicit["ASHA_max_t"] == {"value": 30, "source": "run-config"}


def test_defaults_file_overrides_builtin_defaults(write_config, tmp_path: Path) -> None:
    defaults = tmp_path / "site_defaults.py"
    defaults.write_text("early_stopping_patience = 9\nmax_epochs = 50\nnum_samples_main = 3\n")
    parameters = _resolved(write_config("num_samples_main = 5"), "--defaults", str(defaults))["parameters"]
    assert parameters["early_stopping_patience"] == {"value": 9, "source": "defaults file"}
    assert parameters["num_samples_main"] == {"value": 5, "source": "run-config"}
    assert parameters["ASHA_max_t"] == {"value": 50, "source": "derived from max_epochs"}
    assert parameters["overtraining_patience"] == {"value": 6, "source": "built-in"}


def test_defaults_file_with_an_unknown_name(write_config, tmp_path: Path) -> None:
    defaults = tmp_path / "site_defaults.py"
    defaults.write_text("early_stoping_patience = 9\nfavourite_colour = 'green'\n")
    message = _assert_clean_user_error(_check(write_config(), "--defaults", str(defaults)))
    assert "- early_stoping_patience (defaults file) = 9" in message
    assert "did you mean 'early_stopping_patience'?" in message
    assert "- favourite_colour (defaults file) = 'green'" in message


def test_defaults_file_that_fails(write_config, tmp_path: Path) -> None:
    defaults = tmp_path / "site_defaults.py"
    defaults.write_text("max_epochs = 10\n1 / 0\n")
    message = _assert_clean_user_error(_check(write_config(), "--defaults", str(defaults)))
    assert "The defaults file" in message and "(line 2)" in message and "ZeroDivisionError" in message


def test_extra_names_are_shown_not_rejected(write_config) -> None:
    payload = _resolved(write_config("my_helper_constant = 12.5"))
    assert payload["extra_names"] == ["my_helper_constant"]


def test_asha_grace_period_warning(write_config) -> None:
    """Pitfall 6: with ASHA_grace_period >= ASHA_max_t ASHA never prunes; say so."""
    result = _check(write_config("max_epochs = 15"))
    assert result.exit_code == 0, result.output
    assert "warning: ASHA_grace_period=15 >= ASHA_max_t=15: ASHA will never prune a trial" in result.output
    quiet = _check(write_config("max_epochs = 15\nASHA_grace_period = 4"))
    assert "ASHA will never prune" not in quiet.output
    no_asha = _check(write_config("max_epochs = 15\nuse_ASHAScheduler = False"))
    assert "ASHA will never prune" not in no_asha.output


DEFECT_7 = [name for name in BAD_CONFIGS if name in {
    "search-space-key-no-model-reads", "hyperparameter-at-top-level", "activation-wrong-case", "negative-learning-rate",
    "monitor-name-not-reported", "asha-grace-period-above-max-epochs",
}]  # fmt: skip


@pytest.mark.parametrize("name", DEFECT_7)
def test_optima_run_refuses_it_before_the_output_folder_and_ray_exist(name: str, write_config, tmp_path: Path) -> None:
    case = BAD_CONFIGS[name]
    output = tmp_path / "out"
    path = write_config(f"output_path = {str(output)!r}\n{case.source}", drop=case.drop)
    message = _assert_clean_user_error(CliRunner().invoke(cli, ["run", str(path)]))
    assert all(fragment in message for fragment in case.fragments)
    assert not output.exists()


def test_asha_grace_period_beyond_max_epochs_with_a_larger_max_t_warns(write_config) -> None:
    """Ray accepts grace_period <= max_t, but no trial reaches a grace period beyond max_epochs."""
    result = _check(write_config("max_epochs = 10\nASHA_max_t = 40"))
    assert result.exit_code == 0, result.output
    assert "warning: ASHA_grace_period=15 >= max_epochs=10: ASHA will never prune a trial" in result.output


#: A search space with a key the built-in model does not read.
UNREAD_KEY = "search_space = {'batch_size': 32, 'unit': 16, 'activation': 'ReLU'}\n"


def test_an_unread_key_is_a_warning_when_a_run_config_hook_receives_model_config(write_config) -> None:
    """A run-config hook given model_config may read the key: warn, do not refuse."""
    hook = "def build_tensorflow_dataset(ray_dataset, input_handler, run_config, model_config):\n    return None\n"
    result = _check(write_config(UNREAD_KEY.replace(", 'activation': 'ReLU'", "") + hook))
    assert result.exit_code == 0, result.output
    assert "warning: search_space['unit']: the built-in 'Keras' model does not read 'unit' (did you mean" in (
        result.output
    )
    assert "only the run-config's build_tensorflow_dataset can use it" in result.output


def test_a_run_config_model_may_read_any_key_and_report_any_metric(write_config) -> None:
    """When the run-config replaces the model, its keys, values and metric names cannot be known: no error."""
    build_model = "def build_model(model_config, input_handler, train_data):\n    return None\n"
    result = _check(write_config(UNREAD_KEY + "monitor_name = 'val_auc'\nunits = 3\n" + build_model))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_a_top_level_name_also_in_the_search_space_is_a_warning_for_a_run_config_model(write_config) -> None:
    build_model = "def build_model(model_config, input_handler, train_data):\n    return None\n"
    result = _check(write_config("learning_rate = 0.05\n" + build_model))
    assert result.exit_code == 0, result.output
    assert "warning: learning_rate is set at the top level of the run-config and in search_space" in result.output


def test_values_the_builtin_model_accepts_pass(write_config) -> None:
    space = (
        "search_space = {'batch_size': 32, 'activation': {'type': 'choice', 'values': ['relu', 'selu']}, "
        "'units_2': 16, 'loss_weight_class_1': 2.0, 'learning_rate': {'type': 'range', 'bounds': [1e-4, 1e-2]}}"
    )
    result = _check(write_config(space))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_quickstart_is_valid() -> None:
    quickstart = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"
    if not create_plugin_manager().hook_providers("LitModel"):
        pytest.xfail("built-in Lightning MLP not registered yet")
    result = _check(quickstart)
    assert result.exit_code == 0, result.output
    assert "model_type = 'Lightning'" in result.output
