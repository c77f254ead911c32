"""A tiny Ray Tune run with OptunaSearch and the define-by-run function: every trial's config is its model config.

Starts a real local Ray (one CPU, its own temp dir) and shuts it down afterwards; marked slow.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import optuna
import pytest

from optima_core.search.optuna_space import define_by_run, make_sampler

pytestmark = [pytest.mark.slow, pytest.mark.overlap]

SPACE: dict[str, Any] = {
    "batch_size": {"type": "range", "bounds": (32, 256), "value_type": "int", "step": 32},
    "learning_rate": {"type": "range", "bounds": (1e-4, 1e-1), "sampling": "log"},
    "Adam_beta_1": {"type": "range", "sampling": "normal", "mean": 0.9, "std": 0.05, "bounds": (0.5, 0.999)},
    "num_layers": {"type": "range", "bounds": (1, 4), "value_type": "int"},
    "units": {"type": "range", "bounds": (("num_layers",), lambda n: (8, 8 * n)), "value_type": "int"},
    "units_4": {"type": "range", "bounds": (8, 64), "value_type": "int", "only": (("num_layers",), lambda n: n >= 3)},
    "activation": {"type": "choice", "values": [("relu", 0.0), ("elu", 1.0)]},
    "loss_function": {"type": "choice", "values": ["BinaryCrossentropy", "BinaryFocal"]},
    "max_epochs": 3,
}


def test_tuner_trials_receive_exactly_the_model_configs(tmp_path: Path) -> None:
    import ray
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    def trainable(config: dict[str, Any]) -> None:  # local: pickled by value for the worker
        tune.report({"score": float(config["learning_rate"]) * config["batch_size"]})

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    temp_dir = tempfile.mkdtemp(prefix=f"optima-s-{os.getpid()}-", dir="/tmp")
    ray.init(num_cpus=1, include_dashboard=False, _temp_dir=temp_dir, log_to_driver=False)
    try:
        searcher = OptunaSearch(
            space=define_by_run(SPACE), metric="score", mode="max", sampler=make_sampler(True, False, 7, 4)
        )
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=searcher, num_samples=4, max_concurrent_trials=1, reuse_actors=True),
            run_config=tune.RunConfig(name="search", storage_path=str(tmp_path), verbose=0),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)

    assert len(results) == 4 and not results.errors
    for result in results:
        config = result.config
        expected = {k for k in SPACE if k != "units_4" or config["num_layers"] >= 3}
        assert set(config) == expected
        assert config["max_epochs"] == 3
        assert type(config["batch_size"]) is int and config["batch_size"] % 32 == 0
        assert 8 <= config["units"] <= 8 * config["num_layers"]
        assert 0.5 <= config["Adam_beta_1"] <= 0.999
        assert config["activation"] in [("relu", 0.0), ("elu", 1.0)] and isinstance(config["activation"], tuple)
        assert result.metrics["score"] == pytest.approx(config["learning_rate"] * config["batch_size"])
