"""An Optuna hyperparameter optimization stage on Ray Tune (the pre-HPO of variable selection, and the main HPO).

Optuna's TPE (independent or multivariate) or random sampling proposes hyperparameters through Ray Tune's
``OptunaSearch``; ASHA prunes weak trials. The Optuna study is also written to ``optuna_study.db`` (SQLite) in the
stage folder, so optuna-dashboard can open it. Afterwards the best-value and best-fit trials are selected and
each is cross-validated (:func:`select_and_crossvalidate`, shared with the PBT stage).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optima_core.engine.context import RunContext
from optima_core.engine.crossvalidation import (
    FoldPlan,
    crossvalidate_plans,
    selection_fold_plan,
)
from optima_core.engine.errors import OptimizationFailedError, no_results_error
from optima_core.engine.stage import Stage, StageResult
from optima_core.engine.trial import RESUME_CHECKPOINT_INTERVAL_S, TrialSettings, run_trial
from optima_core.engine.trial_records import (
    STUDY_FILE,
    fit_description,
    record_trials,
    search_overview_rows,
    selection_entry,
    value_column,
)
from optima_core.logs import say
from optima_core.selection import TrialHistory, best_fit, best_value, objective_note
from optima_core.training.loop import TARGET_COLUMN, diverged

TARGET = TARGET_COLUMN

#: The stage folder (and Optuna study) of the main optimization.
MAIN_HPO_NAME = "main_hyperopt"


def _model_config(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if not k.startswith("optima_")}


def _checkpointed_history(result: Any) -> Any:
    """The full history stored in a trial's latest checkpoint (PBT trials lose rows in Tune's results)."""
    import pandas as pd

    from optima_core.training.loop import STATE_FILE, load_state

    checkpoint = getattr(result, "checkpoint", None)
    if checkpoint is None or not (Path(checkpoint.path) / STATE_FILE).exists():
        return None
    rows = load_state(Path(checkpoint.path))["history"]
    return pd.DataFrame(rows) if rows else None


def histories(results: Any) -> tuple[list[TrialHistory], list[str]]:
    """Per-trial histories of a ResultGrid, and the ids of failed trials."""
    found, failed = [], []
    for result in results:
        trial_id = str((result.metrics or {}).get("trial_id") or (Path(result.path).name if result.path else "?"))
        if result.error is not None or diverged(result.metrics or {}):
            failed.append(trial_id)
        frame = _checkpointed_history(result)
        if frame is None or (result.metrics_dataframe is not None and len(result.metrics_dataframe) > len(frame)):
            frame = result.metrics_dataframe
        if frame is not None and len(frame) and "epoch" in frame:
            # A trial resumed from an older checkpoint than it had reached reports some epochs twice: the last
            # report of an epoch is the one the trial's model continued from.
            frame = frame.drop_duplicates(subset="epoch", keep="last").reset_index(drop=True)
            found.append(TrialHistory(trial_id, _model_config(result.config), frame))
    return found, failed


class HpoStage(Stage):
    """Optimize, select (best-value, best-fit) and cross-validate; everything goes to ``<output>/<name>``."""

    def __init__(self, name: str, num_samples: int) -> None:
        self.name = name
        self.num_samples = num_samples

    def run(self, context: RunContext, previous: StageResult | None) -> StageResult:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        from ray.tune.schedulers import ASHAScheduler

        from optima_core.engine.optuna_searcher import ResumableOptunaSearch
        from optima_core.engine.progress import ProgressPrinter
        from optima_core.engine.tuning import launch_trials
        from optima_core.search.optuna_space import define_by_run, make_sampler

        name, num_samples = self.name, self.num_samples
        input_vars = previous.input_vars if previous is not None else context.input_vars()
        run_config = context.run_config
        folder = context.output / name
        folder.mkdir(parents=True, exist_ok=True)
        mode = run_config.monitor_op
        data = context.inputs(False)[0]
        searcher = ResumableOptunaSearch(
            space=define_by_run(context.search_space),
            metric=TARGET,
            mode=mode,
            sampler=make_sampler(
                run_config.use_TPESampler, run_config.use_multivariate_TPE, run_config.random_seed, num_samples
            ),
            study_name=name,
            storage=optuna.storages.RDBStorage(f"sqlite:///{folder / 'optuna_study.db'}"),
            pruning_max_t=int(run_config.ASHA_max_t) if run_config.use_ASHAScheduler else None,
        )
        scheduler = None
        if run_config.use_ASHAScheduler:
            scheduler = ASHAScheduler(
                time_attr="epoch",
                grace_period=run_config.ASHA_grace_period,
                max_t=run_config.ASHA_max_t,
                reduction_factor=run_config.ASHA_reduction_factor,
            )
        settings = TrialSettings(
            reference=context.reference,
            input_vars=tuple(input_vars),
            max_epochs=run_config.max_epochs,
            checkpoint_frequency=run_config.checkpoint_frequency,
            min_checkpoint_interval_s=RESUME_CHECKPOINT_INTERVAL_S,
            use_gpu=context.plan.gpus_per_trial > 0,
        )
        say(
            f"[{name}] {num_samples} trials, up to {context.plan.concurrent_trials} at once "
            f"({'TPE' if run_config.use_TPESampler else 'random'} sampling{', ASHA pruning' if scheduler else ''})"
        )
        trials_done = context.phases.clock("hpo", name)
        results = launch_trials(
            context,
            run_trial,
            {"settings": settings, "datasets": data},
            name="trials",
            storage=folder / "tune",
            param_space={},
            progress=ProgressPrinter(num_samples, run_config.monitor_name, mode, at_best_epoch=True),
            tune_options={
                "metric": TARGET,
                "mode": mode,
                "search_alg": searcher,
                "scheduler": scheduler,
                "num_samples": num_samples,
            },
        )
        trials_done()
        return select_and_crossvalidate(context, results, name, folder, input_vars)


def select_and_crossvalidate(
    context: RunContext, results: Any, name: str, folder: Path, input_vars: list[Any]
) -> StageResult:
    """Best-value and best-fit selection of a finished stage, its plots, and the cross-validation of both."""
    run_config = context.run_config
    mode = run_config.monitor_op
    selection_done = context.phases.clock("selection", name)
    found, failed = histories(results)
    if not found or len(failed) == len(results):
        raise every_trial_failed_error(name, results, folder / "tune")
    result = StageResult(name, folder, list(input_vars), failed_trials=failed)
    monitor = run_config.monitor_name
    result.best_value = best_value(found, monitor, mode)
    result.best_fit, result.fit_skipped = best_fit(
        found,
        monitor,
        mode,
        list(run_config.overtraining_conditions),
        lambda df, metric, op, conditions: context.hooks.fit_function(
            df=df, metric_to_fit=metric, metric_to_fit_op=op, overtraining_conditions=conditions
        ),
        run_config.fit_min_R_squared,
        run_config.check_overtraining_with_fit,
        fit_name=fit_description(context.manager),
    )
    optimizer = "Optuna" if (folder / STUDY_FILE).exists() else "Population Based Training"
    write_selection(result, monitor, objective_note(monitor, bool(run_config.optimize_on_best_value), optimizer))
    record_trials(folder, name, results, found, monitor, mode, [result.best_value, result.best_fit])
    plot_search_overview(context, found, folder, name)
    selection_done()
    plans: dict[str, FoldPlan] = {}
    for selection in (result.best_value, result.best_fit):
        if selection is None:
            continue
        same = result.best_value
        if (
            selection.kind == "best-fit"
            and same is not None
            and (same.trial_id, same.epoch) == (selection.trial_id, selection.epoch)
        ):
            say(f"[{name}] best-fit selects the same trial and epoch as best-value: its models are reused")
            continue
        plans[selection.kind] = selection_fold_plan(run_config, selection, selection.kind.replace("-", "_"))
    # one training serves both selections when they differ only in the epoch (crossvalidation.shared_groups)
    result.crossvalidation.update(
        crossvalidate_plans(context, plans, result.folder / "crossvalidation", result.input_vars, name)
    )
    value, fit = result.best_value, result.best_fit
    if fit is not None and value is not None and fit.kind not in result.crossvalidation:
        result.crossvalidation[fit.kind] = result.crossvalidation[value.kind]  # the same trial and epoch: reused
    return result


def every_trial_failed_error(name: str, results: Any, tune_folder: Path) -> OptimizationFailedError:
    """The error ending a stage none of whose trials succeeded: how many diverged, or what the others raised."""
    count = sum(diverged(result.metrics or {}) for result in results)
    if not count:
        return no_results_error(name, results, tune_folder)
    return OptimizationFailedError(
        f"[{name}] every one of the {len(results)} trials failed, {count} of them because the training diverged "
        "(the target metric became NaN or infinite): lower the learning rate (or check the inputs' scaling) so "
        f"that the training stays finite (Tune's logs: {tune_folder})"
    )


def plot_search_overview(context: RunContext, found: list[TrialHistory], folder: Path, stage: str) -> None:
    """Metric histories of all trials and a parallel-coordinates view of the search (if optima-plots is there).

    Nothing waits for these figures, so they are drawn in the background (phase ``search plots``) when they can be
    drawn by a side process (figures registered by name); otherwise here, after the figures drawn in the background
    (matplotlib's style settings are global).
    """
    from optima_core.engine import side_process

    figures = search_figures(context, found, folder)
    if not figures:
        return
    if all(isinstance(target, str) for target, _, _ in figures):
        context.draw_in_background(
            "search plots", stage, lambda: side_process.call(f"{side_process.__name__}:call_each", figures)
        )
    else:
        context.finish_background_figures()
        side_process.call_each(figures)


def search_figures(
    context: RunContext, found: list[TrialHistory], folder: Path
) -> list[tuple[Any, tuple[Any, ...], dict[str, Any]]]:
    """The search's figures to draw: ``(figure, args, kwargs)``, the figure as registered."""
    import pandas as pd

    run_config = context.run_config
    plots = context.manager.plots()
    monitor, mode = run_config.monitor_name, run_config.monitor_op
    figures: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
    if "metric_histories" in plots and found:
        histories = [(t.trial_id, t.frame) for t in found]
        figures.append(
            (plots["metric_histories"].target, (histories, monitor, folder / "metric_histories"), {"mode": mode})
        )
    if "search_overview" in plots and found:
        rows = pd.DataFrame(search_overview_rows(found, monitor, mode))  # the value selection ranks, named so
        figures.append(
            (plots["search_overview"].target, (rows, value_column(monitor), mode, folder / "search_overview"), {})
        )
    return figures


def write_selection(result: StageResult, monitor: str, note: str | None = None) -> None:
    lines = [f"[{result.name}] trial selection on {monitor}"]
    for selection in (result.best_value, result.best_fit):
        if selection is not None:
            lines.append(selection.describe(monitor))
            lines.append(f"  why: {selection.reason}")
            lines.append(f"  hyperparameters: {selection.config}")
    if result.best_fit is None:
        reasons = "; ".join(f"{t}: {r}" for t, r in list(result.fit_skipped.items())[:5])
        lines.append(f"best-fit: no trial could be fitted ({reasons}) -> best-value is used")
    if result.failed_trials:
        lines.append(f"failed trials: {', '.join(result.failed_trials)}")
    if note:
        lines.append(f"note: {note}")
    text = "\n".join(lines)
    say(text)
    (result.folder / "selection.txt").write_text(text + "\n")
    payload: dict[str, Any] = {
        s.kind: selection_entry(s) for s in (result.best_value, result.best_fit) if s is not None
    }
    if note:
        payload["objective_note"] = note
    (result.folder / "selection.json").write_text(json.dumps(payload, indent=2, default=repr))
