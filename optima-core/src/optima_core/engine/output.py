"""The output folder of a run: its name, what is copied into it, and the guard against mixing runs.

The folder is ``output_path/<stages>_<output_name>`` (``<stages>`` names the steps performed, e.g.
``varOpt_main_PBT`` or ``fixedHPs``), or ``output_path/output_name`` with ``use_exact_name``. The run-config and
the resolved parameters are copied in. A folder that already holds results is only reused with ``--resume``, and
only by the same run-config (its SHA-256 is recorded): the original silently reused old results after the
config had changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optima_core import __version__
from optima_core.config.loader import RunConfig
from optima_core.config.problems import ConfigError

MANIFEST = "optima_run.json"


def stage_prefix(run_config: RunConfig) -> str:
    steps = [
        label
        for flag, label in (
            ("perform_variable_opt", "varOpt"),
            ("perform_main_hyperopt", "main"),
            ("perform_PBT_hyperopt", "PBT"),
        )
        if run_config.get(flag)
    ]
    return "_".join(steps) if steps else "fixedHPs"


def output_folder(run_config: RunConfig) -> Path:
    name = (
        run_config.output_name if run_config.use_exact_name else f"{stage_prefix(run_config)}_{run_config.output_name}"
    )
    return (Path(run_config.output_path) / name).resolve()


def config_fingerprint(run_config: RunConfig) -> str:
    digest = hashlib.sha256()
    for path in (run_config.path, run_config.defaults_path):
        if path is not None:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def jsonable(value: Any) -> Any:
    """``value`` with infinities as strings, keys as strings and unknown objects as their repr (for JSON)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def prepare_output_folder(run_config: RunConfig, *, resume: bool) -> Path:
    """Create (or, with ``resume``, reopen) the run's output folder; refuse to mix runs."""
    folder = output_folder(run_config)
    manifest = folder / MANIFEST
    fingerprint = config_fingerprint(run_config)
    if manifest.exists():
        recorded = json.loads(manifest.read_text())
        if not resume:
            raise ConfigError(
                f"The output folder '{folder}'",
                [
                    "already holds the results of a run; continue it with 'optima run CONFIG --resume', or set another "
                    "output_name / output_path"
                ],
            )
        if recorded.get("config_sha256") != fingerprint:
            raise ConfigError(
                f"The output folder '{folder}'",
                [
                    "was produced by a different run-config (its SHA-256 differs); --resume only continues the same "
                    "configuration. Use another output_name for the changed config."
                ],
            )
        return folder
    if resume:
        raise ConfigError(f"The output folder '{folder}'", ["does not exist: there is nothing to resume"])
    folder.mkdir(parents=True, exist_ok=True)
    if run_config.path is not None:
        shutil.copyfile(run_config.path, folder / "run_config.py")
    if run_config.defaults_path is not None:
        shutil.copyfile(run_config.defaults_path, folder / "defaults_config.py")
    (folder / "resolved_config.json").write_text(json.dumps(jsonable(run_config.as_dict()), indent=2))
    manifest.write_text(
        json.dumps(
            {
                "optima_version": __version__,
                "config_sha256": fingerprint,
                "config": str(run_config.path),
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
            indent=2,
        )
    )
    return folder
