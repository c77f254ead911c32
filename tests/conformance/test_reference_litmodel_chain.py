"""A run-config ``LitModel`` written for the original tool runs through the whole chain of ``optima run`` (issue 13).

The model below is written from scratch in the reference's style, not from OPTIMA's built-in MLP: ``training_step``
and ``validation_step`` unpack the batch ``(inputs, targets[, weights])``, ``predict_step`` indexes ``batch[0]``,
``prepare`` adapts the input standardisation from the training dataloader and ``dropout`` is a hyperparameter the
model applies when it is built (``supports_mutation``: a trial restored by PBT is rebuilt with the mutated value).
The chain is variable selection (hybrid mode), main HPO, PBT, the cross-validations and the evaluations, on a
small separable sample with 2 CPUs. It used to die after all training, in the evaluation: the predictor handed
``predict_step`` a bare tensor, so ``batch[0]`` was the first event.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conformance_helpers import REFERENCE_LIT_MODEL

pytestmark = [pytest.mark.slow, pytest.mark.lightning]

OPTIMA = Path(sys.executable).parent / "optima"
VARIABLES = ["x1", "x2", "x3", "noise"]

SEARCH_SPACE = """
search_space = {
    "batch_size": 64,
    "units": 8,
    "learning_rate": {"type": "range", "bounds": [1e-2, 3e-2], "sampling": "log"},
    "dropout": {"type": "range", "bounds": [0.0, 0.2], "supports_mutation": True},
}
"""


def write_events(path: Path, n: int = 2000, seed: int = 3) -> Path:
    """Signal/background separable in x1..x3, ``noise`` identical for both classes."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    target = (rng.random(n) < 0.5).astype(np.int8)
    shift = 2 * target - 1.0
    frame = pd.DataFrame(
        {
            "x1": rng.normal(1.0 * shift, 1.0),
            "x2": rng.normal(-0.8 * shift, 1.0),
            "x3": rng.normal(0.0, np.where(target == 1, 0.6, 1.4)),
            "noise": rng.normal(0.0, 1.0, n),
        }
    )
    frame["Weight"] = rng.uniform(0.5, 1.5, n)
    frame["EventNumber"] = np.arange(n, dtype=np.int64)
    frame["target"] = target
    frame.to_parquet(path, index=False)
    return path


def write_run_config(tmp_path: Path) -> Path:
    settings = {
        "model_type": "Lightning",
        "inputs_file": str(write_events(tmp_path / "events.parquet")),
        "input_vars": VARIABLES,
        "output_path": str(tmp_path / "out"),
        "output_name": "reference_style",
        "produce_inputs_plots": False,
        "validation_fraction": 0.4,
        "test_fraction": 0.2,
        "max_epochs": 3,
        "early_stopping_patience": 3,
        "ASHA_grace_period": 2,
        "random_seed": 5,
        "perform_variable_opt": True,
        "variable_optimization_mode": "hybrid",
        "num_samples_variableOpt": 2,
        "num_repeats": 1,
        "num_repeats_hybrid_retrain": 1,
        "reevaluate_candidate_to_drop": False,
        "var_opt_patience": 1,
        "perform_main_hyperopt": True,
        "num_samples_main": 2,
        "perform_PBT_hyperopt": True,
        "num_samples_PBT": 2,
        "perturbation_interval": 1,
        "burn_in_period": 1,
    }
    lines = [f"{key} = {value!r}" for key, value in settings.items()]
    path = tmp_path / "run_config.py"
    path.write_text("\n".join(lines) + "\n" + textwrap.dedent(SEARCH_SPACE) + REFERENCE_LIT_MODEL)
    return path


def test_reference_style_litmodel_through_the_whole_chain(tmp_path: Path) -> None:
    pytest.importorskip("lightning")
    config = write_run_config(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [str(OPTIMA), "run", str(config), "--cpus", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=1200,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Traceback" not in output, output[-6000:]
    assert "mutating dropout" in output, output[-6000:]

    (run,) = (tmp_path / "out").iterdir()
    selection = json.loads((run / "variable_selection" / "variable_selection.json").read_text())
    assert set(selection["selected"]) <= set(VARIABLES) and selection["selected"], selection
    reports = sorted(run.glob("*/crossvalidation/*/evaluation.json"))
    stages = {path.parents[2].name for path in reports}
    assert {"variable_opt_hyperopt", "main_hyperopt", "PBT"} <= stages, sorted(map(str, reports))
    for path in reports:
        report = json.loads(path.read_text())
        assert report["folds"], path
        for fold in report["folds"]:
            assert fold["values"]["test"]["roc_auc"] > 0.6, (path, fold["values"]["test"])
