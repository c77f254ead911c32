"""Property tests: random valid search spaces sampled through the Optuna define-by-run function with real studies.

Each example asks a real Optuna study for a dozen trials (TPE takes over from random sampling after a third of
them) and checks every model config: values within (conditional) bounds, ints are ints, steps, log values positive,
choices are real values, ``only``-rejected hyperparameters absent and seen as None by their dependants, fixed
entries present. Also: the same seed gives the same sequence, and Ray's OptunaSearch hands out the same configs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_space_strategies import GeneratedSpace, check_config, search_spaces

from optima_core.search.optuna_space import define_by_run, make_sampler

N_TRIALS = 15
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _quiet_optuna() -> Iterator[None]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def objective(config: dict[str, Any]) -> float:
    """A deterministic score so that TPE has something to model."""
    numbers = [float(v) for v in config.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return sum(math.sin(v) for v in numbers if math.isfinite(v))


def sample(generated: GeneratedSpace, *, use_tpe: bool, multivariate: bool, seed: int) -> list[dict[str, Any]]:
    study = optuna.create_study(sampler=make_sampler(use_tpe, multivariate, seed, N_TRIALS))
    suggest = define_by_run(generated.space)
    configs = []
    for _ in range(N_TRIALS):
        generated.calls.clear()
        trial = study.ask()
        config = suggest(trial)
        check_config(generated, config, generated.calls)
        study.tell(trial, objective(config))
        configs.append(config)
    return configs


@SETTINGS
@given(search_spaces(), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_every_sampled_config_lies_in_the_search_space(
    generated: GeneratedSpace, use_tpe: bool, multivariate: bool, seed: int
) -> None:
    sample(generated, use_tpe=use_tpe, multivariate=multivariate, seed=seed)


@settings(max_examples=15, deadline=None)
@given(search_spaces(), st.integers(0, 2**16))
def test_the_same_seed_gives_the_same_sequence(generated: GeneratedSpace, seed: int) -> None:
    first = sample(generated, use_tpe=True, multivariate=False, seed=seed)
    second = sample(generated, use_tpe=True, multivariate=False, seed=seed)
    assert repr(first) == repr(second)  # repr: tuples, dicts and -0.0 compared exactly


@settings(max_examples=20, deadline=None)
@given(search_spaces())
def test_ray_optuna_search_hands_out_exactly_the_model_configs(generated: GeneratedSpace) -> None:
    """OptunaSearch merges the suggested raw values with the returned dict: the result must be the model config."""
    from ray.tune.search.optuna import OptunaSearch

    searcher = OptunaSearch(
        space=define_by_run(generated.space),
        metric="score",
        mode="max",
        sampler=make_sampler(True, False, 0, 6),
    )
    for i in range(6):
        generated.calls.clear()
        config = searcher.suggest(f"trial_{i}")
        assert config is not None
        check_config(generated, config, generated.calls)
        searcher.on_trial_complete(f"trial_{i}", {"score": objective(config)})


def test_the_define_by_run_function_survives_tunes_experiment_checkpoints(tmp_path: Any) -> None:
    """Tune saves OptunaSearch with the standard pickle in every experiment checkpoint; lambdas included."""
    from ray.tune.search.optuna import OptunaSearch

    space = {
        "n": {"type": "range", "bounds": (1, 4), "value_type": "int"},
        "units": {"type": "range", "bounds": (("n",), lambda n: (n, 4 * n)), "value_type": "int"},
        "extra": {"type": "range", "bounds": (0.0, 1.0), "only": (("n",), lambda n: n > 2)},
        "beta": {"type": "range", "sampling": "normal", "mean": 0.9, "std": 0.05},
    }
    searcher = OptunaSearch(space=define_by_run(space), metric="m", mode="min", sampler=make_sampler(True, False, 5, 9))
    for i in range(3):
        searcher.on_trial_complete(str(i), {"m": float(searcher.suggest(str(i))["units"])})
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = OptunaSearch()
    restored.restore(str(tmp_path / "searcher.pkl"))
    generated = GeneratedSpace(space)
    for i in range(3, 9):
        config = restored.suggest(str(i))
        check_config(generated, config)
        restored.on_trial_complete(str(i), {"m": float(config["units"])})
    assert len(restored._ot_study.trials) == 9
