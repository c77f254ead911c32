"""The running-jobs registry: a JSON file on the shared file system, changed only under a file lock.

Each job that builds a Ray cluster takes a *port offset* (see :mod:`optima_core.clusters.base`) and records it here
with its nodes and ports, so that jobs running at the same time never share Ray ports. Entries of jobs the batch
system no longer knows (finished, cancelled, vanished) are removed whenever the registry is changed.

File format (human-readable, safe to repair by hand while no job starts)::

    {"version": 1, "jobs": {"4711": {"offset": 0, "ports": {...}, "nodes": [...], "started": "..."}}}
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock


class RegistryFullError(RuntimeError):
    """Every port offset of the site is taken by a running job."""


class JobRegistry:
    """Port offsets of the running jobs of one site."""

    def __init__(self, path: str | Path, max_jobs: int, is_running: Callable[[str], bool], timeout: float = 120):
        self.path = Path(path).expanduser()
        self.max_jobs = max_jobs
        self.is_running = is_running
        self.lock = FileLock(str(self.path) + ".lock", timeout=timeout)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"version": 1, "jobs": {}}
        except ValueError as error:
            raise RuntimeError(
                f"the job registry {self.path} is not valid JSON ({error}); repair or delete it (no job may be starting)"
            ) from error
        data.setdefault("jobs", {})
        return data

    def _write(self, data: dict[str, Any]) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(temporary, self.path)

    def _clean(self, data: dict[str, Any], keep: str | None = None) -> list[str]:
        gone = [job for job in data["jobs"] if job != keep and not self.is_running(job)]
        for job in gone:
            del data["jobs"][job]
        return gone

    def allocate(self, job_id: str, info: dict[str, Any] | None = None) -> int:
        """Give ``job_id`` the lowest free port offset (its existing one if it has one) and record it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            data = self._read()
            self._clean(data, keep=job_id)
            if job_id in data["jobs"]:
                return int(data["jobs"][job_id]["offset"])
            taken = {int(entry["offset"]) for entry in data["jobs"].values()}
            free = [offset for offset in range(self.max_jobs) if offset not in taken]
            if not free:
                raise RegistryFullError(
                    f"all {self.max_jobs} port offsets in {self.path} are taken by running jobs "
                    f"{', '.join(sorted(data['jobs']))}; wait for one to end or raise max_concurrent_jobs of the site"
                )
            entry = {"offset": free[0], "started": time.strftime("%Y-%m-%dT%H:%M:%S"), **(info or {})}
            data["jobs"][job_id] = entry
            self._write(data)
            return free[0]

    def update(self, job_id: str, **info: Any) -> None:
        """Add details (ports, nodes) to the entry of ``job_id``."""
        with self.lock:
            data = self._read()
            if job_id in data["jobs"]:
                data["jobs"][job_id].update(info)
                self._write(data)

    def release(self, job_id: str) -> None:
        """Remove the entry of ``job_id`` (and of every job that is gone)."""
        if not self.path.exists():
            return
        with self.lock:
            data = self._read()
            data["jobs"].pop(job_id, None)
            self._clean(data)
            self._write(data)

    def entries(self) -> dict[str, dict[str, Any]]:
        """A snapshot of the registered jobs."""
        with self.lock:
            return dict(self._read()["jobs"])
