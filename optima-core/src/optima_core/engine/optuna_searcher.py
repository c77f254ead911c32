"""Ray Tune's ``OptunaSearch`` made safe to resume when the Optuna study lives in a SQLite file.

Tune saves its experiment state and the searcher together, at most a second apart, but the SQLite study is written
at once. A run killed in between leaves the file ahead of the saved state: a trial that finished (and was told to
Optuna) is still running in Tune's eyes, and one Optuna had just handed out is unknown to Tune. On resume the first
is continued from its checkpoint and reported again, which stock ``OptunaSearch`` answers with
``UpdateFinishedTrialError`` (the whole stage then fails); the second would stay "running" in the study forever.

:class:`ResumableOptunaSearch` ignores reports for trials the study already holds as finished, and on restore marks
the study's orphaned running trials as failed, so the study file stays truthful for optuna-dashboard. A trial that
raised or diverged (its target became NaN or infinite) is recorded as failed, not as complete with its last value.

Each Optuna trial names its Tune trial (user attribute ``tune_trial_id``, set when it is handed out) and, once
finished, the epochs it ran (``epochs``). A trial that ASHA stopped is told as PRUNED, with the value of the epoch it
stopped at as its last intermediate value and ``stopped = "stopped by ASHA at epoch k"``, so optuna-dashboard shows
what Tune did. How such a stop is recognised: Tune does not pass the result on which the scheduler decided STOP to
the searcher's ``on_trial_result`` (``TuneController._process_trial_result``), only to ``on_trial_complete``. A
trial whose final epoch the searcher never saw as a result, that ended before ASHA's ``max_t`` (reaching it is
completing the budget) and neither raised nor diverged, was stopped by the scheduler; a trial that stops by itself
(early stopping, ``max_epochs``) reports its last epoch as a normal result first. The epochs seen travel with the
searcher's saved state, so a resumed run keeps telling stops apart.

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


#: Optuna user attributes of a trial: its Tune trial id, the epochs it ran, and why it stopped early.
TUNE_TRIAL_ID_ATTR = "tune_trial_id"
EPOCHS_ATTR = "epochs"
STOPPED_ATTR = "stopped"


def stopped_message(epoch: int) -> str:
    return f"stopped by ASHA at epoch {epoch}"


class ResumableOptunaSearch(OptunaSearch):
    """``OptunaSearch`` that tolerates a study file ahead of Tune's saved experiment state (see module docs).

    ``pruning_max_t`` is the ASHA scheduler's ``max_t`` (``None`` without ASHA: no trial is ever recorded as pruned).
    """

    def __init__(self, *args: Any, pruning_max_t: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._optima_pruning_max_t = pruning_max_t
        self._optima_seen_epoch: dict[str, int] = {}  # last epoch passed to on_trial_result, per Tune trial

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A searcher pickled by an older OPTIMA (an experiment resumed after an update) lacks these.
        state.setdefault("_optima_pruning_max_t", None)
        state.setdefault("_optima_seen_epoch", {})
        self.__dict__.update(state)

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

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        config = super().suggest(trial_id)
        ot_trial = self._ot_trials.get(trial_id)
        stored = self._stored(trial_id)
        if (
            ot_trial is not None
            and stored is not None
            and not stored.state.is_finished()
            and stored.user_attrs.get(TUNE_TRIAL_ID_ATTR) != trial_id
        ):
            ot_trial.set_user_attr(TUNE_TRIAL_ID_ATTR, trial_id)
        return config

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if isinstance(result.get("epoch"), (int, float)):
            self._optima_seen_epoch[trial_id] = int(result["epoch"])
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
        failed = error or (result is not None and diverged(result))
        stopped_at = None if failed else self._stopped_by_scheduler(trial_id, result)
        self._record_attributes(trial_id, result, stopped_at)
        if failed:
            # Stock OptunaSearch tells the last reported value (the worst value, inf) as COMPLETE: a failure it is.
            super().on_trial_complete(trial_id, result=None, error=True)
            return
        if stopped_at is not None and result is not None:
            self._tell_pruned(trial_id, result)
            return
        super().on_trial_complete(trial_id, result=result, error=error)

    def _stopped_by_scheduler(self, trial_id: str, result: dict[str, Any] | None) -> int | None:
        """The epoch ASHA stopped this trial at, or ``None`` if it ended by itself (see module docs)."""
        max_t = self._optima_pruning_max_t
        epoch = (result or {}).get("epoch")
        if max_t is None or not isinstance(epoch, (int, float)):
            return None
        if int(epoch) < max_t and int(epoch) > self._optima_seen_epoch.get(trial_id, 0):
            return int(epoch)
        return None

    def _record_attributes(self, trial_id: str, result: dict[str, Any] | None, stopped_at: int | None) -> None:
        ot_trial = self._ot_trials.get(trial_id)
        if ot_trial is None:
            return
        epoch = (result or {}).get("epoch", self._optima_seen_epoch.get(trial_id))
        try:
            if isinstance(epoch, (int, float)):
                ot_trial.set_user_attr(EPOCHS_ATTR, int(epoch))
            if stopped_at is not None:
                ot_trial.set_user_attr(STOPPED_ATTR, stopped_message(stopped_at))
        except optuna.exceptions.UpdateFinishedTrialError:  # finished by another process meanwhile
            pass

    def _tell_pruned(self, trial_id: str, result: dict[str, Any]) -> None:
        """Tell a trial ASHA stopped as PRUNED; the stopping epoch's value becomes its last intermediate value."""
        ot_trial = self._ot_trials[trial_id]
        value, step = result.get(self.metric), result.get("training_iteration")
        try:
            if isinstance(value, (int, float)) and isinstance(step, (int, float)):
                ot_trial.report(float(value), int(step))
            self._study.tell(ot_trial, state=TrialState.PRUNED)
        except (ValueError, RuntimeError, optuna.exceptions.OptunaError) as exc:  # logged, as stock OptunaSearch
            logger.warning(exc)
        self._completed_trials.add(trial_id)

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
