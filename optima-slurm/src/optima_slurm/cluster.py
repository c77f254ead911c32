"""``SLURMCluster``: write the batch script, submit it with ``sbatch``, and start Ray nodes with ``srun``.

One class serves every SLURM site; a :class:`~optima_slurm.sites.Site` holds what differs between sites. The batch
script sources ``path_to_setup_file`` (when set) and runs :mod:`optima_slurm.job_main` in the allocation, which
rebuilds this cluster object from the job file (a subclass stays that subclass, so its overrides run inside the job),
builds the Ray cluster and runs the optimization (see there).
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from optima_core.clusters.base import Cluster, ClusterJob, PortRange
from optima_core.clusters.handover import write_job_file
from optima_core.config.problems import ConfigError
from optima_core.errors import OptimaUserError
from optima_slurm.sites import Site

#: Environment of every Ray process in a job: token authentication (the job's token file is made by
#: :mod:`optima_slurm.job_main`), no usage stats, quick shutdown on SIGTERM.
RAY_NODE_ENV = {
    "RAY_AUTH_MODE": "token",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
}

_ACTIVE_STATES = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"}


def _run(command: list[str], what: str) -> str:
    """Run a SLURM command; a missing command or a refusal (bad partition, account...) is the user's to fix."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as error:
        raise OptimaUserError(f"{what}: '{command[0]}' was not found; is this a SLURM login node?") from error
    if result.returncode != 0:
        raise OptimaUserError(f"{what}: {shlex.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def parse_cpus_per_node(value: str) -> list[int]:
    """Expand SLURM's compressed CPU counts (``SLURM_JOB_CPUS_PER_NODE``, e.g. ``'2(x3),1'``)."""
    counts: list[int] = []
    for part in filter(None, value.split(",")):
        match = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", part.strip())
        if not match:
            raise ValueError(f"cannot read CPUs per node from {value!r}")
        counts.extend([int(match.group(1))] * int(match.group(2) or 1))
    return counts


class SLURMCluster(Cluster):
    """A SLURM site: submit with ``sbatch``, start one Ray node per allocated node with ``srun --overlap``."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.name = site.name

    # -- outside the job --------------------------------------------------------------------------------------

    def check_job(self, job: ClusterJob) -> None:
        """Reject resource arguments that cannot work on this site, all problems at once."""
        problems: list[str] = []
        if job.fixed_ray_node_size or job.gpus_per_worker:
            for key, value in (("workers", job.workers), ("cpus_per_worker", job.cpus_per_worker)):
                if value is None or value < 1:
                    problems.append(f"--{key} = {value}: expected an integer >= 1 with --fixed_ray_node_size")
            if job.cpus_per_worker and job.cpus_per_worker > self.site.cpus_per_node:
                problems.append(
                    f"--cpus_per_worker = {job.cpus_per_worker}: expected at most the {self.site.cpus_per_node} "
                    f"CPUs per node of '{self.site.name}'"
                )
            if (job.gpus_per_worker or 0) > self.site.gpus_per_node:
                problems.append(
                    f"--gpus_per_worker = {job.gpus_per_worker}: expected at most the {self.site.gpus_per_node} "
                    f"GPUs per node of '{self.site.name}'"
                )
        elif job.cpus is None or job.cpus < 1:
            problems.append(f"--cpus = {job.cpus}: expected the total number of CPUs to reserve (>= 1)")
        if job.runtime <= 0:
            problems.append(f"--runtime = {job.runtime}: expected a positive number of hours")
        if job.mem_per_cpu is not None and job.mem_per_cpu <= 0:
            problems.append(f"--mem_per_cpu = {job.mem_per_cpu}: expected a positive number of MB")
        if problems:
            raise ConfigError(f"The job '{job.name}' for cluster '{self.site.name}'", problems)

    def sbatch_options(self, job: ClusterJob) -> list[str]:
        """The ``#SBATCH`` options of ``job`` on this site."""
        site = self.site
        minutes = max(1, math.ceil(job.runtime * 60))
        options = [f"--job-name={job.name}", f"--output={job.log_path}", f"--error={job.log_path}"]
        options.append(f"--time={minutes // 60}:{minutes % 60:02d}:00")
        if site.partition:
            options.append(f"--partition={site.partition}")
        if site.account:
            options.append(f"--account={site.account}")
        if job.fixed_ray_node_size or job.gpus_per_worker:
            options += [f"--nodes={job.workers}", "--ntasks-per-node=1", f"--cpus-per-task={job.cpus_per_worker}"]
            if job.gpus_per_worker:
                options.append(f"--gres=gpu:{job.gpus_per_worker}")
        else:
            options += [f"--ntasks={job.cpus}", "--cpus-per-task=1"]
            if job.min_cpus_per_ray_node:
                options.append(f"--mincpus={job.min_cpus_per_ray_node}")
        memory = job.mem_per_cpu if job.mem_per_cpu is not None else site.mem_per_cpu
        if memory:
            options.append(f"--mem-per-cpu={int(memory)}")
        if site.threads_per_core > 1:
            options.append("--hint=nomultithread")  # SMT threads are not part of the reservation
        if job.exclude:
            options.append(f"--exclude={job.exclude}")
        options += list(site.extra_sbatch)
        return options

    def launcher_command(self, job: ClusterJob, job_file: Path) -> list[str]:
        """What the batch step runs: the launcher, with the setup file's ``python`` or the submitting one."""
        python = "python" if job.path_to_setup_file else sys.executable
        return [python, "-m", "optima_slurm.job_main", str(job_file)]

    def render_script(self, job: ClusterJob, job_file: Path) -> str:
        """The batch script: sbatch options, environment setup, then the in-job launcher."""
        lines = ["#!/bin/bash"] + [f"#SBATCH {option}" for option in self.sbatch_options(job)]
        lines += ["", "set -e", f"cd {shlex.quote(os.getcwd())}"]
        if job.path_to_setup_file:
            lines.append(f"source {shlex.quote(job.path_to_setup_file)}")
        lines += [f"export {key}={value}" for key, value in RAY_NODE_ENV.items()]
        lines.append("export PYTHONUNBUFFERED=1")
        # exec: the launcher itself receives SLURM's SIGTERM (scancel, time limit) and stops the Ray nodes.
        job.command = job.command or self.launcher_command(job, job_file)
        lines.append(f"exec {shlex.join(job.command)}")
        return "\n".join(lines) + "\n"

    def submit(self, job: ClusterJob) -> str:
        self.check_job(job)
        logs = Path("logs")
        logs.mkdir(exist_ok=True)
        if job.log_path is None:
            job.log_path = str(logs / f"{job.name}.log")
        stem = f"{job.name}.{uuid.uuid4().hex[:8]}"
        job_file = (logs / f"{stem}.job.json").resolve()
        write_job_file(job_file, self, job)
        script = logs / f"{stem}.sbatch"
        script.write_text(self.render_script(job, job_file))
        output = _run(["sbatch", "--parsable", str(script)], f"submitting job '{job.name}'")
        job_id = output.strip().split(";")[0]
        if not job_id.isdigit():
            raise RuntimeError(f"sbatch answered {output.strip()!r}: expected a job id")
        return job_id

    def is_job_running(self, job_id: str) -> bool:
        result = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            # squeue fails for ids SLURM has forgotten; fail safe (keep the entry) if SLURM itself is unreachable.
            return "Invalid job id" not in result.stderr
        return any(state in _ACTIVE_STATES for state in result.stdout.split())

    # -- inside the job ---------------------------------------------------------------------------------------

    def job_id(self) -> str:
        job_id = os.environ.get("SLURM_JOB_ID")
        if not job_id:
            raise RuntimeError("SLURM_JOB_ID is not set: this is not running inside a SLURM job")
        return job_id

    def nodes(self) -> list[str]:
        nodelist = os.environ.get("SLURM_JOB_NODELIST", "")
        if not nodelist:
            raise RuntimeError("SLURM_JOB_NODELIST is not set: this is not running inside a SLURM job")
        return _run(["scontrol", "show", "hostnames", nodelist], "listing the job's nodes").split()

    def cpus_per_node(self) -> dict[str, int]:
        counts = parse_cpus_per_node(os.environ.get("SLURM_JOB_CPUS_PER_NODE", ""))
        nodes = self.nodes()
        if len(counts) != len(nodes):
            raise RuntimeError(f"SLURM_JOB_CPUS_PER_NODE gives {len(counts)} counts for {len(nodes)} nodes")
        return dict(zip(nodes, counts, strict=True))

    def node_ip(self, node: str) -> str:
        if node == os.environ.get("SLURMD_NODENAME"):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # no packet is sent
                try:
                    probe.connect(("192.0.2.1", 80))
                    return str(probe.getsockname()[0])
                except OSError:
                    return "127.0.0.1"
        return socket.gethostbyname(node)

    def port_ranges(self) -> dict[str, PortRange]:
        return dict(self.site.ports)

    def max_concurrent_jobs(self) -> int:
        return self.site.max_concurrent_jobs

    def _srun(self, node: str, cpus: int, gpus: int) -> list[str]:
        command = ["srun", "--nodes=1", "--ntasks=1", f"--nodelist={node}", "--overlap", f"--cpus-per-task={cpus}"]
        if gpus:
            command.append(f"--gres=gpu:{gpus}")
        if self.site.srun_overcommit:
            command.append("--overcommit")
        return command

    def ray_node_args(self, ports: dict[str, int], cpus: int, gpus: int, temp_dir: str, node: str) -> list[str]:
        """``ray start`` arguments shared by head and workers; port 0 means "Ray chooses"."""
        args = [
            "--block",
            "--disable-usage-stats",
            f"--num-cpus={cpus}",
            f"--num-gpus={gpus}",
            f"--temp-dir={temp_dir}",
        ]
        args.append("--resources=" + json.dumps({f"optima_node:{node}": 1}))
        for name in ("node_manager_port", "object_manager_port", "min_worker_port", "max_worker_port"):
            if ports.get(name):
                args.append(f"--{name.replace('_', '-')}={ports[name]}")
        return args

    def ray_executable(self) -> str:
        candidate = Path(sys.executable).parent / "ray"
        return str(candidate) if candidate.exists() else "ray"

    def start_ray_head(self, node: str, ports: dict[str, int], cpus: int, gpus: int, temp_dir: str) -> Any:
        command = [*self._srun(node, cpus, gpus), self.ray_executable(), "start", "--head", f"--port={ports['port']}"]
        command += ["--include-dashboard=false", *self.ray_node_args(ports, cpus, gpus, temp_dir, node)]
        if ports.get("ray_client_server_port"):
            command.append(f"--ray-client-server-port={ports['ray_client_server_port']}")
        return subprocess.Popen(command, env={**os.environ, **RAY_NODE_ENV})

    def start_ray_worker(
        self, node: str, head_address: str, ports: dict[str, int], cpus: int, gpus: int, temp_dir: str
    ) -> Any:
        command = [*self._srun(node, cpus, gpus), self.ray_executable(), "start", f"--address={head_address}"]
        command += self.ray_node_args(ports, cpus, gpus, temp_dir, node)
        return subprocess.Popen(command, env={**os.environ, **RAY_NODE_ENV})
