"""The running-jobs registry: distinct offsets under concurrency (threads and processes), clean-up of gone jobs."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from optima_slurm.registry import JobRegistry, RegistryFullError


def _always(_job: str) -> bool:
    return True


def _allocate_in_process(path: str, job_id: str) -> int:
    return JobRegistry(path, 64, _always).allocate(job_id, {"pid": job_id})


def test_threads_get_distinct_offsets(tmp_path: Path) -> None:
    registry = JobRegistry(tmp_path / "shared" / "jobs.json", 40, _always)
    with ThreadPoolExecutor(16) as pool:
        offsets = list(pool.map(lambda i: registry.allocate(str(i)), range(32)))
    assert sorted(offsets) == list(range(32))
    assert registry.allocate("5") == offsets[5]  # a job asking again keeps its offset


def test_processes_get_distinct_offsets(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.json")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        offsets = pool.starmap(_allocate_in_process, [(path, str(1000 + i)) for i in range(24)])
    assert sorted(offsets) == list(range(24))
    stored = json.loads(Path(path).read_text())["jobs"]
    assert {entry["offset"] for entry in stored.values()} == set(range(24))


def test_gone_jobs_are_cleaned_up_and_their_offsets_reused(tmp_path: Path) -> None:
    running = {"1", "2", "3"}
    registry = JobRegistry(tmp_path / "jobs.json", 3, lambda job: job in running)
    assert [registry.allocate(j) for j in ("1", "2", "3")] == [0, 1, 2]
    with pytest.raises(RegistryFullError, match=r"all 3 port offsets .* taken by running jobs 1, 2, 3"):
        registry.allocate("4")
    running.discard("2")  # finished or vanished: squeue no longer knows it
    assert registry.allocate("4") == 1
    assert set(registry.entries()) == {"1", "3", "4"}
    registry.update("4", ports={"port": 6380})
    assert registry.entries()["4"]["ports"] == {"port": 6380}
    running.discard("1")
    registry.release("4")
    assert set(registry.entries()) == {"3"}


def test_a_corrupt_registry_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text("{not json")
    with pytest.raises(RuntimeError, match="is not valid JSON"):
        JobRegistry(path, 2, _always).allocate("1")
