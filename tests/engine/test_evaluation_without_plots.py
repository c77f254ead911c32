"""``optima run`` with optima-core and one backend only (optima-plots and the other backend disabled): the
evaluation still writes evaluation.txt and evaluation.json, with the test AUC, and says once that plots are skipped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import FOLDS, Backend, CliOutcome, ConfigWriter

pytestmark = pytest.mark.slow

FIXED_SEARCH_SPACE = 'search_space = {"batch_size": 256, "num_layers": 1, "units": 8, "learning_rate": 0.005}'


def test_core_and_lightning_only_write_the_evaluation_and_say_once_that_plots_are_skipped(
    lightning: Backend,
    write_config: ConfigWriter,
    optima_run: Callable[..., CliOutcome],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPTIMA_DISABLE_PLUGINS", "plots,keras")
    config = write_config(
        "Lightning",
        extra=FIXED_SEARCH_SPACE,
        perform_main_hyperopt=False,
        crossvalidation_for_fixed_hps=True,
        max_epochs=3,
    )
    outcome = optima_run(config)
    assert outcome.exit_code == 0, outcome.describe()
    assert outcome.output.count("plots skipped") == 1, outcome.output
    assert "optima-plots is disabled (OPTIMA_DISABLE_PLUGINS=plots,keras)" in outcome.output

    (models,) = list((tmp_path / "out").glob("*/models"))
    assert f"Average over {FOLDS} folds" in (models / "evaluation.txt").read_text()
    report = json.loads((models / "evaluation.json").read_text())
    assert len(report["folds"]) == FOLDS
    assert report["selected"]["hyperparameters"]["learning_rate"] == 0.005
    for fold in report["folds"]:
        assert 0.8 < fold["values"]["test"]["roc_auc"] <= 1.0  # the sample is well separable
        assert fold["values"]["test"]["loss"] > 0
    assert 0.8 < report["average"]["test"]["roc_auc"]["value"] <= 1.0
    assert not list(models.rglob("*.png"))
