"""Ray Tune's ``OptunaSearch`` made safe to resume when the Optuna study lives in a SQLite file.

Tune saves its experiment state and the searcher together, at most a second apart, but the SQLite study is written
at once. A run killed in between leaves the file ahead of the saved state: a trial that finished (and was told to
Optuna) is still running in Tune's eyes, and one Optuna had just handed out is unknown to Tune. On resume the first
is continued from its checkpoint and reported again, which stock ``OptunaSearch`` answers with
``UpdateFinishedTrialError`` (the whole stage then fails); the second would stay "running" in the study forever.

:class:`ResumableOptunaSearch` ignores reports for trials the study already holds as finished, and on restore marks
the study's orphaned running trials as failed, so the study file stays truthful for optuna-dashboard. A trial that
raised or diverged (its target became NaN or infinite) is recorded as failed, not as complete with its last value.

Imports Ray and Optuna: import it only where a stage runs.
"""

from __future__ import annotations

import logging
from typing import Any

import optuna
from optuna.trial import TrialState
from ray.tune.search.optuna import OptunaSearch

from optima_core.training.loop import diverged

logger = logging.getLogger(__name__)


class ResumableOptunaSearch(OptunaSearch):
    """``OptunaSearch`` that tolerates a study file ahead of Tune's saved experiment state (see module docs)."""

    @property
    def _study(self) -> optuna.Study:
        assert self._ot_study is not None, "the study is set up when Tune sets the search properties"
        return self._ot_study

    def _stored(self, trial_id: str) -> optuna.trial.FrozenTrial | None:
        ot_trial = self._ot_trials.get(trial_id)
        return None if ot_trial is None else self._study._storage.get_trial(ot_trial._trial_id)

    def _already_finished(self, trial_id: str) -> bool:
        stored = self._stored(trial_id)
        return stored is not None and stored.state.is_finished()

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        stored = self._stored(trial_id)
        if stored is not None and (
            stored.state.is_finished() or result.get("training_iteration") in stored.intermediate_values
        ):
            return  # a resumed trial repeating epochs the study already holds
        super().on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        if trial_id not in self._completed_trials and self._already_finished(trial_id):
            # Finished (and told to Optuna) before the kill; the resumed run repeated its last epochs only.
            self._completed_trials.add(trial_id)
            return
        if error or (result is not None and diverged(result)):
            # Stock OptunaSearch tells the last reported value (the worst value, inf) as COMPLETE: a failure it is.
            super().on_trial_complete(trial_id, result=None, error=True)
            return
        super().on_trial_complete(trial_id, result=result, error=error)

    def restore(self, checkpoint_path: str) -> None:
        super().restore(checkpoint_path)
        known = {ot_trial._trial_id for ot_trial in self._ot_trials.values()}
        storage = self._study._storage
        for frozen in self._study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if frozen._trial_id in known:
                continue
            try:
                storage.set_trial_system_attr(frozen._trial_id, "optima_interrupted", True)
                storage.set_trial_state_values(frozen._trial_id, state=TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:  # another process finished it meanwhile
                continue
            logger.info("Optuna trial %d was handed out just before the run stopped: marked failed", frozen.number)
