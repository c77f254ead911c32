"""Session-wide test setup: keep every library cache and Ray's state inside the run, never in ~."""

from __future__ import annotations

import os
from pathlib import Path

_RUN_DIR = Path(__file__).resolve().parent.parent / ".run"
for variable, value in {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_HOME": str(_RUN_DIR / "keras"),
    "MPLCONFIGDIR": str(_RUN_DIR / "mpl"),
    "MPLBACKEND": "Agg",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
}.items():
    os.environ.setdefault(variable, value)
