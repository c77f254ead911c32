"""Checks shared by the ONNX bundle tests of both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

#: onnxruntime and the framework must agree to this (float32 arithmetic, differently fused).
TOLERANCE = 1e-5


def onnx_predict(path: Path, inputs: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["outputs"], {"inputs": inputs.astype(np.float32)})[0])


def bundle(models_dir: Path) -> dict:
    return json.loads((models_dir / "onnx" / "models.json").read_text())


def check_every_fold_matches_the_framework(
    models_dir: Path,
    frame: pd.DataFrame,
    test_rows: list[np.ndarray],
    load: Callable[[Path], Callable[[np.ndarray], np.ndarray]],
    suffix: str,
) -> None:
    """onnxruntime on each fold's raw test events equals the framework model's predictions."""
    content = bundle(models_dir)
    inputs = frame[content["input_vars"]].to_numpy(np.float32)
    assert [m["fold"] for m in content["models"]] == list(range(len(test_rows)))
    for model in content["models"]:
        rows = test_rows[model["fold"]]
        framework = load(models_dir / f"model_fold{model['fold']}{suffix}")(inputs[rows])
        exported = onnx_predict(models_dir / "onnx" / model["file"], inputs[rows])
        assert exported.shape == framework.shape == (len(rows), 1)
        np.testing.assert_allclose(exported, framework, rtol=0, atol=TOLERANCE)
        assert framework.std() > 1e-3  # a trained model, not a constant


def check_apply_reproduces_test_outputs(
    models_dir: Path,
    frame: pd.DataFrame,
    test_rows: list[np.ndarray],
    load: Callable[[Path], Callable[[np.ndarray], np.ndarray]],
    suffix: str,
) -> np.ndarray:
    """``deploy.apply`` on the whole dataset gives every event the output of the fold model that tested it."""
    from optima_core.deploy import apply

    content = bundle(models_dir)
    inputs = frame[content["input_vars"]].to_numpy(np.float32)
    expected = np.full((len(frame), 1), np.nan, dtype=np.float32)
    for fold, rows in enumerate(test_rows):
        expected[rows] = load(models_dir / f"model_fold{fold}{suffix}")(inputs[rows])
    assert not np.isnan(expected).any(), "every event is in exactly one fold's testing set"
    applied = apply(models_dir / "onnx" / "models.json", frame)
    np.testing.assert_allclose(applied, expected, rtol=0, atol=TOLERANCE)
    return applied


def check_sizes_and_report_times(models_dir: Path) -> None:
    content = bundle(models_dir)
    for model in content["models"]:
        size = (models_dir / "onnx" / model["file"]).stat().st_size
        assert size < 100_000, f"{model['file']}: {size} bytes"
        print(f"{model['file']}: {size} bytes, exported in {model['export_seconds']} s ({content['exporter']})")
