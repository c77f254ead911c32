"""``OPTIMA.hardware_configs.TU_Dresden``: the TU Dresden sites as subclassable ``SLURMCluster`` classes.

``Romeo``, ``Barnard``, ``Capella`` and ``CapellaSharded`` read optima-slurm's built-in site files (``romeo``,
``barnard``, ``capella``, ``capella_mig``); to run on one of them as it is, use ``--cluster barnard`` etc.
"""

from OPTIMA._compat import export

PROVIDED = {
    "Romeo": "optima_slurm.compat:Romeo",
    "Barnard": "optima_slurm.compat:Barnard",
    "Capella": "optima_slurm.compat:Capella",
    "CapellaSharded": "optima_slurm.compat:CapellaSharded",
}

__all__ = sorted(PROVIDED)
__getattr__, __dir__ = export(__name__, globals(), PROVIDED, {})
