"""``OPTIMA.hardware_configs.common``: the cluster base classes a cluster config file subclasses.

* ``Cluster`` -- the abstract base of every batch cluster: :class:`optima_core.clusters.base.Cluster`.
* ``ClusterJob`` -- the job description (a dataclass; a cluster config may subclass it to add fields):
  :class:`optima_core.clusters.base.ClusterJob`.
* ``SLURMCluster`` -- a SLURM site described by the original's class attributes (``cpus_per_node``,
  ``gpus_per_node``, ``mem_per_cpu``, ``threads_per_cpu_core``, ``ray_headnodes_path``, ``ray_temp_path``,
  ``get_ports()``, ``submit_job`` setting ``job.partition``/``job.account``): :class:`optima_slurm.compat.SLURMCluster`,
  a subclass of :class:`optima_slurm.cluster.SLURMCluster`.
* ``SLURMClusterJob`` -- a ``ClusterJob`` with ``partition``, ``account`` and ``use_SMT``.
"""

from OPTIMA._compat import export

PROVIDED = {
    "Cluster": "optima_core.clusters.base:Cluster",
    "ClusterJob": "optima_core.clusters.base:ClusterJob",
    "SLURMCluster": "optima_slurm.compat:SLURMCluster",
    "SLURMClusterJob": "optima_slurm.compat:SLURMClusterJob",
}

__all__ = sorted(PROVIDED)
__getattr__, __dir__ = export(__name__, globals(), PROVIDED, {})
