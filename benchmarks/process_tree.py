"""Wall time and peak memory of a command's whole process tree, for the benchmarks that run ``optima`` as a user would.

The peak is the largest sum of RSS over the command and every process below it (Ray's raylet, GCS and workers
included), sampled every 0.2 s from ``/proc/<pid>/status``. At that peak the sum is also split by the processes'
roles (``driver``, ``raylet``, ``gcs_server``, Ray workers by their title, ...), which says where the memory went. Shared pages (Ray's object
store, shared libraries such as libtorch) are counted once per process that maps them, so the sum overstates the
machine's use; it overstates every tool measured this way alike. The peak of the summed PSS (proportional set size:
each shared page divided among the processes that map it, ``/proc/<pid>/smaps_rollup``) is recorded next to it:
what the tree really occupies. PSS is read every 2 s only: the kernel walks every page table of a process to
report it, which for the trees measured here (processes with TensorFlow or torch mapped) cost the sampler about
10 s of CPU per minute when read every 0.2 s, taken from the 2 cores the measured run has, and it holds each
process's memory-map lock while it walks.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_INTERVAL_S = 0.2
#: PSS is read on every this many samples (see the module docstring).
PSS_EVERY = 10


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _role(pid: int, root: int) -> str:
    """A short name for what the process is: the driver, a Ray server, or a Ray worker by its title."""
    if pid == root:
        return "driver"
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return "?"
    if not words:
        return "?"
    if words[0].startswith("ray::"):
        return words[0].split(".")[0]  # ray::ImplicitFunc, ray::IDLE, ray::_evaluate_fold ...
    for word in words[:3]:
        name = Path(word).name
        if name in {"raylet", "gcs_server"} or name.endswith((".py", "_monitor")):
            return name
    return Path(words[0]).name


def tree_rss_kib(root: int, counts: Counter[str] | None = None, pss: bool = True) -> dict[str, int]:
    """RSS (KiB) of ``root`` and every process below it, summed per role (``counts``: processes per role; its key
    ``"<pss KiB>"`` gets the tree's summed PSS when ``pss``)."""
    by_role: Counter[str] = Counter()
    stack, seen = [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        role = _role(pid, root)
        by_role[role] += _rss_kib(pid)
        if counts is not None:
            counts[role] += 1
            counts["<pss KiB>"] += _pss_kib(pid) if pss else 0
        stack += _children(pid)
    return dict(by_role)


def environment(work: Path) -> dict[str, str]:
    """This process's environment for a measured ``optima`` run: no usage stats, library caches in ``work``."""
    env = dict(os.environ)
    env.update(
        RAY_USAGE_STATS_ENABLED="0",
        TF_CPP_MIN_LOG_LEVEL="2",
        KERAS_HOME=str(work / "keras"),
        MPLCONFIGDIR=str(work / "mpl"),
        MPLBACKEND="Agg",
    )
    return env


@dataclass
class TreeRun:
    """One measured command: wall time, exit status, the peak summed RSS and its split by role at that moment."""

    wall_s: float
    exit_code: int
    peak_mib: float
    peak_by_role_mib: dict[str, float] = field(default_factory=dict)
    peak_pss_mib: float = 0.0


def run_measured(command: list[str], cwd: Path, env: dict[str, str], log: Path, timeout_s: float = 1800) -> TreeRun:
    """Run ``command`` (output into ``log``) in its own session; stopped with SIGTERM after ``timeout_s``."""
    peak: dict[str, int] = {}
    peak_pss = 0
    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        killer = threading.Timer(timeout_s, lambda: os.killpg(process.pid, 15))
        killer.start()
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, peak_pss
            with log.with_suffix(".rss.tsv").open("w") as timeline:
                samples = 0
                while not done.is_set():
                    counts: Counter[str] = Counter()
                    with_pss = samples % PSS_EVERY == 0
                    now = tree_rss_kib(process.pid, counts, pss=with_pss)
                    samples += 1
                    if sum(now.values()) > sum(peak.values()):
                        peak = now
                    pss = counts.pop("<pss KiB>", 0)
                    peak_pss = max(peak_pss, pss)
                    roles = "\t".join(f"{role}:{counts[role]}:{kib // 1024}" for role, kib in now.items())
                    elapsed = time.perf_counter() - start
                    pss_column = f"pss:{pss // 1024}" if with_pss else "pss:"
                    timeline.write(f"{elapsed:.1f}\t{sum(now.values()) // 1024}\t{pss_column}\t{roles}\n")
                    done.wait(SAMPLE_INTERVAL_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        wall = time.perf_counter() - start
        killer.cancel()
        done.set()
        sampler.join()
    by_role = {role: kib / 1024 for role, kib in sorted(peak.items(), key=lambda item: -item[1])}
    return TreeRun(wall, code, sum(by_role.values()), by_role, peak_pss / 1024)
