"""Resuming an Optuna stage whose SQLite study got ahead of Tune's saved searcher state (a kill between the two).

Replays what Tune does around a kill, without a Ray cluster: save the searcher, let the study move on (a trial
finishes, another is handed out), then restore a fresh searcher from the older save and replay the resumed trial.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from optima_core.engine.optuna_searcher import ResumableOptunaSearch
from optima_core.search.optuna_space import define_by_run, make_sampler

SPACE: dict[str, Any] = {"learning_rate": {"type": "range", "bounds": (1e-4, 1e-1), "sampling": "log"}}


def _searcher(cls: type, folder: Path) -> Any:
    return cls(
        space=define_by_run(SPACE),
        metric="loss",
        mode="min",
        sampler=make_sampler(True, False, 1, 4),
        study_name="stage",
        storage=optuna.storages.RDBStorage(f"sqlite:///{folder / 'study.db'}"),
    )


def _kill_after_save(cls: type, folder: Path) -> Any:
    """The searcher Tune would restore: saved after one epoch of t1; the study then saw t1 finish and t2 start."""
    live = _searcher(cls, folder)
    live.suggest("t1")
    live.on_trial_result("t1", {"loss": 1.0, "training_iteration": 1})
    live.save(str(folder / "searcher.pkl"))
    live.on_trial_result("t1", {"loss": 0.5, "training_iteration": 2})
    live.on_trial_complete("t1", {"loss": 0.5, "training_iteration": 2})
    live.suggest("t2")
    restored = _searcher(cls, folder)
    restored.restore(str(folder / "searcher.pkl"))
    return restored


def _study(folder: Path) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="stage", storage=f"sqlite:///{folder / 'study.db'}").trials


def test_stock_optuna_search_fails_on_the_resumed_trial(tmp_path: Path) -> None:
    """The failure this module guards against: if Ray ever fixes it, this test says so."""
    from ray.tune.search.optuna import OptunaSearch

    restored = _kill_after_save(OptunaSearch, tmp_path)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        restored.on_trial_result("t1", {"loss": 0.6, "training_iteration": 2})


def test_resumed_trial_is_accepted_and_the_study_keeps_its_first_result(tmp_path: Path) -> None:
    restored = _kill_after_save(ResumableOptunaSearch, tmp_path)
    restored.on_trial_result("t1", {"loss": 0.6, "training_iteration": 2})
    restored.on_trial_complete("t1", {"loss": 0.6, "training_iteration": 2})

    first = _study(tmp_path)[0]
    assert first.state == TrialState.COMPLETE
    assert first.value == pytest.approx(0.5)
    assert first.intermediate_values == {1: 1.0, 2: 0.5}


def test_trial_handed_out_before_the_kill_is_marked_failed_and_new_trials_go_on(tmp_path: Path) -> None:
    restored = _kill_after_save(ResumableOptunaSearch, tmp_path)
    orphan = _study(tmp_path)[1]
    assert orphan.state == TrialState.FAIL
    assert orphan.system_attrs.get("optima_interrupted") is True

    restored.suggest("t3")
    restored.on_trial_result("t3", {"loss": 0.4, "training_iteration": 1})
    restored.on_trial_complete("t3", {"loss": 0.4, "training_iteration": 1})
    states = [(trial.number, trial.state) for trial in _study(tmp_path)]
    assert states == [(0, TrialState.COMPLETE), (1, TrialState.FAIL), (2, TrialState.COMPLETE)]


def test_unfinished_trial_resumed_from_an_older_checkpoint_repeats_epochs_silently(tmp_path: Path) -> None:
    import warnings

    searcher = _searcher(ResumableOptunaSearch, tmp_path)
    searcher.suggest("t1")
    for step, loss in ((1, 1.0), (2, 0.8)):
        searcher.on_trial_result("t1", {"loss": loss, "training_iteration": step})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna warns about a step reported twice
        searcher.on_trial_result("t1", {"loss": 0.9, "training_iteration": 2})
        searcher.on_trial_result("t1", {"loss": 0.7, "training_iteration": 3})
    searcher.on_trial_complete("t1", {"loss": 0.7, "training_iteration": 3})
    assert _study(tmp_path)[0].intermediate_values == {1: 1.0, 2: 0.8, 3: 0.7}
