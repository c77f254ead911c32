"""What one training needs, and how a Ray worker rebuilds the run-config and plugins it runs with.

Run-configs are user code (functions, classes, metric objects), which do not always pickle. Workers therefore
receive a small, picklable :class:`RunReference` and load the run-config and the plugin manager themselves, once
per worker process (actors are reused between trials).

A worker runs exactly what the run started with, never the live file: the reference carries the text of the
run-config (and defaults file) as the driver executed it, and the driver's plain values (numbers, strings,
containers of them), which replace those the text defines; so a value changed from Python (``run_config.max_epochs
= 3``, or ``run_config.search_space["units"] = 16``) reaches the trials too. Other values (metric objects, functions)
come from executing the text, unless they were set from Python: then they travel as they are, and must pickle.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.config.loader import SET_IN_PYTHON, RunConfig
from optima_core.plugins.hooks import Hooks
from optima_core.training.metrics import MetricPlan
from optima_core.training.monitor import MonitorSettings

_PLAIN = (str, int, float, bool, bytes, type(None))


def _is_plain(value: Any) -> bool:
    """Whether ``value`` is data that pickles anywhere: scalars and lists, tuples, sets and dicts of them."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_plain(v) for v in value)
    return False


@dataclass(frozen=True)
class RunReference:
    """Enough to rebuild, in another process, the run-config and plugin manager as the run started them."""

    config_path: str
    config_text: str
    defaults_path: str | None = None
    defaults_text: str | None = None
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, run_config: RunConfig) -> RunReference:
        """The reference of a run-config: its texts, and its values as they are now (see the module).

        A run-config built in Python (no file) travels as its plain values only.
        """
        values = {
            name: value
            for name, value in run_config.as_dict().items()
            if _is_plain(value) or run_config.sources.get(name) == SET_IN_PYTHON
        }
        return cls(
            config_path=str(run_config.path.resolve()) if run_config.path else "",
            config_text=run_config.text or "",
            defaults_path=str(run_config.defaults_path.resolve()) if run_config.defaults_path else None,
            defaults_text=run_config.defaults_text,
            values=tuple(values.items()),
        )


@functools.lru_cache(maxsize=4)
def _load(
    config_path: str, config_text: str, defaults_path: str | None, defaults_text: str | None
) -> tuple[RunConfig, Any]:
    from optima_core.config.loader import load_run_config
    from optima_core.inputs.memory import collections_paused
    from optima_core.plugins.manager import create_plugin_manager
    from optima_core.training.worker_setup import freeze_once, import_backend_framework

    with collections_paused():
        run_config = load_run_config(config_path, defaults_path, text=config_text, defaults_text=defaults_text)
        manager = create_plugin_manager(run_config_module=run_config.module)
        import_backend_framework(manager, run_config.model_type)
    freeze_once()
    return run_config, manager


def load_reference(reference: RunReference) -> tuple[RunConfig, Any]:
    """The run-config (with the driver's values applied) and plugin manager of ``reference``; cached per process.

    The first load in a process also imports the backend's framework and keeps the objects of these imports out of
    later garbage collections (:mod:`optima_core.training.worker_setup`).
    """
    run_config, manager = _load(
        reference.config_path, reference.config_text, reference.defaults_path, reference.defaults_text
    )
    if reference.values:  # a copy: the cached run-config is shared by every trial of this worker
        run_config = run_config.with_overrides(dict(reference.values))
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
