"""SLURM sites as data: one TOML (or JSON) file per site, validated into a :class:`Site`.

Built-in sites live in ``optima_slurm/sites/``. Users add sites without writing a class, either per run
(``optima run CONFIG --cluster slurm --cluster_config my_site.toml``) or permanently, by listing site files or
folders of them in ``OPTIMA_SLURM_SITES`` (``os.pathsep``-separated); each such site registers as a cluster named
after its ``name``. See the README for the fields.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.clusters.base import PORT_NAMES, PortRange
from optima_core.config.problems import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

SITES_ENV = "OPTIMA_SLURM_SITES"
BUILTIN_DIR = Path(__file__).parent / "sites"

#: Ray's default ports (the original's bases), used for ports a site file leaves out.
DEFAULT_PORTS = {
    "port": (6379, 1),
    "node_manager_port": (6700, 100),
    "object_manager_port": (6701, 100),
    "ray_client_server_port": (10001, 1000),
    "redis_shard_ports": (6702, 100),
    "min_worker_port": (10002, 1000),
    "max_worker_port": (10999, 1000),
}


@dataclass(frozen=True)
class Site:
    """Everything that distinguishes one SLURM site from another."""

    name: str
    cpus_per_node: int
    mem_per_cpu: float | None = None
    partition: str | None = None
    account: str | None = None
    threads_per_core: int = 1
    gpus_per_node: int = 0
    ray_temp_dir: str = "/tmp/ray"
    registry_file: str = "~/.optima/running_ray_jobs.json"
    srun_overcommit: bool = False
    max_concurrent_jobs: int = 10
    ports: dict[str, PortRange] = field(default_factory=dict)
    extra_sbatch: tuple[str, ...] = ()
    description: str = ""
    source: str = ""


_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "a name (letters, digits, '_' or '-')"),
    "description": (str, "text"),
    "partition": (str, "a partition name"),
    "account": (str, "an account name"),
    "cpus_per_node": (int, "an integer >= 1"),
    "threads_per_core": (int, "an integer >= 1"),
    "gpus_per_node": (int, "an integer >= 0"),
    "mem_per_cpu": ((int, float), "a positive number of MB"),
    "ray_temp_dir": (str, "an absolute path of at most ~30 characters"),
    "registry_file": (str, "a path on a file system all nodes share"),
    "srun_overcommit": (bool, "true or false"),
    "max_concurrent_jobs": (int, "an integer >= 1"),
    "extra_sbatch": (list, "a list of extra #SBATCH options"),
    "ports": (dict, "a table of [base, stride] pairs"),
}


def site_from_dict(values: dict[str, Any], source: str) -> Site:
    """Validate a site table; all problems at once, naming the field, its value and what was expected."""
    where = f"The SLURM site '{source}'"
    problems: list[str] = []
    for key in values:
        if key not in _FIELDS:
            problems.append(f"{key}: unknown field (known: {', '.join(sorted(_FIELDS))})")
    for key, (kind, expected) in _FIELDS.items():
        if key in values and (not isinstance(values[key], kind) or isinstance(values[key], bool) != (kind is bool)):
            problems.append(f"{key} = {values[key]!r}: expected {expected}")
    for key in ("name", "cpus_per_node"):
        if key not in values:
            problems.append(f"{key}: missing (expected {_FIELDS[key][1]})")
    for key, minimum in (
        ("cpus_per_node", 1),
        ("threads_per_core", 1),
        ("gpus_per_node", 0),
        ("max_concurrent_jobs", 1),
    ):
        if isinstance(values.get(key), int) and values[key] < minimum:
            problems.append(f"{key} = {values[key]!r}: expected {_FIELDS[key][1]}")
    temp_dir = values.get("ray_temp_dir")
    if isinstance(temp_dir, str) and (not temp_dir.startswith("/") or len(temp_dir) > 30):
        problems.append(f"ray_temp_dir = {temp_dir!r}: expected {_FIELDS['ray_temp_dir'][1]} (Ray's socket limit)")
    ports: dict[str, PortRange] = {n: PortRange(*DEFAULT_PORTS[n]) for n in PORT_NAMES}
    for name, pair in (values.get("ports") or {}).items():
        if name not in PORT_NAMES:
            problems.append(f"ports.{name}: unknown port (known: {', '.join(PORT_NAMES)})")
        elif not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, int) and p >= 0 for p in pair)):
            problems.append(f"ports.{name} = {pair!r}: expected [base, stride] with integers >= 0")
        else:
            ports[name] = PortRange(pair[0], pair[1])
    if problems:
        raise ConfigError(where, problems)
    settings = {k: v for k, v in values.items() if k not in ("ports", "extra_sbatch")}
    return Site(**settings, ports=ports, extra_sbatch=tuple(values.get("extra_sbatch", ())), source=source)


def load_site(path: str | Path) -> Site:
    """Read one site file (``.toml`` or ``.json``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"The SLURM site file '{path}'", ["file not found"])
    try:
        text = path.read_text()
        values = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, OSError) as error:
        raise ConfigError(f"The SLURM site file '{path}'", [f"could not be read: {error}"]) from error
    if not isinstance(values, dict):
        raise ConfigError(f"The SLURM site file '{path}'", ["expected a table of settings"])
    return site_from_dict(values, str(path))


def _site_files(location: Path) -> list[Path]:
    if location.is_dir():
        return sorted(p for p in location.iterdir() if p.suffix in (".toml", ".json"))
    return [location]


def builtin_site_files() -> list[Path]:
    """The site files shipped with optima-slurm."""
    return _site_files(BUILTIN_DIR)


def user_site_files() -> list[Path]:
    """The site files named (directly or by folder) in ``OPTIMA_SLURM_SITES``."""
    files: list[Path] = []
    for entry in os.environ.get(SITES_ENV, "").split(os.pathsep):
        if entry.strip():
            files.extend(_site_files(Path(entry.strip()).expanduser()))
    return files
