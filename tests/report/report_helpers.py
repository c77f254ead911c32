"""Helpers of the report tests: a tiny PNG writer, JSON files in the layouts the run writes, a run-config text."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

RUN_CONFIG = """from optima_core.metrics import WeightedAUC  # the metric
custom_metrics = [("auc", WeightedAUC())]
perform_variable_opt = False
perform_main_hyperopt = True
perform_PBT_hyperopt = True
max_epochs = 7


def get_model(run_config, model_config):
    return None
"""


def tiny_png(path: Path, width: int = 5, height: int = 3) -> Path:
    """A valid RGB PNG of ``width`` x ``height`` red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )
    return path


def write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2))


def evaluation(trial: str, aucs: list[float]) -> dict[str, Any]:
    """An ``evaluation.json`` of two folds in the layout of ``optima_core.evaluation.folds``."""
    import numpy as np

    folds = [
        {"fold": k, "model": f"model_fold{k}.ckpt", "values": {"test": {"loss": 0.2 + k / 100, "roc_auc": auc}}}
        for k, auc in enumerate(aucs)
    ]
    return {
        "label": "best_value",
        "selected": {"trial": trial, "epoch": 3, "hyperparameters": {"units": 8}},
        "spread": "mean ± sample std (ddof=1)",
        "folds": folds,
        "average": {
            "test": {
                "loss": {"value": 0.205, "spread": 0.007},
                "roc_auc": {"value": float(np.mean(aucs)), "spread": float(np.std(aucs, ddof=1))},
            }
        },
    }


def trial_record(trial: str, number: int, value: float, state: str = "completed") -> dict[str, Any]:
    return {
        "tune_trial_id": trial,
        "optuna_trial_number": number,
        "config": {"units": 8, "learning_rate": 0.01 * (number + 1)},
        "value": value,
        "best_epoch": 3,
        "last_value": value + 0.01,
        "epochs": 4 if state == "completed" else 2,
        "state": state,
        "stopped_at_epoch": 2 if state == "stopped" else None,
        "error": None,
    }


def write_events(path: Path, n: int = 600, seed: int = 5) -> Path:
    """A small separable signal/background sample (variables ``x``, ``y``; Weight, EventNumber, target) as Parquet."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    target = (rng.random(n) < 0.5).astype(np.int8)
    shift = 2 * target - 1.0
    frame = pd.DataFrame({"x": rng.normal(shift, 1.0, n), "y": rng.normal(-0.5 * shift, 1.0, n)})
    frame["Weight"] = rng.lognormal(0.0, 0.3, n)
    frame["EventNumber"] = np.arange(n, dtype=np.int64)
    frame["target"] = target
    frame.to_parquet(path, index=False)
    return path
