"""What a cluster provides to OPTIMA, and the description of one cluster job.

A batch cluster is a :class:`~optima_core.clusters.target.RunTarget` like ``local``, but it does not run the
optimization in the ``optima run`` process: its :meth:`Cluster.launch` builds a :class:`ClusterJob` from the command
line and hands it to :meth:`Cluster.submit`. Inside the job the cluster's launcher rebuilds this very cluster object
(:mod:`optima_core.clusters.handover`), so a subclass's overrides apply there too, and uses the remaining methods
(node list, node IP, ports, Ray start commands) to build a Ray cluster across the job's nodes, then runs the
optimization connected to it.

Ports: every Ray port has a *base* and a *stride* (:class:`PortRange`). Several jobs may run on one cluster at the
same time; each is given its own offset ``k`` and uses ``base + k * stride`` (:meth:`Cluster.ports_for_offset`), so
the Ray clusters of concurrent jobs never talk to each other. A base of 0 lets Ray choose a free port.
"""

from __future__ import annotations

import socket
from abc import abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from optima_core.clusters.target import RunRequest, RunTarget

#: The Ray ports a job needs, in the order of the original's site configurations.
PORT_NAMES = (
    "port",
    "node_manager_port",
    "object_manager_port",
    "ray_client_server_port",
    "redis_shard_ports",
    "min_worker_port",
    "max_worker_port",
)


@dataclass(frozen=True)
class PortRange:
    """One Ray port: job ``k`` uses ``base + k * stride``; ``base == 0`` means "Ray picks a free port"."""

    base: int
    stride: int

    def for_offset(self, offset: int) -> int:
        return 0 if self.base == 0 else self.base + offset * self.stride


@dataclass
class ClusterJob:
    """One optimization to run as a cluster job, built from the ``optima run`` command line.

    ``command`` is the command line (a list of arguments) the job runs inside its allocation; the cluster's
    :meth:`Cluster.submit` decides how to wrap it. ``run_arguments`` keeps the remaining ``optima run`` arguments so
    that the launcher inside the job can pass them on unchanged.
    """

    name: str = "DNN_optimization"
    workers: int | None = None
    cpus: int | None = None
    cpus_per_worker: int | None = None
    gpus_per_worker: int | None = None
    min_cpus_per_ray_node: int | None = None
    fixed_ray_node_size: bool = False
    mem_per_cpu: float | None = None
    runtime: float = 12.0
    exclude: str | None = None
    path_to_setup_file: str | None = None
    log_path: str | None = None
    command: list[str] = field(default_factory=list)
    run_arguments: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ClusterJob:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


class Cluster(RunTarget):
    """A batch system OPTIMA can submit an optimization to and build a Ray cluster in.

    Subclasses describe one kind of batch system (SLURM: ``optima_slurm.SLURMCluster``); sites of one kind differ
    only in data (partition, CPUs per node, ports...). ``name`` is the name ``--cluster`` selects.
    """

    name: str = "cluster"
    #: The job description class; a custom cluster file may provide its own ``ClusterJob`` subclass.
    job_class: type[ClusterJob] = ClusterJob

    # -- outside the job -------------------------------------------------------------------------------------

    def launch(self, request: RunRequest) -> None:
        """Describe the run as a job (:meth:`job_for`) and submit it; the job runs the optimization."""
        job = self.job_for(request)
        job_id = self.submit(job)
        request.report(f"submitted job {job_id} to cluster '{self.name}'; log: {job.log_path}")

    def job_for(self, request: RunRequest) -> ClusterJob:
        """The job of ``request``: its resources, and the ``optima run`` arguments the job passes on."""
        arguments = request.arguments
        run_arguments = {
            key: arguments[key]
            for key in ("cpus_per_trial", "gpus_per_trial", "frac_cpus_reserved", "max_pending_trials", "resume")
        }
        run_arguments["config"] = str(request.config_path.resolve())
        run_arguments["defaults"] = str(Path(arguments["defaults"]).resolve()) if arguments["defaults"] else None
        # The job runs the run-config as it was submitted, not the file as it is when the job starts.
        run_arguments["config_text"] = request.run_config.text
        run_arguments["defaults_text"] = request.run_config.defaults_text
        run_arguments["cluster"] = arguments["cluster"]
        run_arguments["cluster_config"] = (
            str(Path(arguments["cluster_config"]).resolve()) if arguments["cluster_config"] else None
        )
        setup_file = request.run_config.get("path_to_setup_file")
        return self.job_class(
            name=arguments["name"],
            workers=arguments["workers"],
            cpus=arguments["cpus"],
            cpus_per_worker=arguments["cpus_per_worker"],
            gpus_per_worker=arguments["gpus_per_worker"],
            min_cpus_per_ray_node=arguments["min_cpus_per_ray_node"],
            fixed_ray_node_size=arguments["fixed_ray_node_size"],
            mem_per_cpu=arguments["mem_per_cpu"],
            runtime=arguments["runtime"],
            exclude=arguments["exclude"],
            path_to_setup_file=str(Path(setup_file).resolve()) if setup_file else None,
            log_path=str(Path("logs") / f"{arguments['name']}.log"),
            run_arguments=run_arguments,
        )

    @abstractmethod
    def submit(self, job: ClusterJob) -> str:
        """Submit ``job`` and return its job id."""

    @abstractmethod
    def is_job_running(self, job_id: str) -> bool:
        """Whether the job ``job_id`` is still known to the batch system (pending or running)."""

    # -- inside the job ---------------------------------------------------------------------------------------

    @abstractmethod
    def job_id(self) -> str:
        """The id of the job this process runs in."""

    @abstractmethod
    def nodes(self) -> list[str]:
        """Host names of the current job's nodes; the first one hosts the Ray head."""

    @abstractmethod
    def cpus_per_node(self) -> dict[str, int]:
        """CPUs the current job holds on each of its nodes."""

    def node_ip(self, node: str) -> str:
        """The IP address other nodes reach ``node`` at."""
        return socket.gethostbyname(node)

    @abstractmethod
    def port_ranges(self) -> dict[str, PortRange]:
        """Base and stride of each Ray port (keys from :data:`PORT_NAMES`)."""

    def max_concurrent_jobs(self) -> int:
        """How many jobs may hold port offsets at once."""
        return 10

    def ports_for_offset(self, offset: int) -> dict[str, int]:
        """The concrete ports of the job with port offset ``offset``."""
        return {name: r.for_offset(offset) for name, r in self.port_ranges().items()}

    @abstractmethod
    def start_ray_head(self, node: str, ports: dict[str, int], cpus: int, gpus: int, temp_dir: str) -> Any:
        """Start the Ray head on ``node`` (non-blocking) and return a handle with ``poll()``/``terminate()``."""

    @abstractmethod
    def start_ray_worker(
        self, node: str, head_address: str, ports: dict[str, int], cpus: int, gpus: int, temp_dir: str
    ) -> Any:
        """Start a Ray worker on ``node`` joining ``head_address``; returns a handle like :meth:`start_ray_head`."""
