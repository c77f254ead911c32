"""A real two-node SLURM on this host for the tests: munged, slurmctld and two slurmd, all started and stopped by PID.

Debian's ``slurm-wlm`` supports several slurmd on one host; the two nodes ``node1``/``node2`` share 127.0.0.1 and
differ by their slurmd port. Everything (keys, sockets, state, logs) lives in one temp dir.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_block(size: int) -> int:
    """A base port with ``size`` free ports after it (checked once; good enough for one test run)."""
    for _ in range(200):
        base = free_port()
        if base + size >= 60000:
            continue
        try:
            for port in range(base, base + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no block of {size} free ports found")


def ensure_installed() -> str | None:
    """Install slurm-wlm and munge when missing and we are root; the reason to skip otherwise."""
    if shutil.which("slurmctld") and shutil.which("munged"):
        return None
    if os.geteuid() != 0:
        return "slurm-wlm/munge are not installed and installing them needs root"
    if not shutil.which("apt-get"):
        return "slurm-wlm/munge are not installed and apt-get is not available"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "--no-install-recommends", "slurm-wlm", "munge"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        if result.returncode != 0:
            return f"{' '.join(command)} failed: {result.stderr.strip()[-400:]}"
    return None if shutil.which("slurmctld") else "slurmctld still missing after apt-get install"


@dataclass
class Sandbox:
    """A running two-node SLURM; ``env`` has SLURM_CONF set."""

    root: Path
    conf: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def run(self, *command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(command), capture_output=True, text=True, env=self.env, timeout=timeout)

    def job_state(self, job_id: str) -> str:
        """The job's state from ``scontrol show job`` ('' once SLURM has forgotten it), else the jobcomp log."""
        shown = self.run("scontrol", "show", "job", job_id)
        for token in shown.stdout.split():
            if token.startswith("JobState="):
                return token.split("=", 1)[1]
        for line in (
            (self.root / "log" / "jobcomp.txt").read_text().splitlines()
            if (self.root / "log" / "jobcomp.txt").exists()
            else []
        ):
            if f"JobId={job_id} " in line:
                return next(t.split("=", 1)[1] for t in line.split() if t.startswith("JobState="))
        return ""

    def wait_for_state(self, job_id: str, states: set[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.job_state(job_id)
            if state in states:
                return state
            time.sleep(1)
        return state

    def stop(self) -> None:
        """Cancel the sandbox's jobs (a failed test may leave one running), then stop exactly its daemons by PID."""
        try:
            self.run("scancel", "--partition=debug")  # only this sandbox's controller is asked
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.run("squeue", "-h").stdout.strip():
                time.sleep(0.5)
        except (OSError, subprocess.SubprocessError):
            pass
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 15
        for pid in self.pids:
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _wait_pidfile(path: Path, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text().split()[0])
        time.sleep(0.1)
    raise RuntimeError(f"{path} did not appear within {timeout} s")


def start_sandbox(root: Path) -> Sandbox:
    """Configure and start munged, slurmctld and slurmd for node1 and node2 under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # munged insists that every folder above its socket is searchable by all
    for sub in ("munge", "state", "spool/node1", "spool/node2", "run", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    munge = root / "munge"
    munge.chmod(0o755)
    key = munge / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    host = socket.gethostname()
    port_ctld, port1, port2 = free_port(), free_port(), free_port()
    conf = root / "slurm.conf"
    conf.write_text(
        f"""ClusterName=sandbox
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge}/munge.socket
SlurmctldPort={port_ctld}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/%n
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd-%n.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd-%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=600
NodeName=node1 NodeHostname={host} NodeAddr=127.0.0.1 Port={port1} CPUs=1 RealMemory=8000 State=UNKNOWN
NodeName=node2 NodeHostname={host} NodeAddr=127.0.0.1 Port={port2} CPUs=1 RealMemory=8000 State=UNKNOWN
PartitionName=debug Nodes=node[1-2] Default=YES MaxTime=INFINITE State=UP
"""
    )
    sandbox = Sandbox(root, conf)
    env = sandbox.env
    munged = subprocess.Popen(
        [
            "munged",
            f"--key-file={key}",
            f"--socket={munge}/munge.socket",
            f"--pid-file={munge}/munged.pid",
            f"--log-file={root}/log/munged.log",
            f"--seed-file={munge}/munged.seed",
        ],
        env=env,
    )
    if munged.wait(timeout=15) != 0:  # munged daemonizes; its pid file names the daemon
        raise RuntimeError(f"munged exited with {munged.returncode}; see {root}/log/munged.log")
    sandbox.pids.append(_wait_pidfile(munge / "munged.pid"))
    try:
        _start_slurm(sandbox, conf, env, root)
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def _start_slurm(sandbox: Sandbox, conf: Path, env: dict[str, str], root: Path) -> None:
    subprocess.run(["slurmctld", "-f", str(conf)], env=env, check=True, timeout=30)
    sandbox.pids.append(_wait_pidfile(root / "run" / "slurmctld.pid"))
    for node in ("node1", "node2"):
        subprocess.run(["slurmd", "-f", str(conf), "-N", node], env=env, check=True, timeout=30)
        sandbox.pids.append(_wait_pidfile(root / "run" / f"slurmd-{node}.pid"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = sandbox.run("sinfo", "-h", "-N", "-o", "%N %t").stdout.split()
        if states.count("idle") == 2:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the SLURM sandbox nodes did not become idle: sinfo says {states}; logs in {root}/log")
