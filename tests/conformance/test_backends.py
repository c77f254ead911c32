"""Backend conformance: the Lightning and the Keras backend pass the same checks on the same data.

Every test runs once per backend (the ``kit`` fixture). The core's epoch loop is driven in-process, without Ray,
except for the end-to-end test of ``optima run`` (marked slow). The harness is in ``conformance_helpers.py``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conformance_helpers import (
    MODEL_CONFIG,
    N_VAL,
    REFERENCE_LIT_MODEL,
    STEPS_PER_EPOCH,
    VARIABLES,
    BackendKit,
    Harness,
    run_config_source,
)

pytestmark = [
    # framework noise: Lightning's hints about data loader workers and logging, Keras' tf.data shuffle notice
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*is deprecated"),
    pytest.mark.filterwarnings("ignore:The `srun` command is available on your system"),
]

METRIC_NAMES = {
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "train_weighted_accuracy",
    "val_weighted_accuracy",
    "train_auc",
    "val_auc",
    "gap",
}
BOOKKEEPING = {"epoch", "optima_target", "optima_valid", "optima_diverged"}


def assert_same_weights(actual: Any, expected: Any) -> None:
    """Weights from ``backend.get_weights()`` (a dict of tensors or a list of arrays) are exactly equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys()
        pairs = [(name, actual[name], expected[name]) for name in expected]
    else:
        assert len(actual) == len(expected)
        pairs = [(str(i), a, e) for i, (a, e) in enumerate(zip(actual, expected, strict=True))]
    assert pairs, "the model has no weights"
    for name, a, e in pairs:
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape, name
        assert np.array_equal(a, e), f"weight {name} differs (max deviation {np.max(np.abs(a - e))})"


def weights_differ(first: Any, second: Any) -> bool:
    values = first.values() if isinstance(first, dict) else first
    others = second.values() if isinstance(second, dict) else second
    return any(not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(values, others, strict=True))


def hand_weighted_auc(is_signal: np.ndarray, score: np.ndarray, weight: np.ndarray) -> float:
    """Weighted ROC AUC as the probability that a signal event outscores a background event (ties count half)."""
    s, b = score[is_signal][:, None], score[~is_signal][None, :]
    pair_weights = weight[is_signal][:, None] * weight[~is_signal][None, :]
    wins = (s > b) + 0.5 * (s == b)
    return float((pair_weights * wins).sum() / pair_weights.sum())


# -- 1. metrics ---------------------------------------------------------------------------------------------------


def test_every_metric_kind_is_reported_every_epoch(harness: Harness) -> None:
    job = harness.job(harness.config(), max_epochs=3, checkpoint_frequency=2)
    result, recorder, _ = harness.train(job)

    assert recorder.epochs == [1, 2, 3]
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert result.epochs == 3 and result.stop_reason is None
    for row in recorder.rows:
        assert set(row) == METRIC_NAMES | BOOKKEEPING, row
        for name in METRIC_NAMES:
            assert isinstance(row[name], float) and math.isfinite(row[name]), (name, row[name])
        for name in ("train_accuracy", "val_accuracy", "train_weighted_accuracy", "val_weighted_accuracy", "val_auc"):
            assert 0.0 <= row[name] <= 1.0, (name, row[name])
        assert row["gap"] == pytest.approx(row["val_loss"] - row["train_loss"], abs=1e-9)
        assert row["optima_valid"] is True
        assert row["optima_target"] == row["val_loss"]  # monitor_name defaults to val_loss, last valid value
    # a checkpoint every checkpoint_frequency epochs, and one when training ends
    assert sorted(recorder.checkpoints) == [2, 3]
    # the model learns the separable sample
    first, last = recorder.rows[0], recorder.rows[-1]
    assert last["val_loss"] < first["val_loss"]
    assert last["val_auc"] > 0.9 and last["val_accuracy"] > 0.85


# -- 2. early stopping ----------------------------------------------------------------------------------------------

#: A target that improves for three epochs (2, 1, 0) and then stays at 0: no improvement from epoch 4 on.
PLATEAU = """
_values = []


def _plateau(val_loss):
    _values.append(val_loss)
    return float(max(3 - len(_values), 0))


composite_metrics = [("plateau", ("val_loss",), _plateau)]
monitor_name = "plateau"
monitor_op = "min"
early_stopping_patience = 2
"""


def test_early_stopping_fires_and_the_best_weights_come_back(harness: Harness) -> None:
    job = harness.job(harness.config(PLATEAU), max_epochs=12, checkpoint_frequency=1)
    result, recorder, backend = harness.train(job, restore_best_weights=True)

    assert [row["plateau"] for row in recorder.rows[:3]] == [2.0, 1.0, 0.0]
    assert result.best_epoch == 3 and result.best_value == 0.0
    patience = job.monitor.early_stopping_patience
    assert recorder.epochs == list(range(1, result.best_epoch + patience + 1))
    assert result.epochs == result.best_epoch + patience < job.max_epochs
    assert result.stop_reason is not None and "no improvement" in result.stop_reason
    assert all(row["optima_valid"] for row in recorder.rows)
    assert recorder.rows[-1]["optima_target"] == 0.0
    # restore_best_weights (as the fixed-hyperparameter training uses it): the model ends with epoch 3's weights
    assert weights_differ(recorder.weights[result.best_epoch], recorder.weights[result.epochs])
    assert_same_weights(backend.get_weights(), recorder.weights[result.best_epoch])


# -- 3. overtraining stopping ---------------------------------------------------------------------------------------

ALWAYS_OVERTRAINED = """
overtraining_conditions = [("always", ("train_loss", "val_loss"), lambda train, val: True)]
overtraining_patience = 2
early_stopping_patience = 10
"""


def test_overtraining_stopping_fires(harness: Harness) -> None:
    job = harness.job(harness.config(ALWAYS_OVERTRAINED), max_epochs=12)
    result, recorder, _ = harness.train(job)

    assert recorder.epochs == [1, 2]
    assert result.epochs == 2
    assert result.stop_reason is not None and "overtraining" in result.stop_reason
    assert [row["optima_valid"] for row in recorder.rows] == [False, False]
    assert all(row["optima_target"] == math.inf for row in recorder.rows)  # no valid epoch: the worst value
    assert result.best_epoch is None
    assert all("always" not in row for row in recorder.rows)  # conditions are evaluated, not reported


# -- 4. checkpoint -> restore -------------------------------------------------------------------------------------


def test_checkpoint_restore_continues_with_identical_weights(harness: Harness, kit: BackendKit) -> None:
    config = harness.config()
    _, first, _ = harness.train(harness.job(config, max_epochs=2, checkpoint_frequency=1))
    assert sorted(first.checkpoints) == [1, 2]
    assert first.steps == {1: STEPS_PER_EPOCH, 2: 2 * STEPS_PER_EPOCH}
    assert weights_differ(first.weights[1], first.weights[2])  # else the comparison below proves nothing

    # a fresh backend restored from the epoch-2 checkpoint holds exactly the weights it was saved with
    fresh = harness.backend(harness.job(config, max_epochs=3))
    fresh.restore(first.checkpoints[2])
    assert_same_weights(fresh.get_weights(), first.weights[2])

    # training from the checkpoint goes on at epoch 3, with the optimizer state of epoch 2
    job = harness.job(config, max_epochs=3, checkpoint_frequency=1)
    result, resumed, backend = harness.train(job, checkpoint_dir=first.checkpoints[2])
    assert resumed.epochs == [3]
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert result.history[:2] == first.rows
    assert result.epochs == 3
    assert kit.optimizer_steps(backend) == 3 * STEPS_PER_EPOCH
    assert weights_differ(backend.get_weights(), first.weights[2])
    row = resumed.rows[0]
    assert set(row) == METRIC_NAMES | BOOKKEEPING
    assert row["val_loss"] < first.rows[0]["val_loss"]  # it continued from a trained model, not from scratch


def test_a_run_config_litmodel_with_native_metrics_resumes_from_its_checkpoint(harness: Harness) -> None:
    """The reference's ``LitModel`` calls ``save_hyperparameters()`` with the native metric objects it is given, so
    they are in its checkpoints; resuming (Population Based Training, a restarted run) loaded those checkpoints
    weights-only and failed on the torchmetrics class."""
    if harness.kit.name != "Lightning":
        pytest.skip("a Lightning LitModel")
    config = harness.config(REFERENCE_LIT_MODEL)
    _, first, _ = harness.train(harness.job(config, max_epochs=2))
    result, resumed, _ = harness.train(harness.job(config, max_epochs=3), checkpoint_dir=first.checkpoints[2])
    assert resumed.epochs == [3] and result.epochs == 3
    assert resumed.steps[3] == first.steps[2] * 3 // 2
    assert resumed.rows[0]["val_loss"] < first.rows[0]["val_loss"]


# -- 5. mutation ----------------------------------------------------------------------------------------------------


def test_mutation_keeps_the_training_state(harness: Harness, kit: BackendKit) -> None:
    job = harness.job(harness.config(), max_epochs=2)
    _, _, backend = harness.train(job)
    weights, steps = backend.get_weights(), kit.optimizer_steps(backend)
    assert steps == 2 * STEPS_PER_EPOCH
    assert kit.learning_rate(backend) == pytest.approx(MODEL_CONFIG["learning_rate"])
    assert kit.dropout_rates(backend) and set(kit.dropout_rates(backend)) == {MODEL_CONFIG["dropout"]}

    backend.mutate({**job.model_config, "learning_rate": 7e-4, "dropout": 0.3})
    assert_same_weights(backend.get_weights(), weights)
    assert kit.optimizer_steps(backend) == steps
    assert kit.learning_rate(backend) == pytest.approx(7e-4)
    assert set(kit.dropout_rates(backend)) == {0.3}

    # training goes on from the same state: one more epoch (index 2), optimizer steps continue
    calls: list[tuple[int, dict[str, float]]] = []
    backend.fit(2, 3, lambda epoch, logs: calls.append((epoch, logs)) is not None)
    assert [epoch for epoch, _ in calls] == [2]
    assert {"train_loss", "val_loss"} <= set(calls[0][1])
    assert kit.optimizer_steps(backend) == steps + STEPS_PER_EPOCH
    assert kit.learning_rate(backend) == pytest.approx(7e-4)
    assert set(kit.dropout_rates(backend)) == {0.3}
    assert weights_differ(backend.get_weights(), weights)


def test_mutation_switches_dropout_on(harness: Harness, kit: BackendKit) -> None:
    """A model built without dropout (rate 0) trains after a mutation to a positive rate."""
    job = harness.job(harness.config(), max_epochs=1, model_config={**MODEL_CONFIG, "dropout": 0.0})
    _, _, backend = harness.train(job)
    assert set(kit.dropout_rates(backend)) == {0.0}
    weights = backend.get_weights()
    backend.mutate({**job.model_config, "dropout": 0.3})
    assert set(kit.dropout_rates(backend)) == {0.3}
    calls: list[int] = []
    backend.fit(1, 2, lambda epoch, logs: calls.append(epoch) is not None)
    assert calls == [1]
    assert kit.optimizer_steps(backend) == 2 * STEPS_PER_EPOCH
    assert weights_differ(backend.get_weights(), weights)


def test_restoring_with_mutated_hyperparameters_keeps_the_training_state(harness: Harness, kit: BackendKit) -> None:
    """What Population Based Training does: restore a checkpoint under a mutated config and continue."""
    config = harness.config()
    _, first, _ = harness.train(harness.job(config, max_epochs=2))
    mutated = {**MODEL_CONFIG, "learning_rate": 7e-4, "dropout": 0.3}
    job = harness.job(config, max_epochs=3, model_config=mutated)
    result, resumed, backend = harness.train(job, checkpoint_dir=first.checkpoints[2])

    assert resumed.epochs == [3] and result.epochs == 3
    assert kit.optimizer_steps(backend) == first.steps[2] + STEPS_PER_EPOCH
    assert kit.learning_rate(backend) == pytest.approx(7e-4)
    assert set(kit.dropout_rates(backend)) == {0.3}
    assert resumed.rows[0]["val_loss"] < first.rows[0]["val_loss"]


# -- 6. weighted metrics by hand -------------------------------------------------------------------------------------


def test_weighted_metric_equals_a_hand_computation(harness: Harness) -> None:
    job = harness.job(harness.config(), max_epochs=2)
    _, recorder, backend = harness.train(job)
    row = recorder.rows[-1]

    val = job.data["val"]
    predictions = backend.predict("val")
    assert predictions.shape == (N_VAL, 1)
    truth = val["Target"].reshape(-1) > 0.5
    correct = ((predictions.reshape(-1) > 0.5) == truth).astype(np.float64)
    weights = val["Weight"].astype(np.float64)
    weighted = float(np.sum(weights * correct) / np.sum(weights))
    plain = float(np.mean(correct))
    assert abs(weighted - plain) > 0.01  # the sample makes weighting visible

    assert row["val_weighted_accuracy"] == pytest.approx(weighted, abs=1e-5)
    assert row["val_accuracy"] == pytest.approx(plain, abs=1e-5)  # native metrics are not weighted
    assert row["val_auc"] == pytest.approx(hand_weighted_auc(truth, predictions.reshape(-1), weights), abs=1e-9)


# -- 7. export -> reload ---------------------------------------------------------------------------------------------


def test_exported_model_reloads_with_identical_predictions(harness: Harness, kit: BackendKit, tmp_path: Path) -> None:
    job = harness.job(harness.config(), max_epochs=2)
    _, _, backend = harness.train(job)

    path = backend.export(tmp_path / "exported" / "model")
    assert path == tmp_path / "exported" / f"model{kit.suffix}" and path.is_file()
    predict = kit.load_export(path)
    expected = backend.predict("val")
    actual = predict(np.asarray(job.data["val"]["Input"]))
    assert actual.shape == expected.shape == (N_VAL, 1)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


# -- 8. end to end through Ray ---------------------------------------------------------------------------------------


def _write_parquet(path: Path, n: int = 800, seed: int = 7) -> None:
    """A small physics-like sample in the layout of the input tests: variables, Weight, EventNumber, target."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    target = (np.arange(n) < n // 2).astype(np.int8)
    shift = 1.2 * (2 * target - 1)
    frame = pd.DataFrame(
        {
            "pt": np.exp(rng.normal(3.5, 0.4, n) + 0.3 * shift),
            "eta": rng.normal(0.0, 1.0, n) + shift,
            "mass": rng.normal(91.0, 4.0, n) + 3.0 * shift,
            "njets": rng.poisson(2.0, n).astype(np.float64),
        }
    )
    frame["Weight"] = rng.lognormal(0.0, 0.3, n) * np.where(target == 1, 0.01, 0.5)
    frame["EventNumber"] = rng.permutation(n).astype(np.int64) + 1000
    frame["target"] = target
    frame.to_parquet(path, index=False)


@pytest.mark.slow
def test_optima_run_trains_fixed_hyperparameters_with_crossvalidation(kit: BackendKit, tmp_path: Path) -> None:
    import ray
    from click.testing import CliRunner

    from optima_core.cli import cli

    data = tmp_path / "events.parquet"
    _write_parquet(data)
    config = tmp_path / "run_config.py"
    config.write_text(
        run_config_source(
            kit,
            f"""
            inputs_file = {str(data)!r}
            output_path = {str(tmp_path / "out")!r}
            output_name = "conformance"
            crossvalidation_for_fixed_hps = True
            validation_fraction = 0.4
            test_fraction = 0.2
            max_epochs = 3
            """,
        )
    )
    assert not ray.is_initialized()
    result = CliRunner().invoke(cli, ["run", str(config), "--cpus", "2"])
    assert not ray.is_initialized(), "optima run left Ray running in this process"
    assert result.exit_code == 0, result.output + repr(result.exception)

    (output,) = [path for path in (tmp_path / "out").iterdir() if path.is_dir()]
    models = output / "models"
    folds = 2  # (1 - test_fraction) / validation_fraction
    assert sorted(p.name for p in models.glob(f"model_fold*{kit.suffix}")) == [
        f"model_fold{k}{kit.suffix}" for k in range(folds)
    ]
    inputs = np.random.default_rng(0).normal(size=(50, len(VARIABLES))).astype(np.float32)
    inputs[:, 0] = np.abs(inputs[:, 0]) * 30 + 10  # pt is log10-scaled: keep it positive
    for k in range(folds):
        with (models / f"model_fold{k}_history.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
        for row in rows:
            assert set(row) >= METRIC_NAMES, sorted(row)
            assert all(math.isfinite(float(row[name])) for name in METRIC_NAMES), row
        predictions = kit.load_export(models / f"model_fold{k}{kit.suffix}")(inputs)
        assert predictions.shape == (50, 1) and np.all((predictions >= 0) & (predictions <= 1))
    summary = (output / "results.txt").read_text()
    for k in range(folds):
        assert f"fold {k}:" in summary, summary
