"""The input-variable selection: backward elimination on the cross-validated models of the pre-HPO.

:func:`run_variable_selection` works on the result of the pre-HPO; :func:`apply_selection` then restricts the
InputHandler and the loaded inputs to the selected variables. The stage object that runs the pre-HPO and both is
:class:`optima_core.engine.selection_stage.VariableSelectionStage`; this package does not import the stages.
Output goes to ``<output>/variable_selection/``. The decision rules and statistics are documented in
:mod:`optima_core.variable_selection.decision`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optima_core.engine.context import RunContext
from optima_core.engine.crossvalidation import selection_fold_plan
from optima_core.engine.errors import OptimizationFailedError
from optima_core.logs import say
from optima_core.variable_selection.decision import Estimate, Iteration, SelectionState
from optima_core.variable_selection.evaluators import normalize_outcome
from optima_core.variable_selection.metric import resolve_metric
from optima_core.variable_selection.report import name, progress_line, write_outputs
from optima_core.variable_selection.retrain import RetrainEvaluator
from optima_core.variable_selection.session import ModelEntry, SelectionSession, restrict
from optima_core.variable_selection.stability import StabilityRecord, flipping

if TYPE_CHECKING:
    from optima_core.engine.stage import StageResult

STAGE_FOLDER = "variable_selection"


@dataclass
class VariableSelectionResult:
    """The selected variables (model-input order), the dropped ones in drop order, and the full record."""

    selected: list[Any]
    dropped: list[Any]
    state: SelectionState
    folder: Path
    iterations: list[Iteration] = field(default_factory=list)


def _best_label(estimates: dict[str, Estimate], op: str) -> str:
    finite = {label: e for label, e in estimates.items() if np.isfinite(e.value)}
    if not finite:
        raise OptimizationFailedError("every candidate variable set failed to evaluate (no finite metric value)")
    pick = min if op == "min" else max
    return pick(finite, key=lambda label: finite[label].value)


def start_values(session: SelectionSession, mode: str) -> np.ndarray:
    """The metric with every variable, measured the way the decisions will be measured.

    When decisions use retrained models (re-evaluation by retraining, or the ``retrain`` evaluator), the start set
    is retrained the same way (same seeds, same number of repeats), so that the paired comparisons see the same
    training noise on both sides. Otherwise the cross-validated models are evaluated as they are.
    """
    run_config = session.run_config
    if run_config.reevaluate_candidate_to_drop and run_config.retrain_for_reevaluation:
        repeats = int(run_config.num_repeats_for_reevaluation)
    elif mode == "retrain":
        repeats = int(run_config.num_repeats)
    else:
        return session.baseline()
    say(f"[variable selection] retraining the start set ({repeats} repeat(s)) for a like-for-like reference")
    outcome = RetrainEvaluator(session).evaluate({"start": list(session.all_vars)}, repeats, "start")
    return outcome.values["start"]


def _planned_scores(evaluator: Any, variables: list[Any], next_iteration: str, folds: int) -> Any:
    """What the next iteration will shuffle on models retrained for ``variables``, if it shuffles (see
    :meth:`~optima_core.variable_selection.shuffle.ShuffleEvaluator.planned_scores`); None otherwise."""
    next_shuffle = getattr(evaluator, "next_shuffle", None)
    shuffle = next_shuffle() if callable(next_shuffle) else None
    if shuffle is None:
        return None
    return shuffle.planned_scores(list(variables), evaluator.num_repeats(), next_iteration, folds)


def selection_session(context: RunContext, pre_hpo: StageResult) -> tuple[SelectionSession, Any]:
    """The evaluators' session on the fold models of the pre-HPO's selected trial, and that selection."""
    run_config = context.run_config
    use_fit = bool(run_config.use_fit_results_for_varOpt)
    selection = pre_hpo.selection(use_fit)
    if selection is None:
        raise OptimizationFailedError(
            f"[{pre_hpo.name}] no trial could be selected: the variable selection needs a trained model"
        )
    folds_result = pre_hpo.crossvalidation.get(selection.kind)
    if folds_result is None:
        raise RuntimeError(f"[{pre_hpo.name}] the {selection.kind} trial was not cross-validated")
    missing = [p.name for p in folds_result.model_files if not p.exists()]
    if missing:
        raise OptimizationFailedError(f"[{pre_hpo.name}] fold models missing (training failed?): {', '.join(missing)}")
    all_vars = list(pre_hpo.input_vars)
    folder = context.output / STAGE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    session = SelectionSession(
        context=context,
        folds=context.inputs(True),
        all_vars=all_vars,
        model_config=dict(selection.config),
        plan=selection_fold_plan(run_config, selection, STAGE_FOLDER),
        metric=resolve_metric(run_config),
        models=[ModelEntry(path, tuple(all_vars), k) for k, path in enumerate(folds_result.model_files)],
        folder=folder,
    )
    return session, selection


def run_variable_selection(context: RunContext, pre_hpo: StageResult) -> VariableSelectionResult:
    """Backward elimination starting from the fold models of the pre-HPO's selected trial.

    Every evaluation is deterministic (seeded shuffles, seeded retraining), so a resumed run replays the decisions
    of the interrupted one; the retrain evaluator keeps the models that run had finished.
    """
    session, selection = selection_session(context, pre_hpo)
    try:
        return _eliminate(context, session, selection)
    finally:
        session.scorers.release()


def _eliminate(context: RunContext, session: SelectionSession, selection: Any) -> VariableSelectionResult:
    run_config = context.run_config
    all_vars, folder = list(session.all_vars), session.folder
    mode = str(run_config.variable_optimization_mode)
    evaluator = context.manager.descriptor("evaluator", mode).load()(session)
    use_median = bool(run_config.use_median_for_averages)
    start = start_values(session, mode)
    state = SelectionState(
        all_vars=all_vars,
        start=Estimate.from_values(start, use_median),
        criterion=str(run_config.acceptance_criterion),
        op=str(run_config.var_metric_op),
        max_rel_change=float(run_config.max_rel_change),
        patience=int(run_config.var_opt_patience),
        use_median=use_median,
    )
    say(
        f"[variable selection] {len(all_vars)} variables, evaluator '{mode}', metric '{session.metric.name}' "
        f"({state.op}), criterion '{state.criterion}'; {selection.kind} trial {selection.trial_id}; "
        f"start value {state.start.describe()}"
    )
    # The fold models of every accepted set (a revert must go back to models that take the reverted set).
    models_of: dict[tuple[Any, ...], list[ModelEntry]] = {tuple(state.remaining): list(session.models)}
    stability = StabilityRecord(state)
    stability.remember(all_vars, start, "start")
    number = 0
    while not state.finished:
        number += 1
        sets = context.hooks.create_variable_sets_to_try(
            model_config=dict(session.model_config),
            models_with_inputs=session.models_with_inputs(),
            metric=session.metric.descriptor(),
            all_vars=list(all_vars),
            vars_remaining=list(state.remaining),
        )
        if not sets:
            say("[variable selection] no variable sets left to try")
            break
        sets = {str(label): list(variables) for label, variables in sets.items()}
        phase = evaluator.phase
        outcome = normalize_outcome(evaluator.evaluate(sets, evaluator.num_repeats(), f"iteration{number}"), list(sets))
        estimates = {label: Estimate.from_values(outcome.values[label], use_median) for label in sets}
        chosen = _best_label(estimates, state.op)
        reference = stability.reference(
            state.remaining, phase, getattr(evaluator, "reference", None), evaluator.num_repeats(), f"iteration{number}"
        )
        stability.add(list(state.remaining), sets, outcome.values, reference)
        stability.remember(sets[chosen], outcome.values[chosen], phase)
        estimate, models = estimates[chosen], (outcome.models or {}).get(chosen)
        reevaluated = bool(run_config.reevaluate_candidate_to_drop)
        if reevaluated:
            to_redo = {chosen: sets[chosen]}
            repeats = int(run_config.num_repeats_for_reevaluation)
            if run_config.retrain_for_reevaluation:
                planned = _planned_scores(evaluator, sets[chosen], f"iteration{number + 1}", len(session.folds))
                outcome_again = RetrainEvaluator(session).evaluate(
                    to_redo, repeats, f"iteration{number}_reeval", planned_scores={chosen: planned} if planned else None
                )
            else:
                outcome_again = evaluator.evaluate(to_redo, repeats, f"iteration{number}_reeval")
            redo = normalize_outcome(outcome_again, [chosen])
            estimate = Estimate.from_values(redo.values[chosen], use_median)
            stability.remember(sets[chosen], redo.values[chosen], "reevaluation")
            models = (redo.models or {}).get(chosen) or models
        iteration = state.decide(
            Iteration(
                number=number,
                remaining_before=list(state.remaining),
                candidates={label: (sets[label], estimates[label]) for label in sets},
                chosen=chosen,
                dropped=[v for v in state.remaining if v not in sets[chosen]],
                estimate=estimate,
                accepted=False,
                reason="",
                phase=phase,
                reevaluated=reevaluated,
            )
        )
        if iteration.accepted:
            if models:
                session.models = list(models)  # later shuffles use the models trained without the dropped variables
                session.forget_predictors(session.models)
            models_of[tuple(state.remaining)] = list(session.models)
        say(progress_line(iteration, len(state.remaining)))
        if not iteration.accepted and evaluator.on_rejected():
            to_best = bool(run_config.hybrid_revert_to_best_before_switch)
            remaining = state.revert(to_best)
            session.models = models_of.get(tuple(remaining), session.models)
            say(
                f"[variable selection] switching to '{evaluator.phase}'; reverted to the "
                f"{'best' if to_best else 'last accepted'} set ({len(remaining)} variables)"
            )
    selected = state.result(bool(run_config.choose_best_var_set))
    dropped: list[Any] = []
    for it in state.iterations:
        dropped.extend(v for v in it.dropped if v not in selected and v not in dropped)
    summary = stability.summary(dropped)
    plots = context.manager.plots()
    write_outputs(folder, state, session.metric.name, use_median, selected, dropped, plots, stability=summary)
    flips = flipping(summary)
    say(
        f"[variable selection] selected {len(selected)} of {len(all_vars)} variables: "
        f"{', '.join(name(v) for v in selected)}; dropped: {', '.join(name(v) for v in dropped) or 'none'}"
        + (f"; decision flips between folds for: {', '.join(flips)}" if flips else "")
    )
    return VariableSelectionResult(selected, dropped, state, folder, list(state.iterations))


def apply_selection(context: RunContext, selected: list[Any]) -> None:
    """Restrict the InputHandler and the already loaded inputs to ``selected`` (no data is re-read)."""
    context.input_handler.set_vars(list(selected))
    # RunContext caches the loaded folds; later stages must see only the selected columns.
    for key, folds in list(context._inputs.items()):
        context._inputs[key] = [{split: restrict(data, selected) for split, data in fold.items()} for fold in folds]
