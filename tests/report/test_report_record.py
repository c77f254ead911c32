"""What a run records for its report when it starts: command, versions, resources, and the inputs' class totals."""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest

from optima_core.report.record import class_totals, command_line, run_facts, start_facts


def test_command_line_names_the_script_as_typed() -> None:
    assert command_line(["/venv/bin/optima", "run", "my config.py", "--cpus", "2"]) == (
        "optima run 'my config.py' --cpus 2"
    )
    assert command_line(["python", "-m", "x"]) == "python -m x"


def test_run_facts_hold_versions_and_the_resource_plan() -> None:
    from importlib import metadata

    from optima_core.clusters.local import LocalCluster, ResourceRequest

    plan = LocalCluster().plan(ResourceRequest(cpus=2))
    facts = run_facts(plan)
    assert facts["resources"] == asdict(plan)
    assert facts["versions"]["optima-core"] == metadata.version("optima-core")
    assert facts["versions"]["ray"] == metadata.version("ray")
    assert isinstance(facts["argv"], list) and facts["command"]


def test_class_totals_of_a_binary_split_follow_the_inputs_encoding() -> None:
    from optima_core.inputs.dataset import EventData

    rng = np.random.default_rng(3)
    target = (rng.random(50) < 0.3).astype(np.float32)
    weights = rng.random(50)
    data = EventData({"Input": rng.normal(size=(50, 2)), "Target": target, "Weight": weights}, ["a", "b"])
    signal, background = class_totals(data, ["Signal", "Background"])
    assert (signal["class"], signal["encoding"], signal["events"]) == ("Signal", "Target 1", int(target.sum()))
    assert signal["weight"] == pytest.approx(float(weights[target == 1].sum()))
    assert (background["class"], background["events"]) == ("Background", int((target == 0).sum()))
    assert background["weight"] == pytest.approx(float(weights[target == 0].sum()))


def test_class_totals_of_one_hot_targets() -> None:
    from optima_core.inputs.dataset import EventData

    target = np.eye(3, dtype=np.float32)[[0, 1, 2, 2, 1, 2]]
    data = EventData({"Input": np.zeros((6, 1)), "Target": target, "Weight": np.ones(6)}, ["a"])
    totals = class_totals(data, ["A", "B"])  # fewer labels than classes: the rest are numbered
    assert [(t["class"], t["events"], t["weight"]) for t in totals] == [
        ("A", 1, 1.0),
        ("B", 2, 2.0),
        ("class 2", 3, 3.0),
    ]


def test_facts_that_cannot_be_found_are_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    broken = SimpleNamespace(plan=None, input_handler=None, run_config=None)
    facts = start_facts(broken)
    assert "inputs" not in facts and "could not record the inputs facts" in caplog.text
    assert facts["resources"] == {} and "versions" in facts
