"""OPTIMA on SLURM: submit an optimization as a batch job that builds its own Ray cluster across the job's nodes."""

from optima_slurm.cluster import SLURMCluster
from optima_slurm.sites import Site, load_site

__all__ = ["SLURMCluster", "Site", "load_site"]
