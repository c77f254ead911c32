"""Fixtures of the SLURM tests: a real two-node SLURM on this host (session-scoped) and its 'sandbox' site file."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from slurm_sandbox import Sandbox, ensure_installed, free_port_block, start_sandbox

REPOSITORY = Path(__file__).resolve().parents[2]


def _stray_job_outputs() -> set[Path]:
    """SLURM's default job output files (``slurm-<id>.out``) in the repository: a job submitted without ``--output``."""
    return set(REPOSITORY.glob("slurm-*.out")) | set((REPOSITORY / "tests").rglob("slurm-*.out"))


@pytest.fixture(scope="session", autouse=True)
def no_stray_job_output() -> Iterator[None]:
    """Every job of the tests writes its output under the test's folder, never into the source tree."""
    before = _stray_job_outputs()
    yield
    new = sorted(_stray_job_outputs() - before)
    assert not new, f"the SLURM tests left job output in the source tree: {[str(p) for p in new]}"


@pytest.fixture(scope="session")
def slurm() -> Iterator[Sandbox]:
    """munged, slurmctld and slurmd node1/node2, started here and stopped by PID at the end of the session."""
    reason = ensure_installed()
    if reason:
        pytest.skip(f"no SLURM for the SLURM end-to-end tests: {reason}")
    root = Path(tempfile.mkdtemp(prefix="optima-slurm-"))
    try:
        sandbox = start_sandbox(root)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start the SLURM sandbox: {error}")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(sandbox.conf)
    try:
        yield sandbox
    finally:
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
        sandbox.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_site(slurm: Sandbox) -> Path:
    """The site file of the sandbox: partition 'debug', 1 CPU per node, no account, free ports of this run."""
    base = free_port_block(40)
    site = slurm.root / "sites" / "sandbox.toml"
    site.parent.mkdir()
    site.write_text(
        f"""name = "sandbox"
description = "the two-node SLURM of the tests"
partition = "debug"
cpus_per_node = 1
mem_per_cpu = 1000
ray_temp_dir = "/tmp/or-{secrets.token_hex(3)}"
registry_file = "{slurm.root}/shared/running_ray_jobs.json"
max_concurrent_jobs = 10

[ports]  # both fake nodes share one host: node-level ports are left to Ray (0)
port = [{base}, 1]
ray_client_server_port = [{base + 20}, 1]
node_manager_port = [0, 0]
object_manager_port = [0, 0]
min_worker_port = [0, 0]
max_worker_port = [0, 0]
"""
    )
    return site
