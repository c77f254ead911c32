"""ONNX bundles of Keras fold models: a 3-fold cross-validation with a random split and a rotating testing set.

A random split follows no event-number formula, so the bundle maps event numbers to folds with a table
(``event_folds.npz``). One run (3 x 64 MLP, 2 epochs, 3000 events) is shared by the module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_optima, write_run_config
from deploy_checks import (
    bundle,
    check_apply_reproduces_test_outputs,
    check_every_fold_matches_the_framework,
    check_sizes_and_report_times,
)
from engine_helpers import BACKENDS, VARIABLES

pytestmark = [pytest.mark.slow, pytest.mark.keras]

KIT = BACKENDS["Keras"]
VALIDATION_FRACTION, TEST_FRACTION, SEED = 0.3, 0.2, 42


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, events_path: Path) -> tuple[Path, pd.DataFrame]:
    for module in (*KIT.frameworks, "onnxruntime", "tf2onnx"):
        pytest.importorskip(module)
    folder = tmp_path_factory.mktemp("keras_run")
    config = write_run_config(
        folder,
        events_path,
        "Keras",
        validation_fraction=VALIDATION_FRACTION,
        test_fraction=TEST_FRACTION,
        fixed_testing_dataset=False,
        random_seed=SEED,
    )
    result = run_optima("run", str(config))
    assert result.exit_code == 0, result.output
    (models,) = list((folder / "out").glob("*/models"))
    return models, pd.read_parquet(events_path)


def held_out_rows(frame: pd.DataFrame) -> list[np.ndarray]:
    """The rows of each fold's testing set, by the run's splitting function (k = round(1 / 0.3) = 3 folds)."""
    from optima_core.inputs.splitting import RandomSplit, split_indices

    numbers = frame["EventNumber"].to_numpy()
    split = RandomSplit(VALIDATION_FRACTION, TEST_FRACTION, SEED)
    folds = split_indices(len(frame), numbers, split, do_kfold=True, fixed_test_dataset=False)
    return [np.sort(test) for _, _, test in folds]


def test_models_json_has_a_fold_table_for_the_random_split(run: tuple[Path, pd.DataFrame]) -> None:
    models, frame = run
    content = bundle(models)
    assert content["input_vars"] == VARIABLES and content["k"] == 3
    assert content["assignment"] == {"kind": "table", "table": "event_folds.npz", "otherwise": "mean"}
    assert "random_seed 42" in content["applies_to"] and "testing set" in content["applies_to"]
    with np.load(models / "onnx" / "event_folds.npz") as table:
        assert sorted(table["event_number"].tolist()) == sorted(frame["EventNumber"].tolist())


def test_onnxruntime_equals_keras_on_the_raw_test_events_of_every_fold(run: tuple[Path, pd.DataFrame]) -> None:
    models, frame = run
    check_every_fold_matches_the_framework(models, frame, held_out_rows(frame), KIT.load, KIT.suffix)


def test_deploy_apply_reproduces_the_crossvalidation_test_outputs(run: tuple[Path, pd.DataFrame]) -> None:
    models, frame = run
    check_apply_reproduces_test_outputs(models, frame, held_out_rows(frame), KIT.load, KIT.suffix)


def test_unknown_event_numbers_get_the_mean_of_all_models(run: tuple[Path, pd.DataFrame]) -> None:
    from deploy_checks import onnx_predict

    from optima_core.deploy import apply

    models, frame = run
    sample = frame.head(20).copy()
    sample["EventNumber"] = -1 - np.arange(len(sample))  # never seen by the run
    inputs = sample[VARIABLES].to_numpy(np.float32)
    mean = np.mean([onnx_predict(models / "onnx" / f"model_fold{k}.onnx", inputs) for k in range(3)], axis=0)
    np.testing.assert_allclose(apply(models / "onnx", sample), mean, rtol=0, atol=1e-6)


def test_onnx_files_are_small(run: tuple[Path, pd.DataFrame]) -> None:
    check_sizes_and_report_times(run[0])
