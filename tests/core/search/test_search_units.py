"""Unit tests of the search-space translation: parsing, mutation flags, samplers, the reference's examples, errors."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import optuna
import pytest

from optima_core.plugins.descriptors import BackendDescriptor
from optima_core.search import Conditional, mutation_flags, parse_search_space
from optima_core.search.optuna_space import define_by_run, make_sampler, startup_trials
from optima_core.search.sampling import from_fraction, grid_upper, snap, truncated_normal


@pytest.fixture(autouse=True)
def _quiet_optuna() -> Iterator[None]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield


def configs(space: dict[str, Any], n: int, *, seed: int = 0, use_tpe: bool = False) -> list[dict[str, Any]]:
    study = optuna.create_study(sampler=make_sampler(use_tpe, False, seed, n))
    suggest = define_by_run(space)
    result = []
    for _ in range(n):
        trial = study.ask()
        result.append(suggest(trial))
        study.tell(trial, 0.0)
    return result


# ---- parsing ---------------------------------------------------------------------------------------------------


def test_entries_are_parsed_into_typed_entries_in_dependency_order() -> None:
    def bounds(n: int) -> tuple[int, int]:
        return (n, 2 * n)

    space = {
        "units": {"type": "range", "bounds": (("num_layers",), bounds), "value_type": "int"},
        "num_layers": {"bounds": (1, 4), "value_type": "int"},
        "lr": {"type": "range", "bounds": (1e-4, 1e-2), "sampling": "log", "supports_mutation": False},
        "act": {"values": ["relu", "tanh"]},
        "epochs": 5,
    }
    parsed = parse_search_space(space)
    assert parsed.names == ("units", "num_layers", "lr", "act", "epochs")
    assert [e.name for e in parsed] == ["num_layers", "units", "lr", "act", "epochs"]
    units, layers = parsed["units"], parsed["num_layers"]
    assert units.kind == "range" and units.value_type == "int" and units.step == 1 and units.conditional
    assert units.bounds == Conditional(("num_layers",), bounds) and units.dependencies == ("num_layers",)
    assert layers.bounds == (1, 4) and not layers.conditional
    assert parsed["lr"].step is None and parsed["lr"].sampling == "log" and parsed["lr"].supports_mutation is False
    assert parsed["act"].kind == "choice" and parsed["act"].values == ("relu", "tanh")
    assert parsed["epochs"].kind == "fixed" and parsed["epochs"].value == 5
    assert [e.name for e in parsed.searched] == ["num_layers", "units", "lr", "act"]


def test_cycles_and_unknown_dependencies_are_refused() -> None:
    cycle = {
        "a": {"bounds": (("b",), lambda b: (0, 1))},
        "b": {"bounds": (("a",), lambda a: (0, 1))},
    }
    with pytest.raises(ValueError, match="cycle"):
        parse_search_space(cycle)
    with pytest.raises(ValueError, match=r"search_space\['a'\]: depends on 'nope'"):
        parse_search_space({"a": {"values": (("nope",), lambda x: [1])}})


def test_the_search_package_stays_import_light() -> None:
    code = "import sys, optima_core.search; print(any(m in sys.modules for m in ('optuna', 'ray', 'scipy')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# ---- mutation flags --------------------------------------------------------------------------------------------


#: A backend whose built-in model (replaced by a run-config ``build_model``) can mutate three hyperparameters.
TOY_BACKEND = BackendDescriptor(
    "Toy",
    "toy:Backend",
    model_hooks=("build_model",),
    mutatable=("learning_rate", "dropout", "loss_weight_class_N"),
)


def test_mutation_flags_follow_the_reference_rule() -> None:
    space = {
        "learning_rate": {"bounds": (1e-4, 1e-2)},
        "dropout": {"bounds": (0.0, 0.5), "supports_mutation": False},
        "loss_weight_class_3": {"bounds": (0.5, 2.0)},
        "num_layers": {"bounds": (1, 4), "value_type": "int"},
        "units": {"bounds": (8, 64), "value_type": "int", "supports_mutation": True},
        "batch_size": 32,
    }
    assert mutation_flags(space, TOY_BACKEND, ("get_inputs",)) == {
        "learning_rate": True,
        "dropout": False,
        "loss_weight_class_3": True,
        "num_layers": False,
        "units": True,
    }
    only_explicit = {
        "learning_rate": False,
        "dropout": False,
        "loss_weight_class_3": False,
        "num_layers": False,
        "units": True,
    }
    # the run-config replaces the built-in model: its defaults no longer apply, only what is set explicitly
    assert mutation_flags(space, TOY_BACKEND, ("build_model",)) == only_explicit
    assert mutation_flags(space) == only_explicit  # no backend facts known


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("loss_weight_class_0", True),
        ("loss_weight_class_12", True),
        ("loss_weight_class_", False),
        ("loss_weight_class_x", False),
        ("loss_weight_class_N", True),
        ("learning_rate", True),
        ("learning_rate_2", False),
    ],
)
def test_a_trailing_n_in_the_mutatable_list_matches_any_index(name: str, expected: bool) -> None:
    assert TOY_BACKEND.is_builtin_mutatable(name) is expected


# ---- samplers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_trials", "startup"), [(1, 1), (2, 1), (6, 2), (9, 3), (30, 10), (500, 10)])
def test_tpe_startup_trials_scale_with_short_runs(n_trials: int, startup: int) -> None:
    assert startup_trials(n_trials) == startup
    sampler = make_sampler(True, False, 1, n_trials)
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert sampler._n_startup_trials == startup


def test_make_sampler_choices() -> None:
    assert isinstance(make_sampler(False, True, 1, 10), optuna.samplers.RandomSampler)
    assert make_sampler(True, False, 1, 10)._multivariate is False  # Optuna 5 would default to multivariate
    assert make_sampler(True, True, 1, 10)._multivariate is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        assert make_sampler(True, True, 1, 10, group=True)._group is True
    assert make_sampler(True, False, 1, 10, group=True)._group is False


def test_short_tpe_runs_are_not_pure_random_search() -> None:
    """With 6 trials, the last 4 come from TPE: they differ from what the random sampler gives with the seed."""
    space = {"x": {"bounds": (0.0, 1.0)}, "batch_size": 32}
    tpe, random = configs(space, 6, seed=3, use_tpe=True), configs(space, 6, seed=3)
    assert [c["x"] for c in tpe[:2]] == [c["x"] for c in random[:2]]
    assert [c["x"] for c in tpe[2:]] != [c["x"] for c in random[2:]]


# ---- the reference's features ----------------------------------------------------------------------------------


def test_only_chain_with_none_propagation() -> None:
    """B only if A > 0; C only if B exists and B > 0; D's bounds see None for a rejected C."""
    seen: list[Any] = []

    def d_bounds(c: float | None) -> tuple[float, float]:
        seen.append(c)
        return (0.0, 1.0) if c is None else (10.0, 11.0)

    space = {
        "D": {"bounds": (("C",), d_bounds)},
        "C": {"bounds": (-1.0, 1.0), "only": (("B",), lambda b: b is not None and b > 0)},
        "B": {"bounds": (-1.0, 1.0), "only": (("A",), lambda a: a > 0)},
        "A": {"bounds": (-1.0, 1.0)},
        "batch_size": 64,
    }
    results = configs(space, 200)
    for config, c in zip(results, seen, strict=True):
        assert config["batch_size"] == 64
        assert ("B" in config) == (config["A"] > 0)
        assert ("C" in config) == ("B" in config and config["B"] > 0)
        assert c == config.get("C")
        assert (10.0 <= config["D"] <= 11.0) if "C" in config else (0.0 <= config["D"] <= 1.0)
        assert list(config) == [k for k in space if k in config]  # the run-config's order
    assert {len(c) for c in results} == {3, 4, 5}


def test_normal_sampling_has_the_requested_mean_and_std() -> None:
    free = [c["x"] for c in configs({"x": {"type": "range", "sampling": "normal", "mean": 3.0, "std": 0.5}}, 600)]
    assert statistics.fmean(free) == pytest.approx(3.0, abs=0.08)
    assert statistics.stdev(free) == pytest.approx(0.5, rel=0.1)
    bounded = [
        c["x"]
        for c in configs(
            {"x": {"type": "range", "sampling": "normal", "mean": 0.0, "std": 1.0, "bounds": (0.5, 4)}}, 300
        )
    ]
    assert min(bounded) >= 0.5 and max(bounded) <= 4
    assert statistics.median(bounded) < 1.2  # truncated normal: crowded at the lower bound, not uniform (2.25)
    stepped = {
        c["x"] for c in configs({"x": {"type": "range", "sampling": "normal", "mean": 0, "std": 1, "step": 0.5}}, 100)
    }
    assert all((2 * v).is_integer() for v in stepped) and len(stepped) > 3


def test_stepped_and_log_ranges() -> None:
    results = configs(
        {
            "dropout": {"bounds": (0.0, 0.5), "step": 0.05},
            "odd": {"bounds": (0.1, 1.0), "step": 0.3},
            "units": {"bounds": (3, 20), "value_type": "int", "step": 4},
            "lr": {"bounds": (1e-5, 1e-1), "sampling": "log"},
            "width": {"bounds": (1, 1000), "value_type": "int", "sampling": "log"},
        },
        300,
    )
    assert {c["dropout"] for c in results} == {round(0.05 * k, 2) for k in range(11)}  # exact grid values
    assert {c["odd"] for c in results} == {0.1, 0.4, 0.7, 1.0}
    assert {c["units"] for c in results} == {3, 7, 11, 15, 19}
    lrs = [c["lr"] for c in results]
    assert sum(lr < 1e-3 for lr in lrs) > 100  # log-uniform: half of the draws below the geometric middle
    assert all(type(c["width"]) is int and 1 <= c["width"] <= 1000 for c in results)


def test_choices_return_the_real_objects() -> None:
    space = {
        "layers": {"values": [(32, 32), (64,), [8, 8, 8]]},
        "mixed": {"values": [1, True, 1.0]},
        "plain": {"values": ["relu", "tanh", None]},
    }
    results = configs(space, 100)
    assert {repr(c["layers"]) for c in results} == {"(32, 32)", "(64,)", "[8, 8, 8]"}
    assert {(type(c["mixed"]).__name__, c["mixed"]) for c in results} == {("int", 1), ("bool", True), ("float", 1.0)}
    assert {c["plain"] for c in results} == {"relu", "tanh", None}


def test_conditional_values_and_bounds() -> None:
    space = {
        "optimizer": {"values": ["adam", "sgd"]},
        "momentum": {"values": (("optimizer",), lambda o: [0.0] if o == "adam" else [0.5, 0.9, 0.99])},
        "n": {"bounds": (1, 3), "value_type": "int"},
        "units": {"bounds": (("n",), lambda n: (n, n * 10)), "value_type": "int", "step": 2},
        "scale": {"bounds": (("n",), lambda n: (10.0**-n, 1.0)), "sampling": "log"},
    }
    results = configs(space, 300, use_tpe=True)
    for c in results:
        assert c["momentum"] == 0.0 if c["optimizer"] == "adam" else c["momentum"] in (0.5, 0.9, 0.99)
        assert c["n"] <= c["units"] <= 10 * c["n"] and (c["units"] - c["n"]) % 2 == 0 and type(c["units"]) is int
        assert 10.0 ** -c["n"] <= c["scale"] <= 1.0
    assert {c["momentum"] for c in results} == {0.0, 0.5, 0.9, 0.99}


# ---- errors ----------------------------------------------------------------------------------------------------


def test_a_conditional_callable_returning_bad_bounds_is_named() -> None:
    space = {"n": {"bounds": (1, 3), "value_type": "int"}, "u": {"bounds": (("n",), lambda n: (n, 0))}}
    with pytest.raises(ValueError, match=r"search_space\['u'\]\['bounds'\]: the callable returned \(\d, 0\) for n=\d"):
        configs(space, 1)
    space["u"] = {"bounds": (("n",), lambda n: (0.5, 3)), "value_type": "int"}
    with pytest.raises(ValueError, match="integers"):
        configs(space, 1)
    space["u"] = {"values": (("n",), lambda n: [])}
    with pytest.raises(ValueError, match=r"search_space\['u'\]\['values'\].*non-empty"):
        configs(space, 1)
    space["u"] = {"bounds": (0, 1), "only": (("n",), lambda n: n.missing)}
    with pytest.raises(ValueError, match=r"search_space\['u'\]\['only'\]: the condition failed for n="):
        configs(space, 1)


def test_slash_in_a_name_is_refused_for_ray() -> None:
    with pytest.raises(ValueError, match=r"search_space\['layer/units'\].*'/'"):
        define_by_run({"layer/units": {"bounds": (1, 2)}})


# ---- numeric helpers -------------------------------------------------------------------------------------------


def test_numeric_helpers() -> None:
    assert grid_upper(0.1, 1.0, 0.3, False) == 1.0 and grid_upper(3, 20, 4, True) == 19
    assert snap(0.61, 0.0, 0.5, 0.05) == 0.5 and snap(0.123, 0.0, 0.5, 0.05) == 0.1
    assert snap(7.4, 3, 20, 4, True) == 7 and snap(-3.0, None, None, 2.0) == -4.0
    assert snap(1.7, 1, 1000, None, True) == 2
    assert from_fraction(1.0, 1, 10, integer=True, log=False, step=3) == 10
    assert from_fraction(0.0, 1, 10, integer=True, log=True, step=None) == 1
    assert from_fraction(1.0, 1e-4, 1.0, integer=False, log=True, step=None) == pytest.approx(1.0)
    assert truncated_normal(0.5, 2.0, 1.0, None, None) == pytest.approx(2.0)
    assert 50 <= truncated_normal(0.5, 0.0, 0.01, 50.0, 60.0) < 50.01  # far in the tail: still inside
    assert math.isfinite(truncated_normal(1.0, 0.0, 1.0, None, None))
