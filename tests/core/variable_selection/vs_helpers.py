"""A dataset with known truth, its run-configs, and the RunContext a selection test runs in."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

INFORMATIVE = ["a_shift", "b_shift", "c_width", "d_shift", "e_ratio"]
NOISE = ["noise1", "noise2", "noise3", "noise4", "noise5"]
VARIABLES = INFORMATIVE + NOISE


def write_dataset(path: Path, n_per_class: int = 3000, seed: int = 7) -> Path:
    """Signal/background with 5 informative variables and 5 pure-noise ones, as Parquet.

    ``c_width`` has the same mean for both classes and a class-dependent width: only a non-linear function of it
    separates them. The noise variables have identical distributions for both classes.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    frames = []
    for signal in (True, False):
        n = n_per_class
        s = 1.0 if signal else 0.0
        columns = {
            "a_shift": rng.normal(0.9 * s, 1.0, n),
            "b_shift": rng.normal(-0.7 * s, 1.0, n),
            "c_width": rng.normal(0.0, 0.5 if signal else 1.6, n),
            "d_shift": rng.exponential(1.0 + 0.8 * s, n),
            "e_ratio": rng.uniform(0.0, 1.0, n) ** (0.5 if signal else 1.5),
        }
        for name in NOISE:
            columns[name] = rng.normal(0.0, 1.0, n)
        frame = pd.DataFrame({k: v.astype(np.float32) for k, v in columns.items()})
        frame["Weight"] = np.float32(1.0)
        frame["target"] = np.int8(1 if signal else 0)
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    data["EventNumber"] = np.arange(len(data), dtype=np.int64)
    data.to_parquet(path, index=False)
    return path


def write_run_config(
    tmp_path: Path,
    mode: str,
    extra: str = "",
    n_per_class: int = 3000,
    max_epochs: int = 8,
    batch_size: int = 128,
) -> Path:
    """A run-config of the built-in Lightning MLP: pre-HPO with 2 trials of a small MLP, 3 folds, few epochs;
    selection per ``mode``."""
    data = write_dataset(tmp_path / "truth.parquet", n_per_class)
    source = f"""
    perform_variable_opt = True
    perform_main_hyperopt = False
    perform_PBT_hyperopt = False
    model_type = "Lightning"
    inputs_file = {str(data)!r}
    input_vars = {VARIABLES!r}
    produce_inputs_plots = False
    use_testing_dataset = False
    validation_fraction = 0.34
    output_path = {str(tmp_path / "out")!r}
    output_name = "vs"
    max_epochs = {max_epochs}
    early_stopping_patience = 3
    ASHA_grace_period = {min(4, max_epochs)}
    num_samples_variableOpt = 2
    random_seed = 11
    search_space = {{
        "batch_size": {batch_size},
        "num_layers": 2,
        "units": 32,
        "learning_rate": {{"type": "range", "bounds": [3e-3, 6e-3], "sampling": "log"}},
        "dropout": 0.0,
    }}
    variable_optimization_mode = {mode!r}
    """
    path = tmp_path / "run_config.py"
    path.write_text(textwrap.dedent(source) + textwrap.dedent(extra))
    return path


def make_context(config_path: Path, cpus: int = 2) -> Any:
    """A RunContext for ``config_path`` (plugins built now, so fake installed plugins are found)."""
    from optima_core.clusters.local import LocalCluster, ResourceRequest
    from optima_core.config.loader import load_run_config
    from optima_core.config.validation import check
    from optima_core.engine.context import RunContext, new_input_handler
    from optima_core.engine.output import prepare_output_folder
    from optima_core.plugins.manager import create_plugin_manager
    from optima_core.training.job import RunReference

    run_config = load_run_config(config_path, None)
    manager = create_plugin_manager(run_config_module=run_config.module)
    check(run_config, manager)  # raises on an invalid run-config
    plan = LocalCluster().plan(ResourceRequest(cpus=cpus))
    output = prepare_output_folder(run_config, resume=False)
    reference = RunReference.of(run_config)
    handler = new_input_handler(manager.hooks, run_config)
    return RunContext(run_config, manager, plan, output, reference, input_handler=handler)
