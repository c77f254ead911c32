"""Start (or join) the Ray instance a run uses, and shut down only what this process started.

Never use Ray's global stop command: it kills every Ray process on the machine, other users' runs included.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optima_core.clusters.local import ResourcePlan

#: Environment every Ray process of a run gets: no usage reporting, no auth token files in ~, quiet TF.
RAY_ENVIRONMENT = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "RAY_DEDUP_LOGS": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning",
}


def short_temp_dir() -> str:
    """A temp dir path short enough for Ray's Unix sockets (107-byte limit)."""
    base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    return str(Path(base) / f"optima-ray-{os.getpid()}")


def connect(address: str) -> Any:
    """Join the Ray cluster at ``address`` with OPTIMA's environment for every process of the job; returns ``ray``."""
    for key, value in RAY_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    import ray

    ray.init(
        address=address, runtime_env={"env_vars": {k: os.environ[k] for k in RAY_ENVIRONMENT}}, log_to_driver=False
    )
    return ray


@contextmanager
def ray_session(plan: ResourcePlan, address: str | None = None) -> Iterator[Any]:
    """A Ray connection for the duration of a run: a new local instance sized by ``plan``, or ``address``."""
    for key, value in RAY_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    import ray

    started = False
    if not ray.is_initialized():
        runtime_env = {"env_vars": {k: os.environ[k] for k in RAY_ENVIRONMENT}}
        if address:
            connect(address)
        else:
            kwargs: dict[str, Any] = {
                "num_cpus": plan.cpus,
                "num_gpus": plan.gpus,
                "include_dashboard": False,
                "logging_level": logging.WARNING,
                "log_to_driver": False,
                "runtime_env": runtime_env,
                "_temp_dir": plan.temp_dir or short_temp_dir(),
            }
            if plan.memory_mb:
                kwargs["_memory"] = int(plan.memory_mb * 1024 * 1024)
            ray.init(**kwargs)
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
