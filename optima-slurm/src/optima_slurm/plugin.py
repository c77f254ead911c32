"""OPTIMA slurm plugin: registers the built-in SLURM sites, the user's sites and the generic ``slurm`` cluster.

* ``romeo``, ``barnard``, ``capella``, ``capella_mig``: the site files in ``optima_slurm/sites/``;
* every site file named in ``OPTIMA_SLURM_SITES`` (files or folders), by its ``name``;
* ``slurm``: any site, given as ``--cluster_config SITE_FILE``.
"""

from __future__ import annotations

from pathlib import Path

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import ClusterDescriptor


class SiteCluster:
    """Factory for the cluster of one site file (loaded only when selected)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __call__(self, cluster_config: str | None = None) -> object:
        from optima_core.config.problems import ConfigError
        from optima_slurm.cluster import SLURMCluster
        from optima_slurm.sites import load_site

        path = cluster_config if self.path is None else self.path
        if path is None:
            raise ConfigError("--cluster slurm", ["needs --cluster_config SITE_FILE (a TOML or JSON site file)"])
        return SLURMCluster(load_site(path))


@hookimpl
def optima_register_clusters() -> list[ClusterDescriptor]:
    from optima_slurm.sites import builtin_site_files, user_site_files

    descriptors = [ClusterDescriptor("slurm", SiteCluster(None), "Any SLURM site: --cluster_config SITE_FILE.")]
    for path in builtin_site_files() + user_site_files():
        name = _site_name(path)
        descriptors.append(ClusterDescriptor(name, SiteCluster(path), f"SLURM site from {path}"))
    return descriptors


def _site_name(path: Path) -> str:
    """The ``name`` of a site file without validating all of it (that happens when it is selected)."""
    from optima_core.config.problems import ConfigError
    from optima_slurm.sites import load_site

    try:
        return load_site(path).name
    except (ConfigError, OSError, ValueError):
        return path.stem
