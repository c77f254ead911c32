"""Ray Datasets from a user's get_inputs become EventData, directly and through the input pipeline.

These start a real local Ray (one CPU) once for the module; marked slow.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from inputs_testdata import run_config

from optima_core.builtin.input_handler import InputHandler
from optima_core.inputs.store import as_event_data

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    temp_dir = tempfile.mkdtemp(prefix=f"optima-t-{os.getpid()}-", dir="/tmp")
    ray.init(num_cpus=1, include_dashboard=False, _temp_dir=temp_dir, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_a_ray_dataset_becomes_event_data(local_ray: Any) -> None:
    rows = [
        {"Input": np.array([i, -i], dtype=np.float32), "Target": np.float32(i % 2), "Weight": 1.0, "EventNumber": i}
        for i in range(30)
    ]
    data = as_event_data(ray.data.from_items(rows), ["a", "b"])
    assert data["Input"].shape == (30, 2) and data["Target"].shape == (30, 1)
    assert sorted(data["EventNumber"].tolist()) == list(range(30))


def test_a_run_config_get_inputs_returning_a_ray_dataset_works_end_to_end(local_ray: Any) -> None:
    from optima_core.plugins.active import using_manager
    from optima_core.plugins.manager import create_plugin_manager

    module = types.ModuleType("rc_ray")
    source = """
import numpy as np
import ray

def get_inputs(run_config, nevts, input_vars_list, disable_printing=False):
    rng = np.random.default_rng(1)
    return ray.data.from_items(
        [{"Input": rng.normal(size=3).astype(np.float32), "Target": np.float32(i % 2), "Weight": 1.0, "EventNumber": i}
         for i in range(100)]
    )
"""
    exec(compile(source, "rc_ray.py", "exec"), module.__dict__)
    config = run_config(input_vars=["x", "y", "z"])
    manager = create_plugin_manager(run_config_module=module, load_entry_points=False)
    with using_manager(manager):
        train, val, test = manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=InputHandler(config),
            output_dir=None,
            inputs_for_crossvalidation=False,
            disable_printing=True,
        )
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert train.variables == ["x", "y", "z"]
