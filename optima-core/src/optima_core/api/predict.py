"""Predictions of a finished run's fold models for new rows of data: :meth:`LoadedRun.predict`.

Each event gets the prediction of the fold model(s) that never trained on it, found by its event number with the
run's own splitting rule (:mod:`optima_core.inputs.splitting`): the model(s) whose testing set holds the event (the
mean of all folds for a fixed testing set), else the one whose validation set holds it. So predicting the run's
dataset gives every event its cross-validation output. Models are loaded by their backend
(:meth:`~optima_core.backends.TrainingBackend.load_model`) and predict through the run's data pipeline
(:meth:`~optima_core.backends.LoadedModel.predict_events`), with the run's run-config and plugins; the input
variables are taken raw, as in the input file (the models scale them themselves).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.api.summary import FIXED, RunSummary, SelectionSummary, StageSummary
from optima_core.errors import OptimaUserError

#: The hooks whose replacement makes the split unknown to OPTIMA (``predict`` then needs ``fold=``).
SPLIT_HOOKS = ("get_experiment_inputs", "get_training_data")


class LoadedRun:
    """A finished run read from its output folder: its :class:`RunSummary` and :meth:`predict`."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary
        self._loaded: tuple[Any, Any] | None = None

    @property
    def output(self) -> Path:
        return self.summary.output

    @property
    def stages(self) -> tuple[StageSummary, ...]:
        return self.summary.stages

    @property
    def report(self) -> Path | None:
        return self.summary.report

    def stage(self, name: str | None = None) -> StageSummary:
        return self.summary.stage(name)

    def __repr__(self) -> str:
        return f"LoadedRun({self.output}, stages: {', '.join(s.name for s in self.stages) or 'none'})"

    def run_config_and_plugins(self) -> tuple[Any, Any]:
        """The run-config the run executed (its ``run_config.py``) and a plugin manager with it, loaded once."""
        if self._loaded is None:
            from optima_core.config.loader import load_run_config
            from optima_core.plugins.manager import create_plugin_manager

            defaults = self.output / "defaults_config.py"
            run_config = load_run_config(self.output / "run_config.py", defaults if defaults.is_file() else None)
            self._loaded = (run_config, create_plugin_manager(run_config_module=run_config.module))
        return self._loaded

    def predict(
        self, dataframe: Any, stage: str | None = None, selection: str | None = None, *, fold: int | None = None
    ) -> np.ndarray:
        """Model outputs ``[events, outputs]`` for the rows of ``dataframe`` (see the module docstring).

        ``dataframe`` (a pandas DataFrame, or a dict of columns) holds the stage's input variables, raw, and the
        event-number column. ``stage``: a stage name (default: the last stage); ``selection``: ``'best_value'``
        (default), ``'best_fit'``, or ``'fixed'`` for fixed hyperparameters. ``fold=k`` applies the model of fold
        ``k`` to every row instead (no event numbers needed; for runs split at random).
        """
        stage_summary = self.summary.stage(stage)
        chosen = stage_summary.selection(selection or ("best_value" if stage_summary.name != FIXED else None))
        run_config, manager = self.run_config_and_plugins()
        variables = stage_variables(stage_summary, run_config)
        inputs = input_matrix(dataframe, variables)
        backend = manager.descriptor("backend", run_config.model_type).load()
        suffix = backend.model_suffix
        single = chosen.models_dir / f"model{suffix}"
        if fold is not None:
            if isinstance(fold, bool) or not isinstance(fold, int) or fold < 0:
                raise OptimaUserError(f"fold = {fold!r}: expected a fold number 0, 1, ... (model_fold<k>{suffix})")
            plan = {fold: np.arange(len(inputs))}
        elif single.is_file():
            plan = {-1: np.arange(len(inputs))}
        else:
            plan = fold_plan(run_config, manager, _column(dataframe, run_config.event_number_column, "event-number"))
        predictor = _Predictor(run_config, manager, backend, chosen, variables)
        outputs: np.ndarray | None = None
        counts = np.zeros(len(inputs))
        for index, rows in plan.items():
            if len(rows) == 0:
                continue
            path = single if index < 0 else chosen.models_dir / f"model_fold{index}{suffix}"
            predicted = predictor.predict(path, inputs[rows])
            if outputs is None:
                outputs = np.zeros((len(inputs), predicted.shape[1]))
            outputs[rows] += predicted
            counts[rows] += 1
        if outputs is None:
            return np.zeros((0, 1))
        return outputs / counts[:, None]


class _Predictor:
    """Loads fold models of one selection and predicts raw inputs with them."""

    def __init__(
        self, run_config: Any, manager: Any, backend: Any, chosen: SelectionSummary, variables: list[str]
    ) -> None:
        from optima_core.engine.context import new_input_handler

        self.run_config, self.manager, self.backend, self.chosen = run_config, manager, backend, chosen
        self.input_handler = new_input_handler(manager.hooks, run_config)
        self.input_handler.set_vars(list(variables))
        self.variables = variables

    def predict(self, path: Path, inputs: np.ndarray) -> np.ndarray:
        from optima_core.inputs.dataset import EventData
        from optima_core.plugins.active import using_manager

        if not path.is_file():
            raise OptimaUserError(
                f"the model {path} does not exist (its training failed, or the run has not written it yet); "
                f"models in {path.parent}: {', '.join(sorted(p.name for p in path.parent.glob('model*'))) or 'none'}"
            )
        events = EventData(
            {"Input": inputs, "Target": np.zeros(len(inputs), np.float32), "Weight": np.ones(len(inputs), np.float32)},
            self.variables,
        )
        with using_manager(self.manager):
            loaded = self.backend.load_model(
                path,
                self.run_config,
                self.manager.hooks,
                self.input_handler,
                dict(self.chosen.config),
                {"train": events},
            )
            predicted = loaded.predict_events(events)
        return np.asarray(predicted, np.float64).reshape(len(inputs), -1)


def stage_variables(stage: StageSummary, run_config: Any) -> list[str]:
    """The input variables of ``stage``'s models (all numeric columns of the input file when none were listed)."""
    if stage.input_vars is not None:
        return list(stage.input_vars)
    from optima_core.inputs.loading import resolve_layout
    from optima_core.inputs.readers import open_columns

    columns = open_columns(run_config.inputs_file, run_config.get("inputs_tree_name"))
    return [str(v) for v in resolve_layout(columns, run_config, None).variables]


def _column(dataframe: Any, name: str, what: str) -> np.ndarray:
    columns = getattr(dataframe, "columns", None)
    names = [str(c) for c in (columns if columns is not None else list(dataframe))]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else f"; columns: {names[:20]}"
        raise OptimaUserError(f"the dataframe has no {what} column '{name}'{hint}")
    return np.asarray(dataframe[name])


def input_matrix(dataframe: Any, variables: list[str]) -> np.ndarray:
    """The float32 ``[rows, variables]`` inputs; a missing column or a non-finite value is an OptimaUserError."""
    if not hasattr(dataframe, "__getitem__") or isinstance(dataframe, (str, bytes, np.ndarray)):
        raise OptimaUserError(
            f"dataframe = {type(dataframe).__name__}: expected a pandas DataFrame (or a dict of columns) holding the "
            f"input variables {variables}"
        )
    columns = [_column(dataframe, v, "input-variable") for v in variables]
    inputs = np.stack([np.asarray(c, np.float64) for c in columns], axis=1) if columns else np.zeros((0, 0))
    bad = [v for v, c in zip(variables, inputs.T, strict=True) if not np.isfinite(c).all()]
    if bad:
        raise OptimaUserError(f"the dataframe's column(s) {bad} hold NaN or infinite values: expected finite numbers")
    return inputs.astype(np.float32)


def fold_plan(run_config: Any, manager: Any, event_numbers: np.ndarray) -> dict[int, np.ndarray]:
    """Rows per fold model: the events each fold held out (testing set, else validation set), by event number."""
    from optima_core.inputs import plugin as builtin_inputs
    from optima_core.inputs.pipeline import splitting_condition
    from optima_core.inputs.splitting import EventNumberCondition, EventNumberSplit, split_indices

    replaced = [h for h in SPLIT_HOOKS if any(p != builtin_inputs.__name__ for p in manager.hook_providers(h))]
    if replaced:
        raise OptimaUserError(
            f"the run splits its data with its own {' and '.join(replaced)}, so the fold that never saw an event is "
            "unknown to OPTIMA: pass fold=k to predict with the model of fold k"
        )
    spec = splitting_condition(run_config)
    if not isinstance(spec, EventNumberSplit) or not isinstance(spec.validation, EventNumberCondition):
        raise OptimaUserError(
            "the run split its events at random (use_eventNums_splitting = False), so the fold that never saw an "
            "event cannot be found from new data: pass fold=k to predict with the model of fold k, or split by "
            "event number (use_eventNums_splitting = True) in the run"
        )
    n = spec.validation.n
    use_test = bool(run_config.use_testing_dataset)
    # The conditions depend on the event number modulo N only: split one representative event per residue.
    folds = split_indices(
        n, np.arange(n), spec, do_kfold=True, fixed_test_dataset=bool(use_test and run_config.fixed_testing_dataset)
    )
    labels = np.zeros((len(folds), n), dtype=np.int8)
    for index, sets in enumerate(folds):
        for label, rows in enumerate(sets):
            labels[index, rows] = label
    residues = np.mod(np.asarray(event_numbers, np.int64), n)
    per_event = labels[:, residues]  # [folds, events]
    held_out = np.where((per_event == 2).any(axis=0), per_event == 2, per_event == 1)
    return {index: np.flatnonzero(held_out[index]) for index in range(len(folds))}
