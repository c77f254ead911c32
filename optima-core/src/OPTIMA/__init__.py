"""The original OPTIMA's import paths, for run-configs and cluster configs written for it.

``from OPTIMA.lightning.inputs import DefaultDataModule``, ``from OPTIMA.hardware_configs.common import
SLURMCluster`` and the other names the original documents resolve to this project's implementations. Each module
here is a table: a name is imported from the package that implements it only when it is first used, so importing
``OPTIMA`` (or any module of it) imports no framework. The Lightning, Keras and SLURM names need optima-lightning,
optima-keras and optima-slurm; without them the import fails with an ``ImportError`` naming the package to install.
A documented name this project does not provide raises an ``ImportError`` saying what replaces it.
"""

from optima_core import __version__

__all__ = ["__version__"]
