"""What every stage of a run shares: the run-config, plugins, resources, output folder and the inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.clusters.local import ResourcePlan
from optima_core.config.loader import RunConfig
from optima_core.training.job import RunReference

SPLITS = ("train", "val", "test")


def split_dicts(result: Any, crossvalidation: bool) -> list[dict[str, Any]]:
    """Turn ``get_experiment_inputs``' tuple (of datasets, or of per-fold lists) into one dict per fold."""
    if not isinstance(result, (tuple, list)) or len(result) not in (2, 3):
        raise TypeError(
            "get_experiment_inputs must return (train, val) or (train, val, test); "
            f"got {type(result).__name__} of length {len(result) if hasattr(result, '__len__') else '?'}"
        )
    from optima_core.inputs.store import as_event_data

    if not crossvalidation:
        return [{name: as_event_data(data) for name, data in zip(SPLITS, result, strict=False)}]
    folds = len(result[0])
    return [
        {name: as_event_data(result[i][fold]) for i, name in enumerate(SPLITS[: len(result)])} for fold in range(folds)
    ]


@dataclass
class RunContext:
    """Shared state of one ``optima run``."""

    run_config: RunConfig
    manager: Any
    plan: ResourcePlan
    output: Path
    reference: RunReference
    resume: bool = False
    input_handler: Any = None
    _inputs: dict[bool, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def hooks(self) -> Any:
        return self.manager.hooks

    def inputs(self, crossvalidation: bool) -> list[dict[str, Any]]:
        """The datasets (one dict per fold; a single dict without cross-validation), loaded once per kind."""
        if crossvalidation not in self._inputs:
            from optima_core.inputs.pipeline import using_hooks

            with using_hooks(self.hooks):
                result = self.hooks.get_experiment_inputs(
                    run_config=self.run_config,
                    input_handler=self.input_handler,
                    output_dir=str(self.output),
                    inputs_for_crossvalidation=crossvalidation,
                    disable_printing=False,
                )
            if result is None:
                raise RuntimeError("no get_experiment_inputs implementation returned data")
            self._inputs[crossvalidation] = split_dicts(result, crossvalidation)
        return self._inputs[crossvalidation]

    def fold_seeds(self, folds: int, *, reuse: bool = False, fixed: bool = False) -> list[int]:
        """Per-fold seeds: the run's seed for all (reuse), one new seed for all (fixed), or one new seed each."""
        import numpy as np

        base = int(self.run_config.random_seed)
        if reuse:
            return [base] * folds
        drawn = np.random.SeedSequence(base).generate_state(folds, dtype=np.uint32).tolist()
        return [int(drawn[0])] * folds if fixed else [int(s) for s in drawn]
