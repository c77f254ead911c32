"""``OPTIMA.hardware_configs.helpers``: the original's cluster look-up helpers, replaced by ``--cluster NAME``."""

from OPTIMA._compat import export

REPLACED = {
    "get_cluster": "clusters are chosen by name with optima run --cluster NAME (optima plugins lists them)",
    "get_suitable_job": "a cluster's job class is its job_class attribute (a cluster config may define ClusterJob)",
}

__getattr__, __dir__ = export(__name__, globals(), {}, REPLACED)
