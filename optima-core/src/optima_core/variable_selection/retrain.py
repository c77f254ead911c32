"""The ``retrain`` evaluator: new fold models for every candidate set, all trained in one parallel Tune run.

Every (candidate set, repeat, fold) is one Ray Tune trial of the selected trial's fold plan (same hyperparameters,
same epochs, early-stopping rules of the cross-validation). The trainable does not select input columns itself, so
each candidate's fold datasets are restricted to its variables once per iteration (one ``Input`` copy per set and
split) and handed to Tune through the object store (stored once). Repeats use different
seeds; no intermediate checkpoints are written. A set already retrained in this selection for the same repeat (the
same seeds, data and settings: the retrain phase's chosen set, re-evaluated with more repeats) is not trained again:
its models are taken, and only the further repeats are trained. Each trial computes the target metric of the model it exported on
its validation fold (the driver only reads the values, :mod:`optima_core.variable_selection.scoring`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.engine.trial import FOLD_KEY, SEED_KEY, TrialSettings, run_trial
from optima_core.variable_selection.base import Evaluator
from optima_core.variable_selection.scoring import ModelToScore, ScoreJob, read_trial_score, score_models
from optima_core.variable_selection.session import EvaluationOutcome, ModelEntry

RUN_KEY = "optima_varset_run"


def selection_trial(
    config: dict[str, Any], *, settings_by_run: dict[int, TrialSettings], datasets_by_run: dict[int, Any]
) -> None:
    """Tune trainable: the trial of one (set, repeat) on one fold (``config[FOLD_KEY]``)."""
    run = int(config[RUN_KEY])
    run_trial(config, settings=settings_by_run[run], datasets=datasets_by_run[run])


class RetrainEvaluator(Evaluator):
    name = "retrain"

    def evaluate(
        self,
        variable_sets: dict[str, list[Any]],
        num_repeats: int,
        iteration: str,
        planned_scores: dict[str, tuple[tuple[ScoreJob, ...], ...]] | None = None,
    ) -> EvaluationOutcome:
        """``planned_scores``: per label, per fold, evaluations the trials of repeat 0 (the models kept for the
        label) also make of their model and file next to it (see :meth:`ShuffleEvaluator.planned_scores`)."""
        from ray import tune

        from optima_core.engine.progress import ProgressPrinter
        from optima_core.engine.tuning import launch_trials

        session = self.session
        context, run_config, plan = session.context, session.run_config, session.plan
        folds = len(session.folds)
        base = session.folder / "retrain" / iteration
        seeds = context.fold_seeds(folds, reuse=plan.reuse_seed, fixed=plan.fixed_seed)
        template = TrialSettings(
            reference=context.reference,
            input_vars=(),
            max_epochs=plan.max_epochs,
            fixed_model_config=tuple(plan.model_config.items()),
            use_early_stopping=plan.use_early_stopping,
            use_overtraining_conditions=plan.use_overtraining_conditions,
            checkpoint_frequency=0,  # no intermediate checkpoints: only the final model is used (and exported)
            restore_best_weights=plan.restore_best_weights,
            use_gpu=context.plan.gpus_per_trial > 0,
            score_for_selection=True,
        )
        suffix = context.manager.descriptor("backend", run_config.model_type).load().model_suffix
        settings_by_run: dict[int, TrialSettings] = {}
        datasets_by_run: dict[int, Any] = {}
        runs: dict[int, tuple[str, int, Path]] = {}
        seed_of: dict[tuple[int, int], int] = {}
        folder_of: dict[tuple[str, int], Path] = {}
        for label, variables in variable_sets.items():
            datasets = None
            for repeat in range(num_repeats):
                earlier = session.retrained.get((tuple(variables), repeat))
                if earlier is not None and all(
                    (earlier / f"model_fold{fold}{suffix}").exists() for fold in range(folds)
                ):
                    folder_of[(label, repeat)] = earlier  # the same training (seeds, data, settings) done before
                    continue
                if datasets is None:
                    datasets = {fold: session.fold_split(fold, variables) for fold in range(folds)}  # once per set
                run = len(runs)
                export = base / _folder_name(label) / f"repeat{repeat}"
                export.mkdir(parents=True, exist_ok=True)
                runs[run] = (label, repeat, export)
                folder_of[(label, repeat)] = export
                planned = (planned_scores or {}).get(label, ()) if repeat == 0 else ()
                settings_by_run[run] = replace(
                    template, input_vars=tuple(variables), export_dir=str(export), planned_scores=planned
                )
                datasets_by_run[run] = datasets
                for fold in range(folds):
                    seed_of[(run, fold)] = int(seeds[fold]) + 7919 * repeat
        if runs:
            session.scorers.release()  # no idle scoring actors next to the trials
            # A resumed run replays the elimination (its decisions are deterministic): the models an interrupted run
            # finished for this iteration are kept, only the missing ones are trained.
            launch_trials(
                context,
                selection_trial,
                {"settings_by_run": settings_by_run, "datasets_by_run": datasets_by_run},
                name="trials",
                storage=base / "tune",
                param_space={
                    RUN_KEY: tune.grid_search(list(runs)),
                    FOLD_KEY: tune.grid_search(list(range(folds))),
                    SEED_KEY: tune.sample_from(lambda config: seed_of[(config[RUN_KEY], config[FOLD_KEY])]),
                },
                progress=ProgressPrinter(
                    len(runs) * folds, run_config.monitor_name, run_config.monitor_op, label="model"
                ),
            )
        entries: dict[tuple[str, int], list[ModelEntry]] = {}
        for (label, repeat), export in folder_of.items():
            kept_vars = tuple(variable_sets[label])
            entries[(label, repeat)] = [
                ModelEntry(export / f"model_fold{fold}{suffix}", kept_vars, fold) for fold in range(folds)
            ]
            if all(entry.path.exists() for entry in entries[(label, repeat)]):
                session.retrained[(kept_vars, repeat)] = export
        existing = [e for models in entries.values() for e in models if e.path.exists()]
        score_of = {e.path: read_trial_score(e.path) for e in existing}
        unscored = [e for e in existing if score_of[e.path] is None]  # exported by a run interrupted before its score
        scored = score_models(
            session, [(e.fold, ModelToScore(str(e.path), tuple(e.input_vars), (ScoreJob(),))) for e in unscored]
        )
        score_of.update({e.path: values[0] for e, values in zip(unscored, scored, strict=True)})
        values = {label: np.full((folds, num_repeats), np.nan) for label in variable_sets}
        for (label, repeat), models in entries.items():
            for entry in models:
                values[label][entry.fold, repeat] = score_of.get(entry.path, np.nan)
        kept = {label: entries[(label, 0)] for label in variable_sets}
        return EvaluationOutcome(values, kept)


def _folder_name(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:80] or "set"
