"""What one training needs, and how a Ray worker rebuilds the run-config and plugins it runs with.

Run-configs are user code (functions, classes, metric objects), which do not always pickle. Workers therefore
receive a small, picklable :class:`RunReference` (the files and a few overrides) and load the run-config and the
plugin manager themselves, once per worker process (actors are reused between trials).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.config.loader import RunConfig
from optima_core.plugins.hooks import Hooks
from optima_core.training.metrics import MetricPlan
from optima_core.training.monitor import MonitorSettings


@dataclass(frozen=True)
class RunReference:
    """Enough to rebuild the run-config and the plugin manager in another process."""

    config_path: str
    defaults_path: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    working_directory: str = field(default_factory=os.getcwd)


@functools.lru_cache(maxsize=4)
def _load(config_path: str, defaults_path: str | None, mtime: float) -> tuple[RunConfig, Any]:
    from optima_core.config.loader import load_run_config
    from optima_core.plugins.manager import create_plugin_manager

    run_config = load_run_config(config_path, defaults_path)
    manager = create_plugin_manager(run_config_module=run_config.module)
    return run_config, manager


def load_reference(reference: RunReference) -> tuple[RunConfig, Any]:
    """The run-config (with overrides applied) and plugin manager of ``reference``; cached per process."""
    path = Path(reference.config_path)
    if not path.is_absolute():
        path = Path(reference.working_directory) / path
    defaults = reference.defaults_path
    if defaults and not Path(defaults).is_absolute():
        defaults = str(Path(reference.working_directory) / defaults)
    run_config, manager = _load(str(path), defaults, path.stat().st_mtime)
    if reference.overrides:  # a copy: the cached run-config is shared by every trial of this worker
        run_config = run_config.with_overrides(dict(reference.overrides))
    return run_config, manager


@dataclass
class TrainingJob:
    """One model to train: its hyperparameters, data, plugins and the epoch rules."""

    run_config: RunConfig
    model_config: dict[str, Any]
    input_handler: Any
    data: Mapping[str, Any]  # 'train', 'val' and optionally 'test' -> EventData-like column mappings
    hooks: Hooks
    metrics: MetricPlan
    monitor: MonitorSettings
    seed: int
    max_epochs: int
    checkpoint_frequency: int = 1
    checkpoint_offset: int = 0
    #: Checkpoints that only serve resuming are written at most this often (seconds); PBT's are always written.
    min_checkpoint_interval_s: float = 0.0
    workdir: Path = field(default_factory=Path.cwd)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.model_config["batch_size"])
