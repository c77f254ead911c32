"""``--cluster custom --cluster_config FILE``: a cluster class defined in a Python file of the user's.

The file must define ``CustomCluster``, a subclass of :class:`optima_core.clusters.base.Cluster` (a SLURM site
usually subclasses ``optima_slurm.SLURMCluster``). It may define ``ClusterJob``, a subclass of
:class:`optima_core.clusters.base.ClusterJob`, when the job description needs more fields.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from optima_core.clusters.base import Cluster, ClusterJob
from optima_core.config.loader import load_module
from optima_core.config.problems import ConfigError


def load_custom_cluster_class(path: str | Path) -> type[Cluster]:
    """Execute ``path`` and return its ``CustomCluster`` class (with ``job_class`` set from ``ClusterJob``)."""
    role = "cluster config"
    module = load_module(Path(path), role)
    where = f"The cluster config '{path}'"
    cluster_class = getattr(module, "CustomCluster", None)
    if cluster_class is None:
        raise ConfigError(where, ["defines no class CustomCluster (expected a subclass of optima_core Cluster)"])
    if not inspect.isclass(cluster_class) or not issubclass(cluster_class, Cluster):
        raise ConfigError(
            where,
            [
                f"CustomCluster is {cluster_class!r}: expected a subclass of optima_core.clusters.base.Cluster "
                "(e.g. of optima_slurm.SLURMCluster)"
            ],
        )
    if inspect.isabstract(cluster_class):
        missing = ", ".join(sorted(getattr(cluster_class, "__abstractmethods__", ())))
        raise ConfigError(where, [f"CustomCluster does not implement: {missing}"])
    job_class = getattr(module, "ClusterJob", None)
    if job_class is not None and job_class is not ClusterJob:
        if not inspect.isclass(job_class) or not issubclass(job_class, ClusterJob):
            raise ConfigError(
                where, [f"ClusterJob is {job_class!r}: expected a subclass of optima_core.clusters.base.ClusterJob"]
            )
        cluster_class.job_class = job_class
    return cluster_class


def custom_cluster(cluster_config: str | Path | None = None) -> Cluster:
    """The factory ``--cluster custom`` resolves to: an instance of the file's ``CustomCluster``."""
    if cluster_config is None:
        raise ConfigError("--cluster custom", ["needs --cluster_config FILE (a file defining CustomCluster)"])
    return load_custom_cluster_class(cluster_config)()
