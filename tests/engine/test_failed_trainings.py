"""A training that diverges (its target becomes NaN or infinite) or raises is a failure, never a result.

* The Optuna study records such a trial as FAIL, not as COMPLETE with the worst value.
* When every model of a cross-validation (here: fixed hyperparameters, two folds) diverges, ``optima run`` ends
  with one ``error:`` line naming the cause, exit status 2, no evaluation, no model and no Ray traceback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import Backend, CliOutcome, ConfigWriter


def _study_after(tmp_path: Path, result: dict[str, object], error: bool) -> object:
    import optuna

    from optima_core.engine.optuna_searcher import ResumableOptunaSearch
    from optima_core.training.loop import TARGET_COLUMN

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}")
    searcher = ResumableOptunaSearch(
        space={"learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-2)},
        metric=TARGET_COLUMN,
        mode="min",
        study_name="study",
        storage=storage,
    )
    assert searcher.suggest("trial_1") is not None
    searcher.on_trial_result("trial_1", {**result, "training_iteration": 1})
    searcher.on_trial_complete("trial_1", result={**result, "training_iteration": 1}, error=error)
    (trial,) = optuna.load_study(study_name="study", storage=storage).trials
    return trial


def test_a_diverged_trial_is_recorded_as_failed_in_the_study(tmp_path: Path) -> None:
    from optuna.trial import TrialState

    from optima_core.training.loop import DIVERGED_COLUMN, TARGET_COLUMN

    trial = _study_after(tmp_path, {TARGET_COLUMN: math.inf, "val_loss": math.nan, DIVERGED_COLUMN: True}, False)
    assert trial.state == TrialState.FAIL, (trial.state, trial.values)


def test_a_trial_that_raised_after_reporting_is_recorded_as_failed_in_the_study(tmp_path: Path) -> None:
    from optuna.trial import TrialState

    from optima_core.training.loop import DIVERGED_COLUMN, TARGET_COLUMN

    trial = _study_after(tmp_path, {TARGET_COLUMN: 0.5, DIVERGED_COLUMN: False}, True)
    assert trial.state == TrialState.FAIL, (trial.state, trial.values)


def test_a_finished_trial_is_still_complete_with_its_value(tmp_path: Path) -> None:
    from optuna.trial import TrialState

    from optima_core.training.loop import DIVERGED_COLUMN, TARGET_COLUMN

    trial = _study_after(tmp_path, {TARGET_COLUMN: 0.5, DIVERGED_COLUMN: False}, False)
    assert trial.state == TrialState.COMPLETE and trial.values == [0.5]


#: Fixed hyperparameters whose learning rate sends every training to NaN within an epoch or two.
DIVERGING = """
search_space = {"batch_size": 256, "num_layers": 1, "units": 8, "learning_rate": 1e30}
"""


@pytest.mark.slow
def test_every_fold_diverging_ends_the_run_with_one_error_line(
    backend: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    config = write_config(
        backend.name,
        extra=DIVERGING,
        perform_main_hyperopt=False,
        crossvalidation_for_fixed_hps=True,
        max_epochs=4,
    )
    outcome = optima_run(config)
    assert outcome.exit_code == 2, outcome.describe()
    (line,) = [line for line in outcome.output.splitlines() if line.startswith("error: ")]
    assert re.match(
        r"error: \[fixed\] every model failed, nothing to evaluate: fold 0: val_loss became (nan|inf) at epoch \d+ "
        r"\(training diverged\); fold 1: val_loss became (nan|inf) at epoch \d+ \(training diverged\)",
        line,
    ), line
    assert "lower the learning rate" in line, line
    assert "Traceback" not in outcome.output and "Trial task failed" not in outcome.output, outcome.output
    models = tmp_path / "out" / "fixedHPs_e2e" / "models"
    assert not list(models.rglob("evaluation*")) and not list(models.rglob(f"*{backend.suffix}"))
    assert not (models / "plots").exists()


class _Result:
    """What a ResultGrid yields for one fold: its config and history."""

    def __init__(self, fold: int, losses: list[float]) -> None:
        import pandas as pd

        from optima_core.training.loop import DIVERGED_COLUMN, VALID_COLUMN

        rows = [
            {"epoch": i + 1, "val_loss": v, VALID_COLUMN: math.isfinite(v), DIVERGED_COLUMN: not math.isfinite(v)}
            for i, v in enumerate(losses)
        ]
        self.config = {"optima_fold": fold}
        self.error = None
        self.metrics_dataframe = pd.DataFrame(rows)


def test_a_diverged_fold_is_named_and_left_out_while_the_others_count() -> None:
    from optima_core.engine.crossvalidation import summarize

    outcome = summarize([_Result(1, [0.6, math.nan]), _Result(0, [0.7, 0.5])], "val_loss", "min", "fixed")
    assert outcome["values"] == [0.5]
    assert outcome["failed"] == ["fold 1"] and outcome["failed_indices"] == {1}
    assert outcome["reasons"] == {"fold 1": "val_loss became nan at epoch 2 (training diverged)"}
    assert "fold 1: FAILED (val_loss became nan at epoch 2 (training diverged))" in outcome["text"]


@pytest.mark.slow
@pytest.mark.lightning
def test_every_trial_of_an_optimization_diverging_ends_the_run_with_one_error_line(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    search_space = DIVERGING.replace('"units": 8', '"units": {"type": "choice", "values": [6, 8]}')
    config = write_config(lightning.name, extra=search_space, num_samples_main=2, max_epochs=3)
    outcome = optima_run(config)
    assert outcome.exit_code == 2, outcome.describe()
    (line,) = [line for line in outcome.output.splitlines() if line.startswith("error: ")]
    assert line.startswith(
        "error: [main_hyperopt] every one of the 2 trials failed, 2 of them because the training diverged"
    ), line
    assert "lower the learning rate" in line, line
    assert not (tmp_path / "out" / "main_e2e" / "main_hyperopt" / "crossvalidation").exists()
