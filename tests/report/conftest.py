"""Fixtures of the report tests: a synthetic output folder as a finished run leaves it.

The folder holds what the run writes (manifest with command/versions/resources/inputs, run-config, resolved
parameters, a main HPO stage with trials, selection and cross-validation), so the builder can be tested without
training anything. Parameter values come from :func:`optima_core.config.parameters.defaults`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import RUN_CONFIG, evaluation, tiny_png, trial_record, write_json


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """A synthetic output folder of a main HPO + PBT run whose PBT stage did not run."""
    from optima_core.config.parameters import defaults

    folder = tmp_path / "main_PBT_synthetic"
    resolved = defaults()
    resolved.update(
        perform_variable_opt=False,
        perform_main_hyperopt=True,
        perform_PBT_hyperopt=True,
        max_epochs=7,
        ASHA_max_t=7,
        monitor_name="val_loss",
        monitor_op="min",
    )
    from optima_core.engine.output import jsonable

    write_json(folder / "resolved_config.json", jsonable(resolved))
    (folder / "run_config.py").write_text(RUN_CONFIG)
    write_json(
        folder / "optima_run.json",
        {
            "optima_version": "0.1.0",
            "config_sha256": "0" * 64,
            "config": "run_config.py",
            "started": "2026-01-01T10:00:00+00:00",
            "argv": ["/venv/bin/optima", "run", "run_config.py", "--cpus", "2"],
            "command": "optima run run_config.py --cpus 2",
            "cwd": "/somewhere",
            "versions": {"optima-core": "0.1.0", "ray": "2.60.0"},
            "resources": {"cpus": 2, "gpus": 0, "concurrent_trials": 2},
            "inputs": {
                "variables": ["pt", "eta"],
                "scalings": {"pt": ["log10", [1.0, 0.0]], "eta": ["linear", [1.0, 0.0]]},
                "classes": {
                    "train": [
                        {"class": "Signal", "encoding": "Target 1", "events": 40, "weight": 0.4},
                        {"class": "Background", "encoding": "Target 0", "events": 60, "weight": 30.0},
                    ]
                },
            },
        },
    )
    tiny_png(folder / "inputs" / "pt.png")
    stage = folder / "main_hyperopt"
    write_json(
        stage / "trials.json",
        [
            trial_record("aaa11111", 0, 0.31),
            trial_record("bbb22222", 1, 0.25),
            trial_record("ccc33333", 2, 0.4, "stopped"),
        ],
    )
    write_json(
        stage / "selection.json",
        {
            "best-value": {
                "trial": "bbb22222",
                "epoch": 3,
                "value": 0.25,
                "config": {"units": 8},
                "reason": "lowest val_loss",
            },
            "best-fit": {
                "trial": "aaa11111",
                "epoch": 4,
                "value": 0.3,
                "config": {"units": 8},
                "fit": {"function": "built-in", "r_squared": 0.97, "trials_fitted": 2},
            },
            "objective_note": "val_loss is minimized",
        },
    )
    tiny_png(stage / "metric_histories.png", 7, 4)  # search_overview.png is missing on purpose
    write_json(stage / "crossvalidation" / "best_value" / "evaluation.json", evaluation("bbb22222", [0.91, 0.93]))
    tiny_png(stage / "crossvalidation" / "best_value" / "plots" / "model_fold0" / "roc_node0.png")
    (stage / "optuna_study.db").write_bytes(b"")
    (stage / "tune").mkdir()
    return folder
