"""What a stage hands to its trials leaves Ray's object store when the Tuner is done (it stayed there for good).

``tune.with_parameters`` references were pinned for the driver's life by Tune pickling the trainable, so each
Tuner launch of a run (each variable-selection iteration, each cross-validation) added its datasets to the object
store and to the driver's memory. Checked with real Ray Tune launches through :func:`launch_trials`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from optima_core.clusters.local import ResourceRequest, derive_plan
from optima_core.config.loader import RunConfig
from optima_core.config.parameters import defaults
from optima_core.plugins.manager import create_plugin_manager


def _objects_in_store(wait_s: float = 30.0) -> tuple[int, float]:
    """The number of objects in this node's object store and the MiB they take, once it is empty or ``wait_s`` on.

    Ray deletes an object asynchronously once the last reference has gone and the trial processes have let go of it.
    """
    from ray._private.internal_api import memory_summary

    deadline = time.monotonic() + wait_s
    while True:
        summary = memory_summary(stats_only=True)
        found = re.search(r"Plasma memory usage (\d+) MiB, (\d+) objects", summary)
        assert found, summary
        objects, mib = int(found.group(2)), float(found.group(1))
        if objects == 0 or time.monotonic() > deadline:
            return objects, mib
        time.sleep(0.2)


@pytest.mark.slow
def test_launches_leave_nothing_in_the_object_store(tmp_path: Path) -> None:
    from ray import tune

    from optima_core.engine.progress import ProgressPrinter
    from optima_core.engine.ray_session import ray_session
    from optima_core.engine.tuning import launch_trials

    def trainable(config: dict[str, Any], *, events: np.ndarray, label: str) -> None:
        tune.report({"total": float(events.sum()) + config["x"], "label_length": len(label)})

    plan = derive_plan(2, 0, ResourceRequest())
    manager = create_plugin_manager()
    context = SimpleNamespace(
        plan=plan, resume=False, output=tmp_path, run_config=RunConfig(defaults()), manager=manager, hooks=manager.hooks
    )
    events = np.arange(1_000_000, dtype=np.float32)  # 4 MB: stored in shared memory, not inline
    after: list[tuple[int, float]] = []
    with ray_session(plan):
        for launch in range(3):
            results = launch_trials(
                context,  # type: ignore[arg-type]
                trainable,
                {"events": events + launch, "label": "fold"},
                name=f"launch{launch}",
                storage=tmp_path,
                param_space={"x": tune.grid_search([1.0, 2.0])},
                progress=ProgressPrinter(2, "total", "max"),
            )
            expected = float((events + launch).sum())
            assert sorted(r.metrics["total"] for r in results) == [expected + 1.0, expected + 2.0]
            after.append(_objects_in_store())
    assert after == [(0, 0.0)] * 3
