"""Evaluation of Lightning models: the loaded model the core evaluates, and the built-in ``get_loss`` and
``get_native_metric_values`` on one dataloader.

As the reference documents for Lightning, ``dataset_or_dataloader`` is the dataloader of one split, whose batches
are ``(inputs, targets)`` or ``(inputs, targets, weights)`` with the built-in data module.

* ``get_loss`` runs the model's ``validation_step`` over the dataloader (``Trainer.validate``) and returns what it
  logged as ``val_loss`` (the built-in MLP: the event-weighted mean loss, class weights included, without the
  L1/L2 penalty).
* ``get_native_metric_values`` calls ``predict_step`` on every batch and updates the torchmetrics objects with the
  model's ``metric_args(predictions, targets)`` (the built-in MLP's conversion when the model has none). Torchmetrics
  take no event weights, so the values are unweighted.

Both answer ``None`` when the run-config's ``model_type`` is not ``'Lightning'``. The loaded model predicts through
the run's data module too (``dataset_predict``), so ``predict_step`` always gets the dataloader's full batch.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from optima_core.backends import LoadedModel
from optima_core.errors import OptimaUserError
from optima_core.inputs.dataset import EventData
from optima_lightning.backend import data_module, predict_batches, split_batches
from optima_lightning.plugin import is_lightning_run


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning's INFO lines (accelerators found, tips) and its hints about the environment (an ``srun`` on the
    PATH, deprecations inside Lightning) left out: one Trainer per split would repeat them on the run's console."""
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"The `srun` command is available")
            warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def get_loss(run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> float | None:
    """Hook ``get_loss``: the ``val_loss`` the model logs in ``validation_step`` over the whole ``dataset``."""
    if not is_lightning_run(run_config):
        return None
    import lightning.pytorch as pl

    with _quiet_lightning():
        trainer = pl.Trainer(
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            accelerator="cpu",
            devices=1,
        )
        results = trainer.validate(model, dataloaders=dataset, verbose=False)
    if not results or "val_loss" not in results[0]:
        raise OptimaUserError(
            f"the LitModel {type(model).__name__} logged no 'val_loss' in validation_step (logged: "
            f"{', '.join(sorted(results[0])) if results else 'nothing'}); log it, or define get_loss in the run-config"
        )
    return float(results[0]["val_loss"])


def _metric_args(model: Any) -> Any:
    function = getattr(model, "metric_args", None)
    if function is None:
        from optima_lightning.mlp import LitModel

        function = LitModel.metric_args
    return function


def _as_python(value: Any) -> Any:
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    return float(array) if array.size == 1 else array.astype(np.float64).tolist()


def get_native_metric_values(
    run_config: Any,
    native_metrics: list[Any],
    model_config: Any,
    model: Any,
    dataset_or_dataloader: Any,
    input_handler: Any,
) -> list[Any] | None:
    """Hook ``get_native_metric_values``: the values of the torchmetrics ``native_metrics`` on one dataloader."""
    if not is_lightning_run(run_config):
        return None
    metric_args = _metric_args(model)
    metrics = list(native_metrics)
    for metric in metrics:
        metric.reset()
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for index, batch in enumerate(dataset_or_dataloader):
                if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                    raise OptimaUserError(
                        "the built-in get_native_metric_values expects batches (inputs, targets) or "
                        "(inputs, targets, weights); define it in the run-config for other batch structures"
                    )
                predictions = model.predict_step(batch, index)
                preds, target = metric_args(predictions, batch[1])
                for metric in metrics:
                    metric.update(preds, target)
    finally:
        model.train(was_training)
    return [_as_python(metric.compute()) for metric in metrics]


class LightningLoadedModel(LoadedModel):
    """An exported Lightning model (rebuilt with the ``LitModel`` hook) and the data module of its splits."""

    def __init__(self, model: Any, module: Any, make_predict_module: Any, data: Any) -> None:
        super().__init__(model)
        self.module = module
        self.make_predict_module = make_predict_module
        self.data = data

    @classmethod
    def load(
        cls, path: Path, run_config: Any, hooks: Any, input_handler: Any, model_config: dict[str, Any], data: Any
    ) -> LightningLoadedModel:
        state = torch.load(Path(path), map_location="cpu", weights_only=False)
        hparams = dict(state.get("hyper_parameters", {}))
        config = dict(model_config or hparams.get("model_config") or {})
        config.setdefault("batch_size", 1024)
        model = hooks.LitModel()(
            model_config=hparams.get("model_config", config),
            input_vars=hparams.get("input_vars", input_handler.get_vars()),
            metrics=[],
            weighted_metrics=[],
            **({"num_outputs": hparams["num_outputs"]} if "num_outputs" in hparams else {}),
        )
        datasets = {k: v for k, v in dict(data).items() if k in ("train", "val", "test") and v is not None}
        module = data_module(hooks, run_config, config, input_handler, **datasets)
        model.prepare(input_handler, module, False)
        model.load_state_dict(state["state_dict"])
        model.eval()

        def predict_module(dataset: Any) -> Any:
            return data_module(hooks, run_config, config, input_handler, predict=dataset)

        return cls(model, module, predict_module, datasets)

    def predict_events(self, data: EventData) -> np.ndarray:
        """``predict_step`` of every batch of the predict dataloader the run's data module builds for ``data``."""
        module = self.make_predict_module(data)
        return predict_batches(self.model, split_batches(module, "predict", lambda: module))

    def dataset(self, split: str, weighted: bool = True) -> Any:
        """The dataloader of ``split`` (torchmetrics ignore weights, so ``weighted`` changes nothing)."""
        return split_batches(self.module, split, lambda: self.make_predict_module(self.data[split]))

    def metric_objects(self, specs: list[tuple[str, Any, dict[str, Any]]]) -> list[Any]:
        return [metric_class(**kwargs) for _, metric_class, kwargs in specs]
