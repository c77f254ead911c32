"""ONNX bundles of Lightning fold models: a 3-fold cross-validation split by event number (rotating testing set).

One run (3 x 64 MLP, 2 epochs, 3000 events) is shared by the module; ``optima export`` rebuilds its bundle.
"""

from __future__ import annotations

import json
import shutil
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

pytestmark = [pytest.mark.slow, pytest.mark.lightning]

N, OFFSET_TEST = 3, 1
KIT = BACKENDS["Lightning"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, events_path: Path) -> tuple[Path, pd.DataFrame]:
    for module in (*KIT.frameworks, "onnxruntime", "onnxscript"):
        pytest.importorskip(module)
    folder = tmp_path_factory.mktemp("lightning_run")
    config = write_run_config(
        folder,
        events_path,
        "Lightning",
        use_eventNums_splitting=True,
        eventNums_splitting_N=N,
        eventNums_splitting_offset_val=0,
        eventNums_splitting_offset_test=OFFSET_TEST,
        fixed_testing_dataset=False,
    )
    result = run_optima("run", str(config))
    assert result.exit_code == 0, result.output
    (models,) = list((folder / "out").glob("*/models"))
    return models, pd.read_parquet(events_path)


def held_out_rows(frame: pd.DataFrame) -> list[np.ndarray]:
    """Fold ``i`` tests on ``(EventNumber + 1 + i) % 3 == 0`` (the reference's rotation of the testing offset)."""
    numbers = frame["EventNumber"].to_numpy()
    return [np.flatnonzero((numbers + OFFSET_TEST + fold) % N == 0) for fold in range(N)]


def test_models_json_states_inputs_models_and_the_event_number_rule(run: tuple[Path, pd.DataFrame]) -> None:
    models, _ = run
    content = bundle(models)
    assert content["input_vars"] == VARIABLES
    assert content["k"] == N and [m["file"] for m in content["models"]] == [f"model_fold{i}.onnx" for i in range(N)]
    assert content["event_number_column"] == "EventNumber"
    assert "(EventNumber + 1 + fold) % 3 == 0" in content["applies_to"]
    assert [m["applies_to"] for m in content["models"]] == [
        "(EventNumber + 1) % 3 == 0",
        "(EventNumber + 2) % 3 == 0",
        "EventNumber % 3 == 0",
    ]
    assert content["output_names"] == ["outputs"] and content["opset"] == 18
    assert content["optima_version"]


def test_onnxruntime_equals_lightning_on_the_raw_test_events_of_every_fold(run: tuple[Path, pd.DataFrame]) -> None:
    models, frame = run
    check_every_fold_matches_the_framework(models, frame, held_out_rows(frame), KIT.load, KIT.suffix)


def test_deploy_apply_reproduces_the_crossvalidation_test_outputs(run: tuple[Path, pd.DataFrame]) -> None:
    models, frame = run
    check_apply_reproduces_test_outputs(models, frame, held_out_rows(frame), KIT.load, KIT.suffix)


def test_onnx_files_are_small(run: tuple[Path, pd.DataFrame]) -> None:
    check_sizes_and_report_times(run[0])


def test_optima_export_rebuilds_the_bundle(run: tuple[Path, pd.DataFrame]) -> None:
    from optima_core.deploy import apply

    models, frame = run
    before = apply(models / "onnx" / "models.json", frame)
    recorded = bundle(models)
    shutil.rmtree(models / "onnx")
    result = run_optima("export", str(models.parent))
    assert result.exit_code == 0, result.output
    assert str(models / "onnx" / "models.json") in result.output
    rebuilt = json.loads((models / "onnx" / "models.json").read_text())
    for key in ("input_vars", "k", "applies_to", "event_number_column", "opset"):
        assert rebuilt[key] == recorded[key], key
    np.testing.assert_allclose(apply(models / "onnx" / "models.json", frame), before, rtol=0, atol=1e-6)


def test_optima_export_refuses_a_folder_without_a_run(tmp_path: Path) -> None:
    result = run_optima("export", str(tmp_path))
    assert result.exit_code == 2
    assert "is not the output folder of an OPTIMA run" in result.output
