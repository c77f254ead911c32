"""``--cluster local``: run on this machine; what Ray is given and how many trials run at once.

The original reserved at least two CPUs for Ray Data tasks and refused machines with fewer than three CPUs.
OPTIMA keeps datasets as plain arrays in Ray's object store, so no CPUs need reserving: a 2-core laptop runs two
trials at once. ``frac_cpus_reserved`` is still accepted (reserving ``ceil(frac * cpus)`` CPUs) for run scripts
written for the original.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from optima_core.clusters.target import RunRequest, RunTarget
from optima_core.config.problems import ConfigError, Problem

#: Ray puts Unix sockets under its temp dir; their paths must stay below 107 bytes.
MAX_TEMP_DIR_LENGTH = 45


def available_cpus() -> int:
    """CPUs this process may use (respects affinity masks, e.g. inside a SLURM step)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ResourceRequest:
    """The resource arguments of ``optima run``."""

    cpus: int | None = None
    gpus: int = 0
    mem_per_cpu: float | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    frac_cpus_reserved: float = 0.0
    max_pending_trials: int | None = None
    temp_dir: str | None = None


@dataclass(frozen=True)
class ResourcePlan:
    """What Ray is started with, and the resulting concurrency."""

    cpus: int
    gpus: int
    memory_mb: float | None
    cpus_reserved: int
    cpus_per_trial: float
    gpus_per_trial: float
    concurrent_trials: int
    max_pending_trials: int
    temp_dir: str | None

    def describe(self) -> str:
        memory = f"{self.memory_mb:.0f} MB" if self.memory_mb else "Ray's default"
        return (
            f"{self.cpus} CPU(s), {self.gpus} GPU(s), memory {memory}; {self.cpus_per_trial:g} CPU(s) and "
            f"{self.gpus_per_trial:g} GPU(s) per trial -> up to {self.concurrent_trials} trial(s) at once"
        )


class LocalCluster(RunTarget):
    """Runs the optimization on this machine with a Ray instance that ``optima run`` starts and stops."""

    name = "local"

    def __init__(self, cluster_config: str | None = None) -> None:
        if cluster_config is not None:
            raise ConfigError(
                "The command line",
                [Problem("--cluster_config", cluster_config, "no cluster config with --cluster local")],
            )

    def launch(self, request: RunRequest) -> None:
        """Plan the resources of this machine and run the optimization in this process."""
        from optima_core.engine.orchestrator import RunOptions, run

        arguments = request.arguments
        plan = self.plan(
            ResourceRequest(
                cpus=arguments["cpus"],
                gpus=arguments["gpus"],
                mem_per_cpu=arguments["mem_per_cpu"],
                cpus_per_trial=arguments["cpus_per_trial"],
                gpus_per_trial=arguments["gpus_per_trial"],
                frac_cpus_reserved=arguments["frac_cpus_reserved"],
                max_pending_trials=arguments["max_pending_trials"],
                temp_dir=arguments["temp_dir"],
            )
        )
        request.report(f"run-config {request.config_path} is valid; resources: {plan.describe()}")
        run(
            request.run_config,
            request.manager,
            plan,
            RunOptions(resume=arguments["resume"], address=arguments["address"]),
        )

    def plan(self, request: ResourceRequest) -> ResourcePlan:
        """Check the request against this machine and derive the concurrency; all problems at once."""
        problems: list[Problem] = []
        machine_cpus = available_cpus()
        cpus = request.cpus if request.cpus is not None else machine_cpus
        if cpus < 1:
            problems.append(Problem("--cpus", cpus, "at least 1"))
        elif cpus > machine_cpus:
            problems.append(Problem("--cpus", cpus, f"at most the {machine_cpus} CPU(s) this machine offers"))
        if request.gpus < 0:
            problems.append(Problem("--gpus", request.gpus, "0 or more"))
        if request.cpus_per_trial <= 0:
            problems.append(Problem("--cpus_per_trial", request.cpus_per_trial, "a positive number"))
        if request.gpus_per_trial < 0 or request.gpus_per_trial > max(request.gpus, 0):
            problems.append(Problem("--gpus_per_trial", request.gpus_per_trial, f"between 0 and --gpus={request.gpus}"))
        if not 0 <= request.frac_cpus_reserved < 1:
            problems.append(Problem("--frac_cpus_reserved", request.frac_cpus_reserved, "a fraction in [0, 1)"))
        if request.mem_per_cpu is not None and request.mem_per_cpu <= 0:
            problems.append(Problem("--mem_per_cpu", request.mem_per_cpu, "a positive number of MB"))
        if request.max_pending_trials is not None and request.max_pending_trials < 1:
            problems.append(Problem("--max_pending_trials", request.max_pending_trials, "at least 1"))
        if request.temp_dir is not None:
            if not Path(request.temp_dir).is_absolute():
                problems.append(Problem("--temp_dir", request.temp_dir, "an absolute path"))
            elif len(request.temp_dir) > MAX_TEMP_DIR_LENGTH:
                problems.append(
                    Problem(
                        "--temp_dir",
                        request.temp_dir,
                        f"a path of at most {MAX_TEMP_DIR_LENGTH} characters "
                        "(Ray's socket paths under it are limited to 107 bytes)",
                    )
                )
        usable = cpus - reserved_cpus(cpus, request.frac_cpus_reserved) if cpus >= 1 else 0
        if not problems and request.cpus_per_trial > usable:
            problems.append(
                Problem("--cpus_per_trial", request.cpus_per_trial, f"at most the {usable} CPU(s) left for trials")
            )
        if problems:
            raise ConfigError("The command line", problems)
        return derive_plan(
            cpus,
            request.gpus,
            request,
            memory_mb=request.mem_per_cpu * cpus if request.mem_per_cpu else None,
            temp_dir=request.temp_dir,
        )


def reserved_cpus(cpus: int, frac_cpus_reserved: float) -> int:
    """CPUs kept free of trials: ``ceil(frac_cpus_reserved * cpus)``."""
    return math.ceil(frac_cpus_reserved * cpus)


def derive_plan(
    cpus: int, gpus: int, request: ResourceRequest, *, memory_mb: float | None = None, temp_dir: str | None = None
) -> ResourcePlan:
    """The concurrency ``request``'s per-trial resources allow on ``cpus`` / ``gpus`` (at least one trial)."""
    reserved = reserved_cpus(cpus, request.frac_cpus_reserved)
    concurrent = int((cpus - reserved) // request.cpus_per_trial)
    if request.gpus_per_trial > 0:
        concurrent = min(concurrent, int(gpus // request.gpus_per_trial))
    concurrent = max(concurrent, 1)
    return ResourcePlan(
        cpus=cpus,
        gpus=gpus,
        memory_mb=memory_mb,
        cpus_reserved=reserved,
        cpus_per_trial=request.cpus_per_trial,
        gpus_per_trial=request.gpus_per_trial,
        concurrent_trials=concurrent,
        max_pending_trials=request.max_pending_trials or concurrent,
        temp_dir=temp_dir,
    )
