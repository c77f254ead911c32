"""The trials of one optimization stage, as the report lists them.

From ``<stage>/trials.json`` when the run wrote it (one record per trial: ``tune_trial_id``,
``optuna_trial_number``, ``config``, ``value``, ``best_epoch``, ``last_value``, ``epochs``, ``state``,
``stopped_at_epoch``, ``error``), otherwise read back from Ray Tune's files (``tune/trials/run_trial_*``:
``result.json`` per epoch, ``error.txt`` of a failed trial).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from optima_core.report.files import read_json, read_text

#: The column of Tune's results holding the value the trials are optimized on.
TARGET = "optima_target"


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    text = read_text(path) or ""
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line being written
            break
    return rows


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def from_tune(stage: Path, mode: str, max_epochs: Any) -> list[dict[str, Any]]:
    """Trial records in the layout of ``trials.json``, from Tune's result files (no Optuna numbers)."""
    records = []
    for trial in sorted((stage / "tune" / "trials").glob("run_trial_*")):
        if not trial.is_dir():
            continue
        rows = [row for row in _rows(trial / "result.json") if "epoch" in row]
        by_epoch = {int(row["epoch"]): row for row in rows}  # the last report of an epoch counts
        epochs = sorted(by_epoch)
        values = [(by_epoch[e].get(TARGET), e) for e in epochs if by_epoch[e].get("optima_valid", True)]
        values = [(v, e) for v, e in values if _finite(v)]
        best = (min if mode == "min" else max)(values) if values else (None, None)
        last = by_epoch[epochs[-1]] if epochs else {}
        error = read_text(trial / "error.txt")
        if error is not None or last.get("optima_diverged"):
            state = "failed"
        elif epochs and isinstance(max_epochs, int) and epochs[-1] < max_epochs:
            state = "stopped"
        else:
            state = "completed"
        params = read_json(trial / "params.json")
        records.append(
            {
                "tune_trial_id": (rows[0].get("trial_id") if rows else None) or trial.name.split("_")[2],
                "optuna_trial_number": None,
                "config": params if isinstance(params, dict) else last.get("config", {}),
                "value": best[0],
                "best_epoch": best[1],
                "last_value": last.get(TARGET),
                "epochs": len(epochs),
                "state": state,
                "stopped_at_epoch": epochs[-1] if state == "stopped" else None,
                "error": (error or "diverged (the target became NaN or infinite)").strip().splitlines()[-1]
                if state == "failed"
                else None,
            }
        )
    return records


def stage_trials(stage: Path, mode: str, max_epochs: Any) -> tuple[list[dict[str, Any]], str]:
    """``(records, source)``: the stage's trials from ``trials.json``, else from Tune's files."""
    recorded = read_json(stage / "trials.json")
    if isinstance(recorded, dict):
        recorded = recorded.get("trials")
    if isinstance(recorded, list):
        return [r for r in recorded if isinstance(r, dict)], "trials.json"
    return from_tune(stage, mode, max_epochs), "Ray Tune's result files (no trials.json)"
