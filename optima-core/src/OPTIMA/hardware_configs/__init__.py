"""``OPTIMA.hardware_configs``: cluster classes for ``--cluster custom --cluster_config FILE`` files.

The built-in sites (``--cluster romeo``, ``barnard``, ``capella``, ``capella_mig``) are site files of
optima-slurm; see :mod:`OPTIMA.hardware_configs.common` for the classes a cluster config subclasses.
"""
