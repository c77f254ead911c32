"""The target metric from predictions, the built-in hooks (variable sets, shuffling) and evaluator registration."""

from __future__ import annotations

import numpy as np
import pytest

from optima_core.inputs.dataset import EventData
from optima_core.metrics import WeightedAUC
from optima_core.plugins.manager import create_plugin_manager
from optima_core.variable_selection.metric import resolve_metric, weighted_cross_entropy


class FakeConfig:
    def __init__(self, var_metric: str) -> None:
        self.var_metric = var_metric
        self.native_metrics = [("accuracy", (type("BinaryAccuracy", (), {}), {}))]
        self.weighted_native_metrics = [("w_accuracy", (type("BinaryAccuracy", (), {}), {}))]
        self.custom_metrics = [("auc", WeightedAUC())]


def data() -> EventData:
    return EventData(
        {
            "Input": np.arange(8, dtype=np.float32).reshape(4, 2),
            "Target": np.array([1, 1, 0, 0], dtype=np.float32),
            "Weight": np.array([1.0, 3.0, 1.0, 1.0], dtype=np.float32),
        },
        ["x", "y"],
    )


def test_loss_is_the_weighted_cross_entropy() -> None:
    predictions = np.array([[0.9], [0.6], [0.2], [0.7]])
    expected = -(np.log(0.9) + 3 * np.log(0.6) + np.log(0.8) + np.log(0.3)) / 6
    assert resolve_metric(FakeConfig("loss"))(data(), predictions) == pytest.approx(expected)
    one_hot = np.array([[1, 0], [0, 1]], dtype=float)
    assert weighted_cross_entropy(one_hot, np.array([[0.5, 0.5], [0.25, 0.75]]), None) == pytest.approx(
        -(np.log(0.5) + np.log(0.75)) / 2
    )


def test_named_metrics_are_computed_from_predictions() -> None:
    predictions = np.array([[0.9], [0.4], [0.2], [0.7]])  # events 1 and 3 wrong
    assert resolve_metric(FakeConfig("accuracy"))(data(), predictions) == pytest.approx(0.5)
    assert resolve_metric(FakeConfig("w_accuracy"))(data(), predictions) == pytest.approx(2 / 6)
    assert 0.0 <= resolve_metric(FakeConfig("auc"))(data(), predictions) <= 1.0
    with pytest.raises(ValueError, match=r"var_metric 'nope'.*'accuracy'"):
        resolve_metric(FakeConfig("nope"))


def test_builtin_hooks_and_evaluators_are_registered() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    assert {"shuffle", "retrain", "hybrid", "custom"} <= set(manager.evaluators())
    assert manager.descriptor("evaluator", "hybrid").load().__name__ == "HybridEvaluator"
    sets = manager.hooks.create_variable_sets_to_try(
        model_config={}, models_with_inputs=[], metric="loss", all_vars=["x", "y", "z"], vars_remaining=["x", "z"]
    )
    assert sets == {"x": ["z"], "z": ["x"]}


def test_builtin_shuffle_permutes_only_the_requested_columns_of_a_copy() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    original = EventData(
        {"Input": np.stack([np.arange(1000), -np.arange(1000)], 1), "Target": np.zeros(1000)}, ["x", "y"]
    )
    before = original["Input"].copy()
    shuffled = manager.hooks.shuffle_input_var(
        run_config=None, input_handler=None, model_config={}, dataset=original, vars_to_shuffle=["y"]
    )
    np.testing.assert_array_equal(original["Input"], before)  # the input is untouched
    np.testing.assert_array_equal(shuffled["Input"][:, 0], before[:, 0])
    assert not np.array_equal(shuffled["Input"][:, 1], before[:, 1])
    assert sorted(shuffled["Input"][:, 1]) == sorted(before[:, 1])
    assert shuffled["Target"] is original["Target"]  # the other columns are shared, not copied


def test_builtin_shuffle_is_reproducible_under_the_evaluators_seed() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from optima_core.variable_selection.shuffle import seeded_shuffles

    manager = create_plugin_manager(load_entry_points=False)
    original = EventData({"Input": np.stack([np.arange(1000)] * 2, 1), "Target": np.zeros(1000)}, ["x", "y"])

    def shuffled(seed: tuple[int, ...] | None) -> np.ndarray:
        def call() -> np.ndarray:
            result = manager.hooks.shuffle_input_var(
                run_config=None, input_handler=None, model_config={}, dataset=original, vars_to_shuffle=["y"]
            )
            return result["Input"][:, 1]

        if seed is None:
            return call()
        with seeded_shuffles(seed):
            return call()

    first = shuffled((42, 1, 2, 0, 0))
    np.testing.assert_array_equal(first, shuffled((42, 1, 2, 0, 0)))
    assert not np.array_equal(first, shuffled((42, 1, 2, 0, 1)))  # another repeat
    assert not np.array_equal(first, shuffled((43, 1, 2, 0, 0)))  # another random_seed
    assert not np.array_equal(shuffled(None), shuffled(None))  # unseeded calls draw fresh entropy
    # the seed is per thread: evaluations on a thread pool do not see each other's seeds
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(shuffled, [(42, 1, 2, 0, 0), (7,), (42, 1, 2, 0, 0), (7,)]))
    np.testing.assert_array_equal(results[0], first)
    np.testing.assert_array_equal(results[2], first)
    np.testing.assert_array_equal(results[1], results[3])
