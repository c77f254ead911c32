"""Helpers of the Python API tests: the tiny run-config of the shared run and what the run's fixture returns.

The data and the run-config values come from the end-to-end tests' helpers (``tests/engine/engine_helpers.py``);
the split is by event number (N = 3, rotating testing set), so every event is in the testing set of one fold.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from engine_helpers import SEARCH_SPACE, VARIABLES, write_events  # noqa: F401 - re-exported

from optima_core.config.parameters import PARAMETERS_BY_NAME

N_EVENTS = 900
N_FOLDS = 3
MLFLOW_EXPERIMENT = "optima_api"
#: No ONNX bundles (where this OPTIMA writes them): they take time and no test here looks at them.
SKIP_EXPORTS = {"export_onnx": False} if "export_onnx" in PARAMETERS_BY_NAME else {}


@dataclass
class ApiRun:
    config: dict[str, Any]
    events: Path
    summary: Any
    mlflow_uri: str | None


def search_space() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(SEARCH_SPACE, namespace)
    return namespace["search_space"]


def base_config(tmp: Path, events: Path, **values: Any) -> dict[str, Any]:
    """A dict run-config of a tiny main HPO split by event number (the end-to-end tests' data and model)."""
    from optima_core.metrics import WeightedAUC

    return {
        "perform_variable_opt": False,
        "perform_main_hyperopt": True,
        "perform_PBT_hyperopt": False,
        "model_type": "Lightning",
        "inputs_file": str(events),
        "input_vars": list(VARIABLES),
        "input_scaling": {"pt": ("log10", (1.0, 0.0))},
        "output_path": str(tmp / "out"),
        "output_name": "api",
        "use_eventNums_splitting": True,
        "eventNums_splitting_N": N_FOLDS,
        "use_testing_dataset": True,
        "fixed_testing_dataset": False,
        "max_epochs": 2,
        "num_samples_main": 2,
        "use_ASHAScheduler": False,
        "ASHA_grace_period": 1,
        "random_seed": 42,
        "produce_inputs_plots": False,
        "custom_metrics": [("auc", WeightedAUC())],  # an object: written into run_config.py as a pickle
        "search_space": search_space(),
        **SKIP_EXPORTS,
        **values,
    }
