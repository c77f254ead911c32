"""The one interface of every ``--cluster`` choice: this machine (``local``) and every batch cluster alike.

``optima run`` loads and checks the run-config, asks the registry for the cluster ``--cluster`` names
(:func:`select_cluster`), and hands the run to :meth:`RunTarget.launch`. What "launch" means is the cluster's
business: :class:`~optima_core.clusters.local.LocalCluster` runs the optimization in this process; a batch
:class:`~optima_core.clusters.base.Cluster` describes it as a job and submits it. The CLI never asks which kind it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optima_core.errors import PluginError

if TYPE_CHECKING:
    from optima_core.config.loader import RunConfig
    from optima_core.plugins.manager import OptimaPluginManager


@dataclass(frozen=True)
class RunRequest:
    """One ``optima run`` as a cluster receives it.

    ``run_config`` is loaded and checked, ``manager`` is its plugin manager, ``config_path`` the run-config file as
    given on the command line, ``arguments`` the ``optima run`` options by their underscore names
    (``cpus_per_trial``), and ``report`` prints one progress line for the user.
    """

    run_config: RunConfig
    manager: OptimaPluginManager
    config_path: Path
    arguments: Mapping[str, Any]
    report: Callable[[str], None] = print


class RunTarget(ABC):
    """Where ``optima run`` runs an optimization; ``name`` is the name ``--cluster`` selects."""

    name: str = "target"

    @abstractmethod
    def launch(self, request: RunRequest) -> None:
        """Run the optimization ``request`` describes, here or by handing it to a batch system."""


def select_cluster(manager: OptimaPluginManager, name: str, cluster_config: str | None = None) -> RunTarget:
    """The cluster registered as ``name``, built by its factory (given ``cluster_config`` when it is set)."""
    descriptor = manager.descriptor("cluster", name)
    factory = descriptor.load()
    cluster = factory(cluster_config=cluster_config) if cluster_config else factory()
    if not isinstance(cluster, RunTarget):
        raise PluginError(
            f"the cluster '{name}' registered by {descriptor.provider} is {cluster!r}: expected an instance of "
            "optima_core.clusters.target.RunTarget (e.g. a subclass of optima_core.clusters.base.Cluster)"
        )
    return cluster
