"""Datasets in Ray's object store: put once, read zero-copy in tasks; Ray Datasets from a user's get_inputs.

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
from optima_core.inputs.dataset import EventData
from optima_core.inputs.store import as_event_data, get_event_data, get_split, put_event_data, put_split

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


def make_data(n: int = 50_000) -> EventData:
    rng = np.random.default_rng(0)
    return EventData(
        {
            "Input": rng.normal(size=(n, 8)),
            "Target": rng.integers(0, 2, n),
            "Weight": np.ones(n),
            "EventNumber": np.arange(n),
        },
        [f"v{i}" for i in range(8)],
        {"source": "generated"},
    )


def test_tasks_read_the_same_shared_buffer_without_copying(local_ray: Any) -> None:
    data = make_data()
    stored = put_event_data(data)

    @ray.remote
    def inspect(handle: Any) -> dict[str, Any]:
        first, second = get_event_data(handle), get_event_data(handle)
        return {
            "same_buffer": first["Input"].__array_interface__["data"][0]
            == second["Input"].__array_interface__["data"][0],
            "writeable": bool(first["Input"].flags.writeable),
            "owns_data": bool(first["Input"].flags.owndata),
            "sum": float(first["Input"].sum()),
            "variables": first.variables,
            "pid": os.getpid(),
        }

    results = ray.get([inspect.remote(stored), inspect.remote(stored)])
    for result in results:
        assert result["same_buffer"], "a second get copied the data"
        assert not result["writeable"] and not result["owns_data"], "arrays are not views of the object store"
        assert result["sum"] == pytest.approx(float(data["Input"].sum()), rel=1e-6)
        assert result["variables"] == data.variables
    assert results[0]["pid"] != os.getpid()
    again = get_event_data(stored)
    assert np.array_equal(again["EventNumber"], data["EventNumber"]) and again.meta == data.meta


def test_a_split_goes_in_once_and_comes_back_with_its_structure(local_ray: Any) -> None:
    data = make_data(1000)
    split = ([data.take(np.arange(0, 500)), data.take(np.arange(500, 1000))], [data.take(np.arange(10))])
    stored = put_split(split)
    assert isinstance(stored, tuple) and isinstance(stored[0], list) and stored[0][1].n_events == 500
    restored = get_split(stored)
    assert np.array_equal(restored[0][1]["EventNumber"], np.arange(500, 1000))
    assert len(restored[1][0]) == 10


def test_a_ray_dataset_becomes_event_data(local_ray: Any) -> None:
    rows = [
        {"Input": np.array([i, -i], dtype=np.float32), "Target": np.float32(i % 2), "Weight": 1.0, "EventNumber": i}
        for i in range(30)
    ]
    data = as_event_data(ray.data.from_items(rows), ["a", "b"])
    assert data["Input"].shape == (30, 2) and data["Target"].shape == (30, 1)
    assert sorted(data["EventNumber"].tolist()) == list(range(30))


def test_a_run_config_get_inputs_returning_a_ray_dataset_works_end_to_end(local_ray: Any) -> None:
    from optima_core.inputs.pipeline import using_hooks
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
    with using_hooks(manager.hooks):
        train, val, test = manager.hooks.get_experiment_inputs(
            run_config=config,
            input_handler=InputHandler(config),
            output_dir=None,
            inputs_for_crossvalidation=False,
            disable_printing=True,
        )
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert train.variables == ["x", "y", "z"]
