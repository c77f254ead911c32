"""Property tests: whatever a run-config holds, validation reports problems and never raises (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optima_core.config.loader import RunConfig, resolve
from optima_core.config.parameters import PARAMETERS, Derived
from optima_core.config.problems import ConfigError, Problem
from optima_core.config.validation import check, validate

FLAGS = ("perform_variable_opt", "perform_main_hyperopt", "perform_PBT_hyperopt")

leaf = (
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | st.sampled_from(["val_loss", "loss", "log10", "int", "range", "choice", "log", "normal", "batch_size", "Keras"])
    | st.just(len)
)
values = st.recursive(
    leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.tuples(children, children, children)
        | st.dictionaries(
            st.sampled_from(["type", "bounds", "values", "only", "batch_size", "pt"]), children, max_size=4
        )
    ),
    max_leaves=10,
)

hp_names = st.sampled_from(["batch_size", "learning_rate", "num_layers", "units", "a", "b"]) | st.integers(0, 2)
condition = st.tuples(st.lists(hp_names, max_size=3).map(tuple) | leaf, st.just(lambda *a: 1) | leaf)
entry_value = st.recursive(
    leaf, lambda children: st.lists(children, max_size=3) | st.tuples(children, children), max_leaves=5
)
entry = (
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "bounds",
                "values",
                "value_type",
                "sampling",
                "mean",
                "std",
                "step",
                "only",
                "supports_mutation",
                "x",
            ]
        ),
        entry_value | condition,
        max_size=6,
    )
    | leaf
)
search_spaces = st.dictionaries(hp_names, entry, max_size=5)
flag_values = st.tuples(*(st.booleans() | st.none() | st.just(1) for _ in FLAGS))


def _validate(settings_: dict) -> list[Problem]:
    resolved, sources = resolve(settings_)
    report = validate(RunConfig(resolved, sources=sources))
    for problem in report.problems:
        assert isinstance(problem, Problem)
        assert problem.parameter and str(problem)
    return report.problems


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from([p.name for p in PARAMETERS]), values, max_size=6))
def test_any_parameter_values_validate_without_raising(settings_: dict) -> None:
    _validate(settings_)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(search_spaces, flag_values)
def test_any_search_space_validates_without_raising(space: dict, flags: tuple) -> None:
    _validate({"search_space": space, **dict(zip(FLAGS, flags, strict=True))})


#: Parameters whose default is only valid together with something else (a run-config get_inputs, for inputs_file).
NEEDS_MORE = {"inputs_file"}
#: An existing file with an accepted suffix (its content is not read by validation).
EXISTING_INPUTS = Path(__file__).resolve().parents[2] / "examples" / "data" / "quickstart.parquet"


@pytest.mark.parametrize(
    "parameter", [p for p in PARAMETERS if not p.required and p.name not in NEEDS_MORE], ids=lambda p: p.name
)
def test_every_builtin_default_is_valid_on_its_own(parameter) -> None:
    """Setting a parameter explicitly to its built-in default never creates a problem about it."""
    settings_ = {flag: False for flag in FLAGS} | {"perform_main_hyperopt": True, "inputs_file": str(EXISTING_INPUTS)}
    if not isinstance(parameter.default, Derived):
        settings_[parameter.name] = parameter.default
    assert _validate(settings_) == []


def test_check_raises_config_error_listing_every_problem() -> None:
    resolved, sources = resolve({"perform_main_hyperopt": "yes", "max_epochs": 0, "monitor_op": "up"})
    try:
        check(RunConfig(resolved, sources=sources))
    except ConfigError as error:
        parameters = {p.parameter for p in error.problems if isinstance(p, Problem)}
        assert {
            "perform_variable_opt",
            "perform_main_hyperopt",
            "perform_PBT_hyperopt",
            "max_epochs",
            "monitor_op",
        } <= (parameters)
    else:
        raise AssertionError("check() accepted an invalid run-config")
