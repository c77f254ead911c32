"""Tune domains for Population Based Training: domain types and bounds, samples and perturbations inside the space,
fixed values from the previous stage, errors for conditional entries and missing fixed values."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ray.tune.schedulers import PopulationBasedTraining
from ray.tune.schedulers.pbt import _explore
from ray.tune.search.sample import Categorical, Domain, Float, Integer, Quantized
from ray.tune.search.variant_generator import generate_variants
from search_space_strategies import GeneratedSpace, check_range, same, search_spaces

from optima_core.search import mutation_flags
from optima_core.search.tune_space import TruncatedNormal, pbt_domains, pbt_explore_fn


def sampler_chain(domain: Any) -> list[type]:
    sampler, chain = domain.get_sampler(), []
    while sampler is not None:
        chain.append(type(sampler))
        sampler = sampler.get_sampler() if isinstance(sampler, Quantized) else None
    return chain


def test_domain_types_and_bounds() -> None:
    space = {
        "lr": {"bounds": (1e-4, 1e-1), "sampling": "log"},
        "dropout": {"bounds": (0.0, 0.5)},
        "l2": {"bounds": (0.0, 0.5), "step": 0.05},
        "shifted": {"bounds": (0.01, 0.5), "step": 0.1},
        "units": {"bounds": (2, 10), "value_type": "int"},
        "units_q": {"bounds": (16, 130), "value_type": "int", "step": 16},
        "units_shifted": {"bounds": (3, 20), "value_type": "int", "step": 4},
        "width": {"bounds": (1, 1000), "value_type": "int", "sampling": "log"},
        "beta": {"type": "range", "sampling": "normal", "mean": 0.9, "std": 0.05},
        "beta_q": {"type": "range", "sampling": "normal", "mean": 0.9, "std": 0.05, "step": 0.01},
        "beta_b": {"sampling": "normal", "mean": 0.9, "std": 0.05, "bounds": (0.5, 0.99)},
        "loss_function": {"values": ["BinaryCrossentropy", "BinaryFocal"]},
        "epochs": 20,
    }
    flags = dict.fromkeys(mutation_flags(space), True)
    param_space, mutations = pbt_domains(space, flags)
    assert list(param_space) == list(space)
    assert param_space["epochs"] == 20 and "epochs" not in mutations

    def check(name: str, kind: type, lower: Any, upper: Any, samplers: list[type]) -> None:
        domain = param_space[name]
        assert isinstance(domain, kind), name
        assert (domain.lower, domain.upper) == (lower, upper), name
        assert sampler_chain(domain) == samplers, name
        assert mutations[name] is domain

    check("lr", Float, 1e-4, 1e-1, [Float._LogUniform])
    check("dropout", Float, 0.0, 0.5, [Float._Uniform])
    check("l2", Float, 0.0, 0.5, [Quantized, Float._Uniform])
    check("units", Integer, 2, 11, [Integer._Uniform])  # Tune's randint excludes the upper bound
    check("units_q", Integer, 16, 128, [Quantized, Integer._Uniform])
    check("width", Integer, 1, 1001, [Integer._LogUniform])
    check("beta", Float, float("-inf"), float("inf"), [Float._Normal])
    check("beta_q", Float, float("-inf"), float("inf"), [Quantized, Float._Normal])
    check("beta_b", Float, 0.5, 0.99, [TruncatedNormal])
    assert param_space["l2"].get_sampler().q == 0.05 and param_space["units_q"].get_sampler().q == 16
    # grids that do not start at a multiple of the step: a choice over the reference's grid, mutated as a list
    assert param_space["shifted"].categories == [0.01, 0.11, 0.21, 0.31, 0.41] == mutations["shifted"]
    assert param_space["units_shifted"].categories == [3, 7, 11, 15, 19] == mutations["units_shifted"]
    # choices: tune.choice for the first sample, a list for PBT's mutations (a Categorical would be multiplied)
    assert isinstance(param_space["loss_function"], Categorical)
    assert mutations["loss_function"] == ["BinaryCrossentropy", "BinaryFocal"]
    PopulationBasedTraining(time_attr="training_iteration", metric="m", mode="max", hyperparam_mutations=mutations)


def test_non_mutatable_entries_take_the_previous_stage_values() -> None:
    space = {
        "num_layers": {"bounds": (1, 4), "value_type": "int"},
        "units_4": {"bounds": (8, 64), "value_type": "int", "only": (("num_layers",), lambda n: n >= 4)},
        "units": {"bounds": (("num_layers",), lambda n: (8, 8 * n)), "value_type": "int"},
        "act": {"values": [("relu", 1), ("tanh", 2)]},
        "learning_rate": {"bounds": (1e-4, 1e-2), "sampling": "log", "supports_mutation": True},
        "batch_size": 128,
    }
    flags = mutation_flags(space)
    best = {"num_layers": 3, "units": 20, "act": ("tanh", 2), "learning_rate": 1e-3, "batch_size": 128}
    param_space, mutations = pbt_domains(space, flags, best)
    assert list(mutations) == ["learning_rate"]
    assert {k: v for k, v in param_space.items() if k != "learning_rate"} == {
        "num_layers": 3,
        "units": 20,
        "act": ("tanh", 2),
        "batch_size": 128,
    }  # units_4 is rejected by its 'only' for num_layers=3: left out, no error
    with pytest.raises(ValueError, match=r"search_space\['units_4'\] does not support mutation.*no 'units_4'"):
        pbt_domains(space, flags, {**best, "num_layers": 4})
    with pytest.raises(ValueError, match=r"search_space\['act'\].*fixed_values has no 'act'"):
        pbt_domains(space, flags, {k: v for k, v in best.items() if k != "act"})


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        ({"bounds": (("n",), lambda n: (0, n))}, "conditional bounds"),
        ({"values": (("n",), lambda n: [n])}, "conditional values"),
        ({"bounds": (0.0, 1.0), "only": (("n",), lambda n: n > 1)}, "an 'only' condition"),
    ],
)
def test_conditional_mutatable_entries_are_refused(entry: dict[str, Any], what: str) -> None:
    space = {"n": {"bounds": (1, 3), "value_type": "int"}, "dropout": entry}
    with pytest.raises(
        ValueError, match=rf"not supported for Population Based Training: search_space\['dropout'\].*{what}"
    ):
        pbt_domains(space, {"n": False, "dropout": True}, {"n": 2})
    # not mutated: fixed to the previous value, allowed
    assert pbt_domains(space, {"n": False, "dropout": False}, {"n": 2, "dropout": 0.1})[0] == {"n": 2, "dropout": 0.1}


def _check_sample(generated: GeneratedSpace, name: str, value: Any) -> None:
    entry = generated.space[name]
    if entry.get("type") == "choice":
        assert any(same(value, option) for option in entry["values"]), f"{name}: {value!r}"
    else:
        check_range(name, value, entry, entry.get("bounds"))


@settings(max_examples=80, deadline=None)
@given(search_spaces(conditional=False), st.integers(0, 2**16))
def test_samples_and_perturbations_stay_in_the_space(generated: GeneratedSpace, seed: int) -> None:
    flags = dict.fromkeys(mutation_flags(generated.space), True)
    param_space, mutations = pbt_domains(generated.space, flags)
    explore = pbt_explore_fn(generated.space, flags)
    rng = np.random.default_rng(seed)
    random.seed(seed)
    for name, entry in generated.space.items():
        if not isinstance(entry, dict):
            assert param_space[name] is entry
    for _, resolved in generate_variants(param_space):  # how the Tuner draws the first population
        assert set(resolved) == set(generated.space)
        for name in mutations:
            _check_sample(generated, name, resolved[name])
    for _ in range(10):
        config = {
            name: domain.sample(random_state=rng) if isinstance(domain, Domain) else domain
            for name, domain in param_space.items()
        }
        for name in mutations:
            _check_sample(generated, name, config[name])
        # PBT's own explore step (x0.8 / x1.2, neighbour shifts, resampling), then ours
        perturbed, _ = _explore(config, mutations, 0.25, (1.2, 0.8), explore)
        for name in mutations:
            _check_sample(generated, name, perturbed[name])
