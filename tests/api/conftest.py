"""Fixtures of the Python API tests: one tiny Lightning optimization run through ``optima_core.api.run`` with a
dict run-config, shared by every test of this folder (it trains 2 trials and 3 cross-validation folds). When MLflow
is installed the run also logs to a local SQLite MLflow store through ``tune_callbacks``.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from api_helpers import MLFLOW_EXPERIMENT, N_EVENTS, ApiRun, base_config, write_events


@pytest.fixture(scope="session")
def api_run(tmp_path_factory: pytest.TempPathFactory) -> ApiRun:
    """``optima_core.api.run(dict, cpus=2)`` of :func:`base_config`, once per session; Ray is down afterwards."""
    for module in ("lightning", "torch", "optima_lightning"):
        pytest.importorskip(module)
    import ray

    from optima_core import api

    tmp = tmp_path_factory.mktemp("api_run")
    events = write_events(tmp / "events.parquet", n=N_EVENTS)
    values: dict[str, Any] = {}
    uri = None
    if importlib.util.find_spec("mlflow") is not None:
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        uri = f"sqlite:///{tmp / 'mlflow.db'}"
        values["tune_callbacks"] = [
            MLflowLoggerCallback(tracking_uri=uri, experiment_name=MLFLOW_EXPERIMENT, save_artifact=False)
        ]
    config = base_config(tmp, events, **values)
    assert not ray.is_initialized()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPTIMA_DISABLE_PLUGINS", "plots")  # figures take long on 2 busy cores; no test looks at them
        summary = api.run(config, cpus=2)
    assert not ray.is_initialized(), "api.run left Ray running in this process"
    return ApiRun(config, events, summary, uri)
