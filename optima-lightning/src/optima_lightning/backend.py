"""The Lightning backend: trains a ``LitModel`` with a Lightning ``Trainer`` inside OPTIMA's epoch loop.

The model class comes from the ``LitModel`` hook (the run-config's, or the built-in MLP), the data module from
the ``DataModule`` hook or :class:`~optima_lightning.data.DefaultDataModule`. One ``Trainer`` runs all epochs; a
callback hands each finished epoch to the core (which computes metrics, decides on stopping and checkpoints).
Predictions call ``predict_step`` with whole batches under ``torch.inference_mode()``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.backends import EndOfEpoch, TrainingBackend

CHECKPOINT_FILE = "model.ckpt"


def _lightning() -> Any:
    import lightning.pytorch as pl

    return pl


_NOTHING_TO_PROFILE = contextlib.nullcontext()


@functools.cache
def _profiler_class() -> type:
    from lightning.pytorch.profilers import PassThroughProfiler

    class QuietProfiler(PassThroughProfiler):
        """Records nothing, like Lightning's default profiler, at a fraction of its cost per hook.

        The Trainer wraps each of the ~25 hook calls of a training step in ``profiler.profile(name)``; the default
        does it through a generator-based context manager (about 54 us per step on the 2-core VM, 10 % of the
        Trainer's own cost per step). One shared no-op context does the same nothing.
        """

        # Lightning declares the generator-based context manager of its implementation; any context manager does.
        def profile(self, action_name: str) -> contextlib.AbstractContextManager[Any]:  # type: ignore[override]
            return _NOTHING_TO_PROFILE

    return QuietProfiler


def trainer_arguments(max_epochs: int, use_gpu: bool = False, **extra: Any) -> dict[str, Any]:
    """The keyword arguments of the ``Trainer`` that trains every model: OPTIMA's epoch loop does the logging,
    checkpointing and progress output, so Lightning's own are off; one device, no sanity check, no profiling.
    ``extra`` (callbacks, ``default_root_dir``, ...) is added as given. Lightning's loops check a step hook's
    signature once per function from then on (:mod:`optima_lightning.hook_signatures`)."""
    from optima_lightning.hook_signatures import remember_hook_signatures

    remember_hook_signatures()
    return {
        "max_epochs": max_epochs,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        "accelerator": "gpu" if use_gpu else "cpu",
        "devices": 1,
        "use_distributed_sampler": False,
        "profiler": _profiler_class()(),
        **extra,
    }


def data_module(
    hooks: Any, run_config: Any, model_config: dict[str, Any], input_handler: Any, seed: int = 0, **datasets: Any
) -> Any:
    """The run-config's ``DataModule`` or the built-in one (with ``LightningDataset``/``DataLoader``), set up."""
    from optima_lightning.data import DefaultDataModule

    custom = hooks.DataModule()
    if custom is not None:
        module = custom(
            run_config=run_config,
            model_config=model_config,
            input_handler=input_handler,
            **{f"dataset_{k}": datasets.get(k) for k in ("train", "val", "test", "predict")},
        )
    else:
        module = DefaultDataModule(
            run_config,
            model_config,
            input_handler,
            **{f"dataset_{k}": v for k, v in datasets.items()},
            dataset_class=hooks.LightningDataset(),
            loader_class=hooks.DataLoader(),
            seed=seed,
        )
    module.setup("fit")
    return module


def split_batches(module: Any, split: str, predict_module: Callable[[], Any]) -> Any:
    """The batches of one split in event order: the built-in module's loader, else ``predict_module()``'s."""
    if hasattr(module, "loader"):
        return module.loader(split, shuffle=False)
    return predict_module().predict_dataloader()


def predict_batches(model: Any, batches: Any) -> np.ndarray:
    """``model.predict_step`` of every batch as the dataloader yields it (the reference's full batch
    ``(inputs, targets[, weights])`` with the built-in data module), concatenated; eval mode, no gradients."""
    import torch

    was_training = model.training
    model.eval()
    outputs = []
    try:
        with torch.inference_mode():
            for index, batch in enumerate(batches):
                batch = tuple(t.to(model.device) for t in batch) if isinstance(batch, (tuple, list)) else batch
                outputs.append(model.predict_step(batch, index).detach().cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs).numpy() if outputs else np.empty((0,))


class LightningBackend(TrainingBackend):
    """Trains Lightning models for OPTIMA."""

    name = "Lightning"
    weights_metrics_natively = False
    model_suffix = ".ckpt"

    def __init__(self, job: Any) -> None:
        super().__init__(job)
        self.model: Any = None
        self.data_module: Any = None
        self.trainer: Any = None
        self._resume_from: Path | None = None
        self._pending_mutation: dict[str, Any] | None = None

    # -- construction -----------------------------------------------------------------------------------------

    def _data_module(self, **datasets: Any) -> Any:
        job = self.job
        return data_module(job.hooks, job.run_config, job.model_config, job.input_handler, job.seed, **datasets)

    def _metric_objects(self, specs: list[tuple[str, Any, dict[str, Any]]]) -> list[tuple[str, Any]]:
        return [(f"{prefix}{name}", cls(**kwargs)) for prefix in ("train_", "val_") for name, cls, kwargs in specs]

    def _new_model(self, first_prepare: bool) -> None:
        pl = _lightning()
        job = self.job
        pl.seed_everything(job.seed % 2**32, workers=False, verbose=False)
        lit_model = job.hooks.LitModel()
        if lit_model is None:
            raise RuntimeError("no LitModel class is available (define LitModel in the run-config)")
        self.data_module = self._data_module(**{k: v for k, v in job.data.items() if k in ("train", "val", "test")})
        self.model = lit_model(
            model_config=dict(job.model_config),
            input_vars=job.input_handler.get_vars(),
            metrics=self._metric_objects(job.metrics.native),
            weighted_metrics=self._metric_objects(job.metrics.weighted_native),
        )
        self.model.prepare(job.input_handler, self.data_module, first_prepare)

    def build(self) -> None:
        self._new_model(first_prepare=True)

    def restore(self, checkpoint_dir: Path) -> None:
        import torch

        self._new_model(first_prepare=False)
        local = Path(self.job.workdir) / "resume.ckpt"
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(checkpoint_dir) / CHECKPOINT_FILE, local)  # Tune's directory is temporary
        state = torch.load(local, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["state_dict"])
        self._resume_from = local

    def mutate(self, model_config: dict[str, Any]) -> None:
        if hasattr(self.model, "update_hyperparameters"):
            self.model.update_hyperparameters(dict(model_config))
            self._pending_mutation = dict(model_config)  # the optimizer is restored later, in fit()

    # -- training ---------------------------------------------------------------------------------------------

    def fit(self, initial_epoch: int, max_epochs: int, end_of_epoch: EndOfEpoch) -> None:
        pl = _lightning()
        backend = self

        class _EpochCallback(pl.Callback):  # type: ignore[name-defined]
            def on_train_start(self, trainer: Any, pl_module: Any) -> None:
                if backend._pending_mutation is not None and hasattr(pl_module, "update_hyperparameters"):
                    pl_module.update_hyperparameters(backend._pending_mutation)  # now reaches the optimizer too
                    backend._pending_mutation = None

            def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
                logs = {
                    k: float(v) for k, v in trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1
                }
                if end_of_epoch(trainer.current_epoch, logs):
                    trainer.should_stop = True

        if self._resume_from is None and self.trainer is not None and initial_epoch > 0:
            # A second fit() on the same model continues the first (epoch count and optimizer state); a new
            # Trainer alone would start again at epoch 0 with a fresh optimizer.
            self._resume_from = Path(self.job.workdir) / "continue.ckpt"
            self._resume_from.parent.mkdir(parents=True, exist_ok=True)
            self.trainer.save_checkpoint(self._resume_from)
        callbacks = [_EpochCallback()] + [cls(**kwargs) for cls, kwargs in self.job.run_config.callbacks]
        use_gpu = bool(self.job.extra.get("use_gpu"))
        self.trainer = pl.Trainer(
            **trainer_arguments(max_epochs, use_gpu, callbacks=callbacks, default_root_dir=str(self.job.workdir))
        )
        resume: dict[str, Any] = {}
        if self._resume_from is not None:
            # The run's own checkpoint. Its hyperparameters hold whatever the LitModel gave save_hyperparameters(),
            # such as the torchmetrics objects of the documented constructor, which a weights-only load refuses.
            resume = {"ckpt_path": str(self._resume_from)}
            if "weights_only" in inspect.signature(self.trainer.fit).parameters:  # where this Lightning has it
                resume["weights_only"] = False
        self.trainer.fit(self.model, datamodule=self.data_module, **resume)
        self._resume_from = None

    # -- evaluation -------------------------------------------------------------------------------------------

    def _prediction_batches(self, split: str) -> Any:
        return split_batches(self.data_module, split, lambda: self._data_module(predict=self.job.data[split]))

    def predict(self, split: str) -> np.ndarray:
        return predict_batches(self.model, self._prediction_batches(split))

    # -- persistence ------------------------------------------------------------------------------------------

    def save_checkpoint(self, directory: Path) -> None:
        self.trainer.save_checkpoint(Path(directory) / CHECKPOINT_FILE)

    def export(self, path_without_suffix: Path) -> Path:
        import lightning
        import torch

        path = Path(path_without_suffix).with_suffix(self.model_suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "state_dict": self.model.state_dict(),
                "hyper_parameters": dict(getattr(self.model, "hparams", {})),
                "pytorch-lightning_version": lightning.__version__,
            },
            path,
        )
        return path

    @classmethod
    def load_model(
        cls, path: Path, run_config: Any, hooks: Any, input_handler: Any, model_config: dict[str, Any], data: Any
    ) -> Any:
        from optima_lightning.evaluation import LightningLoadedModel

        return LightningLoadedModel.load(Path(path), run_config, hooks, input_handler, model_config, data)

    def get_weights(self) -> Any:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def set_weights(self, weights: Any) -> None:
        self.model.load_state_dict(weights)
