"""The original's SLURM cluster classes (``OPTIMA.hardware_configs.common`` / ``.TU_Dresden``, see :mod:`OPTIMA`).

A cluster config written for the original subclasses ``SLURMCluster`` and describes its site with class attributes;
:class:`SLURMCluster` here turns them into a :class:`~optima_slurm.sites.Site` when the class is instantiated (as
``--cluster custom`` does) and is otherwise :class:`optima_slurm.cluster.SLURMCluster`. Read are:

* ``cpus_per_node``, ``gpus_per_node``, ``mem_per_cpu`` (MB), ``threads_per_cpu_core``, ``ray_temp_path``;
* ``ray_headnodes_path``: the running-jobs registry (kept as JSON next to it: ``<stem>.json``);
* ``get_ports()``: ``{port name: (base, stride)}``;
* ``partition`` and ``account``, as class attributes or set on the job by an overridden ``submit_job(job,
  job_file_path, dry_run=False)`` before it calls ``super().submit_job(...)``, as the original's sites do;
* ``overcommit=True`` passed on by an overridden ``_execute_single_cmd``: the nodes' ``srun`` overcommits.

``_write_job_config`` is not used: the batch script is :meth:`optima_slurm.cluster.SLURMCluster.render_script`.
``Romeo``, ``Barnard``, ``Capella`` and ``CapellaSharded`` start from the built-in site files of the same sites.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from optima_core.clusters.base import ClusterJob
from optima_core.errors import OptimaUserError
from optima_slurm import cluster as slurm
from optima_slurm.sites import BUILTIN_DIR, Site, site_from_dict

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

#: The original's class attribute -> the site field it sets.
SITE_FIELDS = {
    "gpus_per_node": "gpus_per_node",
    "mem_per_cpu": "mem_per_cpu",
    "threads_per_cpu_core": "threads_per_core",
    "ray_temp_path": "ray_temp_dir",
    "partition": "partition",
    "account": "account",
}


@dataclasses.dataclass
class SLURMClusterJob(ClusterJob):
    """A job with the SLURM settings the original's ``submit_job`` overrides set."""

    partition: str | None = None
    account: str | None = None
    use_SMT: bool | None = None  # noqa: N815 - the original's attribute name


class SLURMCluster(slurm.SLURMCluster):
    """A SLURM site given by the original's class attributes (see the module docstring)."""

    type = "SLURM"
    #: A built-in site file (``optima_slurm/sites/<site_name>.toml``) to start from; the attributes override it.
    site_name: str | None = None
    #: The original's ``cpus_per_node`` (moved here: ``cpus_per_node()`` is a method of the cluster interface).
    node_cpus: int | None = None
    gpus_per_node: int | None = None
    mem_per_cpu: float | None = None
    threads_per_cpu_core: int | None = None
    SMT_included_in_reservation = False
    ray_headnodes_path: str | None = None
    ray_temp_path: str | None = None
    partition: str | None = None
    account: str | None = None
    job_class = SLURMClusterJob

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        value = cls.__dict__.get("cpus_per_node")
        if value is not None and not callable(value):
            cls.node_cpus = value
            delattr(cls, "cpus_per_node")  # the method of the cluster interface is visible again

    def __init__(self) -> None:
        super().__init__(self._site())

    def get_ports(self) -> dict[str, tuple[int, int]] | None:
        """``{port name: (base, stride)}``; ``None`` keeps the site's (or Ray's default) ports."""
        return None

    def _execute_single_cmd(self, cmd: str, cpus: int | None = None, node: str | None = None, **options: Any) -> str:
        """Not run here: an override's ``super()`` call tells :meth:`_site` whether ``srun`` overcommits."""
        self._probed_overcommit = bool(options.get("overcommit", False))
        return ""

    def _site(self) -> Site:
        cls = type(self)
        values: dict[str, Any] = {}
        if self.site_name:
            values = tomllib.loads((BUILTIN_DIR / f"{self.site_name}.toml").read_text())
        values["name"] = self.site_name or cls.__name__
        values.setdefault("description", f"cluster class {cls.__qualname__}")
        if self.node_cpus is not None:
            values["cpus_per_node"] = self.node_cpus
        for attribute, site_field in SITE_FIELDS.items():
            value = getattr(self, attribute)
            if value is not None:
                values[site_field] = value
        if self.ray_headnodes_path:
            values["registry_file"] = str(Path(self.ray_headnodes_path).with_suffix(".json"))
        ports = self.get_ports()
        if ports is not None:
            values["ports"] = {name: list(pair) for name, pair in ports.items()}
        if cls._execute_single_cmd is not SLURMCluster._execute_single_cmd:
            self._execute_single_cmd("true", cpus=1, node=None)
            values["srun_overcommit"] = bool(self.__dict__.pop("_probed_overcommit", False))
        return site_from_dict(values, f"{cls.__module__}.{cls.__qualname__}")

    # -- submission: the original's submit_job(job, job_file_path, dry_run) may set the job's partition/account --

    def submit(self, job: ClusterJob) -> str:
        self._submitted: str | None = None
        self.submit_job(job, "", False)
        submitted = self.__dict__.pop("_submitted", None)
        if submitted is None:
            raise OptimaUserError(
                f"{type(self).__qualname__}.submit_job did not submit the job: expected it to end with "
                "super().submit_job(job, job_file_path, dry_run)"
            )
        return str(submitted)

    def submit_job(self, job: ClusterJob, job_file_path: str, dry_run: bool = False) -> None:
        """Submit ``job`` with the partition and account set on it (or the site's); ``job_file_path`` is unused."""
        partition = getattr(job, "partition", None) or self.site.partition
        account = getattr(job, "account", None) or self.site.account
        self.site = dataclasses.replace(self.site, partition=partition, account=account)
        self._submitted = "dry-run" if dry_run else slurm.SLURMCluster.submit(self, job)


class Romeo(SLURMCluster):
    site_name = "romeo"


class Barnard(SLURMCluster):
    site_name = "barnard"


class Capella(SLURMCluster):
    site_name = "capella"


class CapellaSharded(SLURMCluster):
    site_name = "capella_mig"
