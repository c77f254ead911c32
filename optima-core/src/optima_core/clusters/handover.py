"""Hand a batch cluster and its job to the job itself: the job file names both classes and carries their state.

A batch cluster's ``submit`` writes a job file (:func:`write_job_file`); the launcher inside the job reads it back
(:func:`read_job_file`) and gets the very cluster object that submitted the job, of the same class, so a user's
subclass (of ``SLURMCluster``, a ``CustomCluster``) runs its overrides inside the job too, and the job description
keeps the fields of a custom ``ClusterJob``.

The job file is JSON. Each class is named ``"module:qualname"``. A class the job can import by that name is
imported; a class defined in a file OPTIMA executed (a ``--cluster_config`` file, a run-config) is loaded from a
copy of that file taken at submission (``"source"``), so editing the file afterwards does not change a waiting job.
The cluster's attributes travel pickled (``"state"``); the job's values as JSON.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import pickle
import shutil
import sys
import types
from pathlib import Path
from typing import Any

from optima_core.clusters.base import Cluster, ClusterJob
from optima_core.config.problems import ConfigError, Problem


def write_job_file(path: Path, cluster: Cluster, job: ClusterJob) -> None:
    """Write the job file of ``job`` submitted by ``cluster`` to ``path``, with snapshots of file-defined classes."""
    snapshots: dict[str, Path] = {}
    problems: list[Problem] = []
    for attribute, value in vars(cluster).items():
        try:
            pickle.dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            problems.append(Problem(f"attribute {attribute}", value, f"a value the job can receive (pickle: {error})"))
    if problems:
        raise ConfigError(f"The cluster '{cluster.name}' ({_name(type(cluster))})", problems)
    state = base64.b64encode(pickle.dumps(vars(cluster))).decode("ascii")
    spec = {
        "cluster": {**_reference(type(cluster), path, snapshots), "state": state},
        "job": {**_reference(type(job), path, snapshots), "values": job.as_dict()},
    }
    path.write_text(json.dumps(spec, indent=2))


def read_job_file(path: str | Path) -> tuple[Cluster, ClusterJob]:
    """The cluster and job a job file describes, rebuilt from their classes (inside the job)."""
    spec = json.loads(Path(path).read_text())
    loaded: dict[str, types.ModuleType] = {}
    cluster_class = _resolve(spec["cluster"], loaded, Cluster)
    state = _Unpickler(base64.b64decode(spec["cluster"]["state"]), loaded).load()
    cluster: Cluster = object.__new__(cluster_class)  # as pickle does: the state replaces __init__
    cluster.__dict__.update(state)
    job_class = _resolve(spec["job"], loaded, ClusterJob)
    if job_class is not cluster_class.job_class and issubclass(job_class, cluster_class.job_class):
        cluster_class.job_class = job_class  # as the submission set it (a cluster-config file's own ClusterJob)
    return cluster, job_class.from_dict(spec["job"]["values"])


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _defined_in_executed_file(module: types.ModuleType) -> bool:
    """Whether ``module`` was executed from a file under a made-up name (run-config, cluster config), not imported.

    An imported module's name ends with its file's stem (``pkg.cluster`` from ``pkg/cluster.py``, ``pkg`` from
    ``pkg/__init__.py``); OPTIMA executes config files as ``optima_run_config_<n>`` or similar, whatever the file.
    """
    file = getattr(module, "__file__", None)
    if not file:
        return False
    stem, parent = Path(file).stem, Path(file).parent.name
    last = module.__name__.rpartition(".")[2]
    return not (stem == last or (stem == "__init__" and parent == last))


def _reference(cls: type, job_file: Path, snapshots: dict[str, Path]) -> dict[str, Any]:
    """``{"class": "module:qualname", "source": snapshot or None}``; copies a file-defined class's file once."""
    module = sys.modules[cls.__module__]
    if not _defined_in_executed_file(module):
        return {"class": _name(cls), "source": None}
    if cls.__module__ not in snapshots:
        snapshot = job_file.with_name(f"{job_file.name.removesuffix('.json')}.{len(snapshots)}.py").resolve()
        shutil.copyfile(str(module.__file__), snapshot)
        snapshots[cls.__module__] = snapshot
    return {"class": _name(cls), "source": str(snapshots[cls.__module__])}


def _attribute(module: types.ModuleType, qualname: str) -> Any:
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _resolve(entry: dict[str, Any], loaded: dict[str, types.ModuleType], base: type) -> type[Any]:
    """The subclass of ``base`` ``entry`` names: imported by module name, or from its (once loaded) snapshot."""
    from optima_core.config.loader import load_module

    module_name, _, qualname = entry["class"].partition(":")
    if entry["source"] is None:
        module = importlib.import_module(module_name)
    else:
        if module_name not in loaded:
            loaded[module_name] = load_module(entry["source"], "cluster config")
        module = loaded[module_name]
    found = _attribute(module, qualname)
    if not (isinstance(found, type) and issubclass(found, base)):
        raise TypeError(f"{entry['class']} in the job file is {found!r}: expected a subclass of {_name(base)}")
    return found


class _Unpickler(pickle.Unpickler):
    """Finds classes of file-defined modules (submitted under a name that does not exist here) in their snapshot."""

    def __init__(self, data: bytes, loaded: dict[str, types.ModuleType]) -> None:
        super().__init__(io.BytesIO(data))
        self.loaded = loaded

    def find_class(self, module: str, name: str) -> Any:
        if module in self.loaded:
            return _attribute(self.loaded[module], name)
        return super().find_class(module, name)
