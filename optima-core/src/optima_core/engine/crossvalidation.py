"""Train one set of hyperparameters on every fold (or once), in parallel as Ray Tune trials, and save the models.

Used for fixed hyperparameters and for the trials chosen after each optimization stage. Each model is exported to
``<models_dir>/model_fold<k>`` (``.keras``/``.ckpt``) next to its per-epoch history, and the ``finalize_model``
hook is called for it. Both, and the evaluation, happen in the Ray worker that trained the model
(:mod:`optima_core.engine.fold_trial`); the driver only collects the results (and evaluates a model its worker could
not). Plans that differ only in their number of epochs (best-value and best-fit of one trial, without early
stopping) share one training: the shorter plan's models are exported on the way (:func:`crossvalidate_plans`).

``<models_dir>/optima_plan.json`` records the plan (selected trial, epoch, hyperparameters, epoch and seed rules) the
models were started for. A resumed run continues the cross-validation only when the plan is the same; otherwise
(e.g. the interrupted optimization selects another trial once it has finished) the old models and Tune experiment
are deleted and the folds are trained anew. A model whose training failed (diverged to NaN, or raised) is left out
of the evaluation; when every model failed the run ends with an :class:`OptimizationFailedError` naming the cause.
"""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from optima_core.builtin import plugin as builtin_plugin
from optima_core.deploy.export import export_after_crossvalidation
from optima_core.engine.context import RunContext
from optima_core.engine.errors import OptimizationFailedError
from optima_core.engine.trial import FOLD_KEY, RESUME_CHECKPOINT_INTERVAL_S, SEED_KEY, TrialSettings
from optima_core.errors import find_user_error
from optima_core.evaluation.average import spread_name, summarise
from optima_core.evaluation.builtin import say_once_if_plots_skipped
from optima_core.evaluation.folds import evaluate_models
from optima_core.inputs.memory import release_unused_memory
from optima_core.logs import say
from optima_core.selection import Selection
from optima_core.training.loop import VALID_COLUMN, diverged

logger = logging.getLogger(__name__)

#: The record of the plan a cross-validation was started for, in its models folder.
PLAN_FILE = "optima_plan.json"


@dataclass(frozen=True)
class FoldPlan:
    """How to train the models of one hyperparameter set."""

    label: str
    model_config: dict[str, Any]
    max_epochs: int
    use_early_stopping: bool
    use_overtraining_conditions: bool
    restore_best_weights: bool
    crossvalidation: bool = True
    reuse_seed: bool = False
    fixed_seed: bool = False
    #: The selected trial and epoch the hyperparameters come from (for evaluation.json); None for fixed ones.
    trial: str | None = None
    epoch: int | None = None


def selection_fold_plan(run_config: Any, selection: Selection, label: str) -> FoldPlan:
    """The cross-validation plan of a selected trial, with the reference's epoch, early-stopping and seed rules.

    With ``use_early_stopping_for_crossvalidation`` the folds train up to ``max_epochs`` with early stopping and
    keep their best epoch; otherwise exactly the selected epoch's number of epochs.
    """
    early = bool(run_config.use_early_stopping_for_crossvalidation)
    return FoldPlan(
        label=label,
        model_config=dict(selection.config),
        max_epochs=run_config.max_epochs if early else max(int(selection.epoch), 1),
        use_early_stopping=early,
        use_overtraining_conditions=bool(run_config.use_OT_conditions_for_crossvalidation),
        restore_best_weights=early,
        reuse_seed=bool(run_config.reuse_seed_for_crossvalidation),
        fixed_seed=bool(run_config.fixed_seed_for_crossvalidation),
        trial=str(selection.trial_id),
        epoch=int(selection.epoch),
    )


@dataclass
class FoldResults:
    label: str
    models_dir: Path
    model_files: list[Path]
    values: list[float]
    failed: list[str]
    text: str


def shares_training(long: FoldPlan, short: FoldPlan) -> bool:
    """Whether ``short``'s models are ``long``'s training stopped earlier: the same hyperparameters, rules and seeds,
    and either the same number of epochs or no early stopping (whose best-epoch weights would differ)."""
    fixed = {"label", "max_epochs", "epoch"}
    same = all(getattr(long, f) == getattr(short, f) for f in FoldPlan.__dataclass_fields__ if f not in fixed)
    return (
        same
        and short.max_epochs <= long.max_epochs
        and (short.max_epochs == long.max_epochs or not long.use_early_stopping)
    )


def shared_groups(plans: list[FoldPlan]) -> list[list[FoldPlan]]:
    """``plans`` grouped by training: each group's first plan is the longest, trained once for the whole group."""
    groups: list[list[FoldPlan]] = []
    for plan in sorted(plans, key=lambda p: -p.max_epochs):
        group = next((g for g in groups if shares_training(g[0], plan)), None)
        if group is None:
            groups.append([plan])
        else:
            group.append(plan)
    return groups


def crossvalidate_plans(
    context: RunContext, plans: dict[str, FoldPlan], folder: Path, input_vars: list[Any], stage: str | None = None
) -> dict[str, FoldResults]:
    """Cross-validate every plan (keyed by selection kind) into ``<folder>/<label>``; plans that differ only in
    their number of epochs share one training (:func:`shared_groups`), with results identical to separate ones."""
    kinds = {id(plan): kind for kind, plan in plans.items()}
    outcome: dict[str, FoldResults] = {}
    for group in shared_groups(list(plans.values())):
        for plan in group:
            say(f"[{stage or plan.label}] cross-validating the {kinds[id(plan)]} trial ({plan.max_epochs} epochs)")
        if len(group) > 1:
            both = " and ".join(p.label for p in group)
            say(f"[{stage or group[0].label}] {both} select the same trial: its folds are trained once, for both")
        release_unused_memory()  # what the optimization before freed, before the fold trials start
        results = train_shared(context, group, folder / group[0].label, input_vars, stage)
        outcome.update({kinds[id(plan)]: result for plan, result in zip(group, results, strict=True)})
    return outcome


def train_folds(
    context: RunContext, plan: FoldPlan, models_dir: Path, input_vars: list[Any], stage: str | None = None
) -> FoldResults:
    """Train ``plan`` on every fold (or once); returns where the models are and the target metric per model."""
    return train_shared(context, [plan], models_dir, input_vars, stage)[0]


def train_shared(
    context: RunContext, group: list[FoldPlan], models_dir: Path, input_vars: list[Any], stage: str | None = None
) -> list[FoldResults]:
    """Train ``group[0]`` into ``models_dir``; the other plans of ``group`` share its training
    (:func:`shares_training`) and get their models in ``<label>`` folders next to it. Results in ``group``'s order.
    """
    from ray import tune

    from optima_core.engine.fold_trial import FoldSettings, ModelTarget, run_fold_trial
    from optima_core.engine.progress import ProgressPrinter
    from optima_core.engine.tuning import launch_trials

    plan = group[0]
    run_config = context.run_config
    folds = context.inputs(plan.crossvalidation)
    storage = models_dir.parent / "tune"
    experiment = f"crossvalidation_{plan.label}"
    members = [(plan, models_dir)] + [(other, models_dir.parent / other.label) for other in group[1:]]
    start_plan(plan, models_dir, storage / experiment, [other for other, _ in members[1:]])
    for other, directory in members[1:]:
        start_plan(other, directory, storage / f"crossvalidation_{other.label}", trained_by=plan.label)
    seeds = context.fold_seeds(len(folds), reuse=plan.reuse_seed, fixed=plan.fixed_seed)
    trial_settings = TrialSettings(
        reference=context.reference,
        input_vars=tuple(input_vars),
        max_epochs=plan.max_epochs,
        fixed_model_config=tuple(plan.model_config.items()),
        use_early_stopping=plan.use_early_stopping,
        use_overtraining_conditions=plan.use_overtraining_conditions,
        checkpoint_frequency=run_config.checkpoint_frequency,
        min_checkpoint_interval_s=RESUME_CHECKPOINT_INTERVAL_S,
        export_dir=str(models_dir),
        restore_best_weights=plan.restore_best_weights,
        use_gpu=context.plan.gpus_per_trial > 0,
    )
    settings = FoldSettings(
        trial=trial_settings,
        targets=tuple(
            ModelTarget(
                str(directory),
                None if member.max_epochs == plan.max_epochs else member.max_epochs,
                tuple(member.model_config.items()),
            )
            for member, directory in members
        ),
        cpus=context.plan.cpus_per_trial,
        export_onnx=bool(run_config.get("export_onnx", True)),
    )
    if plan.crossvalidation:
        datasets: Any = dict(enumerate(folds))
        param_space: dict[str, Any] = {
            FOLD_KEY: tune.grid_search(list(range(len(folds)))),
            SEED_KEY: tune.sample_from(lambda config: seeds[config[FOLD_KEY]]),
        }
    else:
        datasets = folds[0]
        param_space = {SEED_KEY: seeds[0]}
    labels = " + ".join(member.label for member, _ in members)
    with context.phases.phase(f"crossvalidation {labels}", stage):
        results = launch_trials(
            context,
            run_fold_trial,
            {"settings": settings, "datasets": datasets},
            name=experiment,
            storage=storage,
            param_space=param_space,
            progress=ProgressPrinter(len(folds), run_config.monitor_name, run_config.monitor_op, label="model"),
        )
    finished = []
    for member, directory in members:
        view = results if member is plan else [EpochView(r, member.max_epochs) for r in results]
        finished.append(_collect(context, member, directory, folds, view, storage / experiment, stage))
    return finished


@dataclass
class EpochView:
    """A Tune result of a shared training as the shorter plan sees it: the history up to its last epoch."""

    result: Any
    last_epoch: int

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.result.config)

    @property
    def error(self) -> Any:
        return self.result.error

    @property
    def metrics_dataframe(self) -> Any:
        frame = self.result.metrics_dataframe
        if frame is None or "epoch" not in frame:
            return frame
        return frame[frame["epoch"] <= self.last_epoch].reset_index(drop=True)


def _collect(
    context: RunContext,
    plan: FoldPlan,
    models_dir: Path,
    folds: list[dict[str, Any]],
    results: Any,
    experiment: Path,
    stage: str | None,
) -> FoldResults:
    """Summarize the trainings of ``plan``, call ``finalize_model`` for each model its worker did not finalize,
    and evaluate them (with what the workers evaluated already)."""
    from optima_core.engine.fold_trial import evaluation_file

    evaluated = context.phases.clock(f"evaluation {plan.label}", stage)
    run_config = context.run_config
    outcome = summarize(results, run_config.monitor_name, run_config.monitor_op, plan.label)
    (models_dir / "results.txt").write_text(outcome["text"] + "\n")
    if not outcome["values"]:
        raise all_failed_error(plan.label, outcome["reasons"], experiment)
    if outcome["failed"]:
        say(
            f"[{plan.label}] {len(outcome['failed'])} of {len(folds)} models failed ({', '.join(outcome['failed'])}): "
            "they are left out of the evaluation"
        )
    suffix = context.manager.descriptor("backend", run_config.model_type).load().model_suffix
    names = [f"model_fold{k}" for k in range(len(folds))] if plan.crossvalidation else ["model"]
    model_files = [models_dir / f"{name}{suffix}" for name in names]
    done: dict[int, Any] = {}
    exported: dict[int, tuple[str, float]] = {}
    for index, (name, path) in enumerate(zip(names, model_files, strict=True)):
        worker = _worker_evaluation(evaluation_file(path))
        if index in outcome["failed_indices"]:
            path.unlink(missing_ok=True)  # a failed training's model, if an earlier attempt left one, is no result
        elif worker is not None:
            done[index] = worker["outcome"]  # finalized and evaluated in the worker that trained it
            if worker.get("onnx"):
                exported[index] = worker["onnx"]
            logger.debug("%s was finalized and evaluated in the worker that trained it", path)
        elif path.exists():
            split = tuple(folds[index][s] for s in ("train", "val", "test") if s in folds[index])
            context.hooks.finalize_model(
                run_config=run_config,
                dataset_split=split,
                results_dir=str(models_dir.parent),
                model_dir=str(models_dir),
                model_info={"name": name, "split": index, "config": dict(plan.model_config)},
                input_handler=context.input_handler,
            )
    evaluation = evaluate_models(context, plan, folds, model_files, models_dir, done)
    if done and context.manager.hook_providers("evaluate")[:1] == [builtin_plugin.__name__]:
        say_once_if_plots_skipped(context.manager)  # the workers' evaluations could not say it on the console
    evaluated()
    with context.phases.phase(f"onnx export {plan.label}", stage):
        export_after_crossvalidation(context, plan, folds, model_files, models_dir, exported)  # never fails the run
    text = outcome["text"] + ("\n\n" + evaluation if evaluation else "")
    return FoldResults(plan.label, models_dir, model_files, outcome["values"], outcome["failed"], text)


def _worker_evaluation(path: Path) -> dict[str, Any] | None:
    """What a worker's evaluation left (and remove it: it is not a result of the run), or None."""
    if not path.exists():
        return None
    try:
        recorded = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - an unreadable record: the driver evaluates the model again
        recorded = None
    path.unlink(missing_ok=True)
    return recorded if isinstance(recorded, dict) and recorded.get("finalized") else None


def start_plan(
    plan: FoldPlan,
    models_dir: Path,
    experiment: Path,
    shared_with: list[FoldPlan] | None = None,
    trained_by: str | None = None,
) -> None:
    """Prepare ``models_dir`` for ``plan``: keep what an earlier attempt of the same plan left, delete anything else.

    The models and the Tune experiment of another plan (an interrupted run whose optimization selected another trial
    after ``--resume``) must not be continued: the fold models would not belong to the selection. A shared training
    records the plans it also serves (``shared_with``); theirs, the plan whose training made them (``trained_by``).
    """
    wanted = json.loads(json.dumps(asdict(plan), default=repr))
    if shared_with:
        wanted["shared_with"] = [json.loads(json.dumps(asdict(p), default=repr)) for p in shared_with]
    if trained_by:
        wanted["trained_by"] = trained_by
    record = models_dir / PLAN_FILE
    recorded = json.loads(record.read_text()) if record.exists() else None
    if recorded == wanted:
        return
    if models_dir.exists() or experiment.exists():
        started = (
            f"was started for trial {recorded['trial']} (epoch {recorded['epoch']}, hyperparameters "
            f"{recorded['model_config']})"
            if recorded
            else f"has no {PLAN_FILE}"
        )
        say(
            f"[{plan.label}] the cross-validation in {models_dir} {started}, not for trial {plan.trial} (epoch "
            f"{plan.epoch}, hyperparameters {plan.model_config}): it is deleted and trained anew"
        )
        shutil.rmtree(models_dir, ignore_errors=True)
        shutil.rmtree(experiment, ignore_errors=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(wanted, indent=2) + "\n")


def all_failed_error(label: str, reasons: dict[str, str], experiment: Path) -> OptimizationFailedError:
    """The error ending a run when no model of ``label`` trained: the cause of each, and what to change."""
    text = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
    hint = ""
    if any("training diverged" in reason for reason in reasons.values()):
        hint = "; lower the learning rate (or check the inputs' scaling) so that the training stays finite"
    return OptimizationFailedError(
        f"[{label}] every model failed, nothing to evaluate: {text}{hint} (Tune's logs: {experiment})"
    )


def summarize(results: Any, monitor: str, mode: str, label: str) -> dict[str, Any]:
    """Best valid value of the target metric per model, and mean ± std over folds; which models failed, and why."""
    lines = [f"[{label}]"]
    values: list[float] = []
    failed: list[str] = []
    failed_indices: set[int] = set()
    reasons: dict[str, str] = {}
    for result in sorted(results, key=lambda r: r.config.get(FOLD_KEY, 0)):
        fold = result.config.get(FOLD_KEY)
        name = f"fold {fold}" if fold is not None else "model"
        frame = result.metrics_dataframe
        last = frame.iloc[-1].to_dict() if frame is not None and len(frame) else {}
        if result.error is not None:
            user_error = find_user_error(result.error)
            reasons[name] = str(user_error) if user_error else f"{type(result.error).__name__} (see its error file)"
            lines.append(f"{name}: FAILED ({type(result.error).__name__}: {result.error})")
        elif diverged(last):
            reasons[name] = f"{monitor} became {last.get(monitor)} at epoch {int(last['epoch'])} (training diverged)"
            lines.append(f"{name}: FAILED ({reasons[name]})")
        elif frame is None or monitor not in frame:
            reasons[name] = f"no '{monitor}' reported"
            lines.append(f"{name}: {reasons[name]}")
        if name in reasons:
            failed.append(name)
            failed_indices.add(fold or 0)
            continue
        valid = frame[frame[VALID_COLUMN].astype(bool)] if VALID_COLUMN in frame else frame
        column = valid[monitor] if len(valid) else frame[monitor]
        best_index = column.idxmax() if mode == "max" else column.idxmin()
        best = float(column.loc[best_index])
        values.append(best)
        lines.append(
            f"{name}: best {monitor} = {best:.6g} at epoch {int(frame.loc[best_index, 'epoch'])} "
            f"of {int(frame['epoch'].max())}"
        )
    if len(values) > 1:
        mean, std = summarise(values)
        lines.append(f"{spread_name(False)} over {len(values)} models: {mean:.6g} ± {std:.6g}")
    text = "\n".join(lines)
    say(text)
    return {"values": values, "failed": failed, "failed_indices": failed_indices, "reasons": reasons, "text": text}
