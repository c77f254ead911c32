"""Search-space validation: the reference's rules for entries, bounds, sampling, conditions and stages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from optima_core.cli import cli
from optima_core.config.loader import RunConfig, resolve
from optima_core.config.search_space import validate_search_space
from optima_core.config.validation import validate


@dataclass(frozen=True)
class BadSpace:
    """``search_space`` source (plus other settings) and the fragments the error must contain."""

    space: str
    fragments: tuple[str, ...]
    settings: str = ""


BS = "'batch_size': 32"
PBT_ONLY = "perform_main_hyperopt = False\nperform_PBT_hyperopt = True"

BAD_SPACES: dict[str, BadSpace] = {
    "no-batch-size": BadSpace("{'units': 8}", ("- search_space = (no 'batch_size')",)),
    "float-batch-size": BadSpace("{'batch_size': 32.0}", ("- search_space['batch_size'] = 32.0",)),
    "bool-batch-size": BadSpace("{'batch_size': True}", ("- search_space['batch_size'] = True",)),
    "float-range-batch-size": BadSpace(
        "{'batch_size': {'type': 'range', 'bounds': [16, 256]}}",
        ("- search_space['batch_size']", "add 'value_type': 'int'"),
    ),
    "float-choice-batch-size": BadSpace(
        "{'batch_size': {'type': 'choice', 'values': [16, 32.5]}}",
        ("- search_space['batch_size']", "choice values that are positive integers"),
    ),
    "not-a-dict": BadSpace("[('batch_size', 32)]", ("- search_space = [('batch_size', 32)]: expected a dict",)),
    "non-string-name": BadSpace(f"{{{BS}, 3: 4}}", ("- search_space[3] = 3",)),
    "non-string-name-under-pbt": BadSpace(
        f"{{{BS}, 3: {{'type': 'range', 'bounds': [1.0, 2.0]}}}}",
        ("- search_space[3] = 3: expected a string: hyperparameter names are strings",),
        settings=PBT_ONLY,
    ),
    "unknown-entry-key": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [0.1, 1.0], 'smapling': 'log'}}}}",
        ("- search_space['lr']['smapling'] = 'log'", "did you mean 'sampling'?"),
    ),
    "unknown-type": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'ranges', 'bounds': [0.1, 1.0]}}}}",
        ("- search_space['lr']['type'] = 'ranges': expected 'range' or 'choice'",),
    ),
    "no-type-no-bounds": BadSpace(f"{{{BS}, 'lr': {{}}}}", ("- search_space['lr'] = {}: expected a 'type'",)),
    "bad-value-type": BadSpace(
        f"{{{BS}, 'n': {{'type': 'range', 'bounds': [1, 4], 'value_type': 'integer'}}}}",
        ("- search_space['n']['value_type'] = 'integer'",),
    ),
    "bad-sampling": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [0.1, 1.0], 'sampling': 'logarithmic'}}}}",
        ("- search_space['lr']['sampling'] = 'logarithmic'",),
    ),
    "bounds-not-numbers": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': ['a', 1.0]}}}}",
        ("- search_space['lr']['bounds'] = ['a', 1.0]",),
    ),
    "three-bounds": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [1, 2, 3]}}}}",
        ("- search_space['lr']['bounds'] = [1, 2, 3]",),
    ),
    "lower-above-upper": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [1.0, 0.1]}}}}",
        ("- search_space['lr']['bounds'] = [1.0, 0.1]: expected lower bound < upper bound",),
    ),
    "lower-equals-upper": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [0.5, 0.5]}}}}",
        ("- search_space['lr']['bounds'] = [0.5, 0.5]: expected lower bound < upper bound",),
    ),
    "log-with-step": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [0.1, 1.0], 'sampling': 'log', 'step': 0.1}}}}",
        ("- search_space['lr']['step'] = 0.1: expected no 'step' with 'sampling': 'log'",),
    ),
    "log-non-positive": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [0.0, 1.0], 'sampling': 'log'}}}}",
        ("- search_space['lr']['bounds'] = [0.0, 1.0]: expected positive bounds for 'sampling': 'log'",),
    ),
    "negative-step": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [1.0, 2.0], 'step': -0.5}}}}",
        ("- search_space['lr']['step'] = -0.5",),
    ),
    "float-step-for-int": BadSpace(
        f"{{{BS}, 'n': {{'type': 'range', 'bounds': [1, 9], 'value_type': 'int', 'step': 0.5}}}}",
        ("- search_space['n']['step'] = 0.5: expected a positive integer step",),
    ),
    "normal-on-int": BadSpace(
        f"{{{BS}, 'n': {{'type': 'range', 'bounds': [1, 10], 'value_type': 'int', 'sampling': 'normal', "
        "'mean': 5, 'std': 1}}",
        ("- search_space['n']['sampling'] = 'normal'", "normal sampling of integers is not supported"),
    ),
    "normal-without-mean-std": BadSpace(
        f"{{{BS}, 'lr': {{'type': 'range', 'bounds': [0.1, 1.0], 'sampling': 'normal'}}}}",
        ("- search_space['lr']['mean'] = None", "- search_space['lr']['std'] = None"),
    ),
    "normal-negative-std": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'sampling': 'normal', 'mean': 0.0, 'std': -1.0}}}}",
        ("- search_space['x']['std'] = -1.0: expected a positive number",),
    ),
    "mean-without-normal": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'bounds': [0.0, 1.0], 'mean': 0.5}}}}",
        ("- search_space['x']['mean'] = 0.5", "unless 'sampling' is 'normal'"),
    ),
    "int-range-float-bounds": BadSpace(
        f"{{{BS}, 'n': {{'type': 'range', 'bounds': [1.5, 10], 'value_type': 'int'}}}}",
        ("- search_space['n']['bounds'] = [1.5, 10]: expected integer bounds",),
    ),
    "empty-choice": BadSpace(
        f"{{{BS}, 'act': {{'type': 'choice', 'values': []}}}}",
        ("- search_space['act']['values'] = []: expected a non-empty list",),
    ),
    "choice-without-values": BadSpace(
        f"{{{BS}, 'act': {{'type': 'choice'}}}}", ("- search_space['act']['values'] = None",)
    ),
    "choice-with-bounds": BadSpace(
        f"{{{BS}, 'act': {{'type': 'choice', 'values': [1, 2], 'bounds': [1, 2]}}}}",
        ("- search_space['act']['bounds'] = [1, 2]: expected no range settings in a 'choice' entry",),
    ),
    "range-with-values": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'bounds': [1.0, 2.0], 'values': [1]}}}}",
        ("- search_space['x']['values'] = [1]",),
    ),
    "supports-mutation-not-bool": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'bounds': [1.0, 2.0], 'supports_mutation': 'yes'}}}}",
        ("- search_space['x']['supports_mutation'] = 'yes': expected True or False",),
    ),
    "only-unknown-hp": BadSpace(
        f"{{{BS}, 'units': 4, 'act': {{'type': 'choice', 'values': ['a', 'b'], "
        "'only': (('unit',), lambda u: u > 1)}}",
        ("- search_space['act']['only'] = 'unit'", "did you mean 'units'?"),
    ),
    "only-bad-shape": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'bounds': [1.0, 2.0], 'only': 5}}}}",
        ("- search_space['x']['only'] = 5: expected a tuple (('hp_a', 'hp_b', ...), callable)",),
    ),
    "conditional-bounds-unknown-hp": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'bounds': (('nodes',), lambda n: (1.0, 2.0))}}}}",
        ("- search_space['x']['bounds'] = 'nodes'", "names of other hyperparameters"),
    ),
    "depends-on-itself": BadSpace(
        f"{{{BS}, 'x': {{'type': 'range', 'bounds': (('x',), lambda x: (1.0, 2.0))}}}}",
        ("- search_space['x']['bounds'] = 'x'", "it depends on itself"),
    ),
    "dependency-cycle": BadSpace(
        f"{{{BS}, 'a': {{'type': 'choice', 'values': [1, 2], 'only': (('b',), lambda b: True)}}, "
        "'b': {'type': 'choice', 'values': (('a',), lambda a: [1, 2])}}",
        ("- search_space = 'a -> b -> a': expected dependencies without cycles",),
    ),
    "conditional-under-pbt": BadSpace(
        f"{{{BS}, 'num_layers': 2, 'learning_rate': {{'type': 'range', 'sampling': 'log', "
        "'bounds': (('num_layers',), lambda n: (1e-4, 1e-2))}}",
        ("- search_space['learning_rate']", "tuned by Population Based Training"),
        settings="perform_PBT_hyperopt = True",
    ),
    "only-under-pbt": BadSpace(
        f"{{{BS}, 'num_layers': 2, 'dropout': {{'type': 'range', 'bounds': [0.0, 0.3], "
        "'only': (('num_layers',), lambda n: n > 1)}}",
        ("- search_space['dropout']", "tuned by Population Based Training"),
        settings="perform_PBT_hyperopt = True",
    ),
    "not-fixed-without-optimization": BadSpace(
        f"{{{BS}, 'learning_rate': {{'type': 'range', 'bounds': [1e-4, 1e-2]}}}}",
        ("- search_space['learning_rate']", "with all three perform_* flags False only fixed hyperparameters"),
        settings="perform_main_hyperopt = False",
    ),
    "not-mutatable-when-only-pbt": BadSpace(
        f"{{{BS}, 'num_layers': {{'type': 'range', 'bounds': [1, 3], 'value_type': 'int'}}}}",
        ("- search_space['num_layers']", "when only PBT runs, nothing else can be optimized"),
        settings=PBT_ONLY,
    ),
    "not-mutatable-flag-when-only-pbt": BadSpace(
        f"{{{BS}, 'dropout': {{'type': 'range', 'bounds': [0.0, 0.3], 'supports_mutation': False}}}}",
        ("- search_space['dropout']", "when only PBT runs"),
        settings=PBT_ONLY,
    ),
}


def test_the_table_is_large_enough() -> None:
    assert len(BAD_SPACES) >= 30


@pytest.mark.parametrize("case", BAD_SPACES.values(), ids=BAD_SPACES.keys())
def test_bad_search_space_is_a_clear_error(case: BadSpace, write_config) -> None:
    path = write_config(f"{case.settings}\nsearch_space = {case.space}")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    for fragment in case.fragments:
        assert fragment in result.stderr


GOOD_SPACES: dict[str, dict] = {
    "fixed-only": {"batch_size": 128, "units": 16, "activation": "relu"},
    "int-range-batch-size": {"batch_size": {"type": "range", "bounds": [16, 256], "value_type": "int", "step": 16}},
    "choice-batch-size": {"batch_size": {"type": "choice", "values": [32, 64]}},
    "implicit-types": {
        "batch_size": 32,
        "lr": {"bounds": [1e-4, 1e-2], "sampling": "log"},
        "act": {"values": ["relu", "tanh"]},
    },
    "log-int": {
        "batch_size": 32,
        "units": {"type": "range", "bounds": [8, 128], "value_type": "int", "sampling": "log"},
    },
    "float-step": {"batch_size": 32, "dropout": {"type": "range", "bounds": [0.0, 0.5], "step": 0.1}},
    "normal-float": {"batch_size": 32, "x": {"type": "range", "sampling": "normal", "mean": 0.0, "std": 1.0}},
    "normal-float-bounded": {
        "batch_size": 32,
        "x": {"type": "range", "bounds": [-1.0, 1.0], "sampling": "normal", "mean": 0.0, "std": 0.5},
    },
    "conditional": {
        "batch_size": 32,
        "num_layers": {"type": "range", "bounds": [1, 4], "value_type": "int"},
        "units_2": {
            "type": "range",
            "bounds": (("num_layers",), lambda n: (8, 64)),
            "value_type": "int",
            "only": (("num_layers",), lambda n: n >= 2),
        },
        "act": {"type": "choice", "values": (("num_layers",), lambda n: ["relu"] if n > 2 else ["relu", "tanh"])},
    },
}


@pytest.mark.parametrize("space", GOOD_SPACES.values(), ids=GOOD_SPACES.keys())
def test_good_search_space(space: dict) -> None:
    assert validate_search_space(space) == []


def _stage_problems(space: dict, **flags: bool) -> list:
    settings = {"perform_variable_opt": False, "perform_main_hyperopt": False, "perform_PBT_hyperopt": False}
    settings.update(flags)
    values, sources = resolve({**settings, "search_space": space, "inputs_file": __file__})
    return [p for p in validate(RunConfig(values, sources=sources)).problems if p.parameter.startswith("search_space")]


def test_pbt_with_mutatable_entries_is_fine() -> None:
    space = {
        "batch_size": 32,
        "learning_rate": {"type": "range", "bounds": [1e-4, 1e-2], "sampling": "log"},
        "custom_hp": {"type": "range", "bounds": [0.0, 1.0], "supports_mutation": True},
        "loss_weight_class_1": {"type": "range", "bounds": [0.5, 2.0]},
    }
    assert _stage_problems(space, perform_PBT_hyperopt=True) == []


def test_conditions_are_fine_when_pbt_does_not_tune_the_entry() -> None:
    space = {
        "batch_size": 32,
        "num_layers": {"type": "range", "bounds": [1, 3], "value_type": "int"},
        "units": {"type": "range", "bounds": (("num_layers",), lambda n: (8, 32)), "value_type": "int"},
    }
    assert _stage_problems(space, perform_main_hyperopt=True) == []
    assert _stage_problems(space, perform_main_hyperopt=True, perform_PBT_hyperopt=True) == []


def test_fixed_values_are_fine_without_optimization() -> None:
    assert _stage_problems({"batch_size": 32, "units": 16}) == []
