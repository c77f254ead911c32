"""The built-in Lightning MLP: what OPTIMA trains when ``model_type = 'Lightning'`` and the run-config has no LitModel.

It mirrors the built-in Keras MLP hyperparameter for hyperparameter (names, defaults and meaning; see
:mod:`optima_lightning.hyperparameters`): inputs -> non-linear normalisation -> ``num_layers`` hidden layers (Linear,
activation, BatchNorm between hidden layers unless the activation is SELU, Dropout / AlphaDropout) -> one sigmoid
output for a single target column, or a softmax over ``k`` outputs for ``k`` target columns. Trained with Adam on a
weighted binary / categorical crossentropy or KL divergence (:mod:`optima_lightning.losses`).

Life cycle, as the Lightning backend drives it::

    model = LitModel(model_config=..., input_vars=..., metrics=..., weighted_metrics=...)
    model.prepare(input_handler, data_module, first_prepare=True)   # build layers, fit the normalisation
    trainer.fit(model, data_module); trainer.save_checkpoint(path)

    model = LitModel(same arguments)                                 # restore
    model.prepare(input_handler, data_module, first_prepare=False)  # build the same layers, no refit
    model.load_state_dict(torch.load(path, weights_only=False)["state_dict"])

``LitModel.load_from_checkpoint(path)`` works too: the output size is saved in the hyperparameters (``num_outputs``),
so the layers are built in the constructor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import lightning
import torch
from torch import nn
from torchmetrics import Metric

from optima_lightning import losses
from optima_lightning.hyperparameters import resolve
from optima_lightning.layers import activation, initialize_
from optima_lightning.normalization import NonLinearNormalization

# Keras' BatchNormalization defaults (momentum 0.99 is torch's 0.01: torch weights the new batch, Keras the old mean).
_BATCHNORM_EPS = 1e-3
_BATCHNORM_MOMENTUM = 0.01


def _plain(value: Any) -> Any:
    """``value`` with numpy / 0-d tensor scalars turned into Python numbers, so checkpoints load with weights_only."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def _fused_adam_supported(parameters: Sequence[torch.Tensor]) -> bool:
    return bool(parameters) and all(
        p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64) for p in parameters
    )


def unpack_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``(inputs, targets, weights)`` of a batch ``(inputs, targets[, weights])`` or a bare inputs tensor."""
    if isinstance(batch, torch.Tensor):
        return batch, None, None
    if isinstance(batch, (tuple, list)) and 1 <= len(batch) <= 3:
        inputs, targets, weights = (*batch, None, None)[:3]
        return inputs, targets, weights
    raise TypeError(f"expected a batch (inputs, targets[, weights]) or an inputs tensor, got {type(batch).__name__}")


class LitModel(lightning.LightningModule):
    """OPTIMA's built-in MLP classifier for Lightning; see the module docstring for the architecture and life cycle.

    Args:
        model_config: the hyperparameters (search-space keys); missing ones take the Keras built-in's defaults.
            Keys the MLP does not know (e.g. ``batch_size``) are kept in the hyperparameters and otherwise ignored.
        input_vars: the input variables in model-input order (``input_handler.get_vars()``).
        metrics: ``(name, torchmetrics.Metric)`` pairs, names prefixed ``train_`` / ``val_``: updated in the training
            / validation step with :meth:`metric_args` and logged under their names once per epoch.
        weighted_metrics: the same for weighted metrics; kept (and moved with the model) but not computed here,
            because OPTIMA's engine computes weighted metrics itself.
        num_outputs: the output size; ``None`` until :meth:`prepare` infers it from the targets. Saved in the
            hyperparameters so that ``load_from_checkpoint`` can build the layers right away.
    """

    def __init__(
        self,
        model_config: Mapping[str, Any],
        input_vars: Sequence[Any],
        metrics: Sequence[tuple[str, Metric]] | None = None,
        weighted_metrics: Sequence[tuple[str, Metric]] | None = None,
        num_outputs: int | None = None,
    ) -> None:
        super().__init__()
        if input_vars is None:
            raise ValueError("the built-in Lightning MLP needs the list of input variables (input_vars)")
        # Rebinding the arguments before save_hyperparameters() stores these plain, checkpoint-safe copies.
        model_config = _plain(dict(model_config))
        input_vars = _plain(list(input_vars))
        num_outputs = None if num_outputs is None else int(num_outputs)
        self.save_hyperparameters(ignore=["metrics", "weighted_metrics"])
        self.mlp_config = resolve(model_config)

        self.metric_names = [name for name, _ in metrics or []]
        self.metric_modules = nn.ModuleList([metric for _, metric in metrics or []])
        self.weighted_metric_names = [name for name, _ in weighted_metrics or []]
        self.weighted_metric_modules = nn.ModuleList([metric for _, metric in weighted_metrics or []])
        self.train_loss_mean = losses.WeightedMean()
        self.val_loss_mean = losses.WeightedMean()
        self.test_loss_mean = losses.WeightedMean()
        # Stages whose epoch accumulators have not been handed to self.log() yet in the current epoch.
        self._unlogged_stages: set[str] = {"train", "val", "test"}

        self.normalization: NonLinearNormalization | None = None
        self.hidden: nn.Sequential | None = None
        self.head: nn.Linear | None = None
        if num_outputs is not None:
            self._build(num_outputs)

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning records the running hook's name on the module about 45 times per training step; nn.Module's
        # __setattr__ (which looks for parameters, buffers and submodules first) made that ~5% of a small MLP's step.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    # -- building ------------------------------------------------------------------------------------------------

    @property
    def num_outputs(self) -> int | None:
        """Width of the output layer (1 for a binary target, ``k`` for ``k`` classes); ``None`` before prepare."""
        return self.hparams.get("num_outputs")

    def _build(self, num_outputs: int) -> None:
        config = self.mlp_config
        config.class_weight_vector(max(2, num_outputs))  # fail early on a loss_weight_class_N beyond the classes
        num_inputs = len(self.hparams["input_vars"])
        selu = config.activation == "selu"
        layers: list[nn.Module] = []
        width = num_inputs
        for index, units in enumerate(config.hidden_units):
            linear = nn.Linear(width, units)
            initialize_(linear.weight, config.kernel_initializer)
            initialize_(linear.bias, config.bias_initializer)
            layers += [linear, activation(config.activation)]
            if not selu and index < len(config.hidden_units) - 1:
                layers.append(nn.BatchNorm1d(units, eps=_BATCHNORM_EPS, momentum=_BATCHNORM_MOMENTUM))
            layers.append(nn.AlphaDropout(config.dropout) if selu else nn.Dropout(config.dropout))
            width = units
        head = nn.Linear(width, num_outputs)
        initialize_(head.weight, "glorot_uniform")  # Keras' Dense defaults for the output layer
        initialize_(head.bias, "zeros")

        self.normalization = NonLinearNormalization(num_inputs)
        self.hidden = nn.Sequential(*layers)
        self.head = head
        self.hparams["num_outputs"] = num_outputs

    def prepare(self, input_handler: Any, data_module: Any, first_prepare: bool) -> None:
        """Build the layers and, on the first call, set up the input normalisation.

        Called by OPTIMA after creating the model (``first_prepare=True``) and after restoring it from a checkpoint
        (``first_prepare=False``). The output size comes from the hyperparameters if known, else from the targets of
        the first training batch. With ``first_prepare=True`` the non-linear scalings are taken from
        ``input_handler.get_nonlinear_scaling()`` and mean / standard deviation are fitted on every batch of
        ``data_module.train_dataloader()``. With ``first_prepare=False`` nothing is fitted: the normalisation comes
        with the state dict that is loaded next. Layers that already exist are never rebuilt.
        """
        if self.head is None:
            self._build(self.num_outputs or self._infer_num_outputs(data_module))
        if not first_prepare:
            return
        assert self.normalization is not None
        scalings = input_handler.get_nonlinear_scaling() if input_handler is not None else {}
        input_vars = self.hparams["input_vars"]
        self.normalization.set_scaling(input_vars, scalings)
        self.normalization.fit((unpack_batch(batch)[0] for batch in data_module.train_dataloader()), input_vars)

    def _infer_num_outputs(self, data_module: Any) -> int:
        batch = next(iter(data_module.train_dataloader()), None)
        if batch is None:
            raise ValueError("cannot build the MLP: the training dataloader yields no batches")
        inputs, targets, _ = unpack_batch(batch)
        if targets is None:
            raise ValueError("cannot build the MLP: training batches must be (inputs, targets[, weights])")
        if inputs.shape[-1] != len(self.hparams["input_vars"]):
            raise ValueError(
                f"training inputs have {inputs.shape[-1]} columns but {len(self.hparams['input_vars'])} input "
                f"variables were given"
            )
        return int(targets.shape[-1]) if targets.dim() > 1 else 1

    # -- forward and losses --------------------------------------------------------------------------------------

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The output layer's pre-activation values ``[B, num_outputs]``."""
        if self.head is None or self.hidden is None or self.normalization is None:
            raise RuntimeError("the MLP has no layers yet: call prepare() first")
        return self.head(self.hidden(self.normalization(inputs)))

    @staticmethod
    def probabilities(logits: torch.Tensor) -> torch.Tensor:
        """Sigmoid of a single output column, softmax over several."""
        return torch.sigmoid(logits) if logits.shape[-1] == 1 else torch.softmax(logits, dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``[B, num_outputs]`` for inputs ``[B, len(input_vars)]``."""
        return self.probabilities(self.logits(inputs))

    def event_losses(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits, targets [B, k], per-event loss [B], event weights [B])`` of one batch.

        The per-event loss already includes the class weight (``loss_weight_class_N``); the event weights are those
        of the batch (ones without weights). The batch loss is ``sum(weights * loss) / sum(weights)``; the
        regularisation penalty is not included.
        """
        inputs, targets, weights = unpack_batch(batch)
        if targets is None:
            raise ValueError("computing a loss needs batches (inputs, targets[, weights])")
        logits = self.logits(inputs)
        targets = targets.reshape(targets.shape[0], -1).to(logits.dtype)
        if targets.shape[-1] != logits.shape[-1]:
            raise ValueError(f"targets have {targets.shape[-1]} columns but the model has {logits.shape[-1]} outputs")
        class_weights = self.mlp_config.class_weight_vector(max(2, logits.shape[-1]))
        loss = losses.per_event_loss(logits, targets, self.mlp_config.loss_function, class_weights)
        if weights is None:
            weights = torch.ones_like(loss)
        return logits, targets, loss, weights.reshape(-1).to(loss.dtype)

    def regularization(self) -> torch.Tensor | float:
        """``l1_lambda * sum|W| + l2_lambda * sum W^2`` over the hidden layers' weight matrices (not biases)."""
        kernels = [m.weight for m in self.hidden or [] if isinstance(m, nn.Linear)]
        return losses.regularization(kernels, self.mlp_config.l1_lambda, self.mlp_config.l2_lambda)

    @staticmethod
    def metric_args(probabilities: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(preds, target)`` as torchmetrics' Binary* / Multiclass* metrics expect them.

        One output: ``preds`` is the sigmoid output ``[B]`` (probability of target 1) and ``target`` the integer
        label ``[B]`` (``target > 0.5``). Several outputs: ``preds`` are the probabilities ``[B, k]`` and ``target``
        the class index (argmax of the one-hot target).
        """
        targets = targets.reshape(targets.shape[0], -1)
        if probabilities.shape[-1] == 1:
            return probabilities[:, 0], (targets[:, 0] > 0.5).long()
        return probabilities, targets.argmax(dim=-1)

    def _metrics(self, prefix: str) -> list[tuple[str, Metric]]:
        pairs = zip(self.metric_names, self.metric_modules, strict=True)
        return [(name, cast(Metric, metric)) for name, metric in pairs if name.startswith(prefix)]

    def _update_metrics(self, prefix: str, logits: torch.Tensor, targets: torch.Tensor) -> None:
        if not self.metric_names:
            return
        preds, labels = self.metric_args(self.probabilities(logits.detach()), targets)
        for _, metric in self._metrics(prefix):
            metric.update(preds, labels)

    # Every value is logged as a torchmetrics Metric that accumulates the whole epoch (on_step=False, on_epoch=True),
    # and Lightning computes a logged Metric only at the end of the epoch. Handing it to self.log() once per epoch
    # therefore logs the same value as doing so after every update, but skips the per-call cost of self.log()
    # (several hundred microseconds on a CPU, of the order of a whole training step of a small MLP).
    def _log_epoch_values(self, stage: str, loss_mean: losses.WeightedMean) -> None:
        if stage not in self._unlogged_stages:
            return
        self._unlogged_stages.discard(stage)
        self.log(f"{stage}_loss", loss_mean, on_step=False, on_epoch=True)
        for name, metric in self._metrics(f"{stage}_"):
            self.log(name, metric, on_step=False, on_epoch=True)

    # -- Lightning steps -----------------------------------------------------------------------------------------

    def training_step(self, batch: Any, batch_idx: int = 0) -> torch.Tensor:
        """Weighted mean loss of the batch plus the L1/L2 penalty; logs it as ``train_loss``.

        The logged epoch value is the batch-size weighted mean of the batch values, as Keras reports it.
        """
        logits, targets, loss, weights = self.event_losses(batch)
        objective = losses.weighted_mean(loss, weights) + self.regularization()
        self.train_loss_mean.update(objective, targets.shape[0])
        self._update_metrics("train_", logits, targets)
        self._log_epoch_values("train", self.train_loss_mean)
        return objective

    def validation_step(self, batch: Any, batch_idx: int = 0) -> None:
        """Logs ``val_loss``: the weighted mean loss over the whole validation set (without the L1/L2 penalty)."""
        logits, targets, loss, weights = self.event_losses(batch)
        self.val_loss_mean.update(loss, weights)
        self._update_metrics("val_", logits, targets)
        self._log_epoch_values("val", self.val_loss_mean)

    def test_step(self, batch: Any, batch_idx: int = 0) -> None:
        """Logs ``test_loss``, computed like ``val_loss``."""
        _, _, loss, weights = self.event_losses(batch)
        self.test_loss_mean.update(loss, weights)
        self._log_epoch_values("test", self.test_loss_mean)

    @torch.no_grad()
    def predict_step(self, batch: Any, batch_idx: int = 0, dataloader_idx: int = 0) -> torch.Tensor:
        """Class probabilities for the inputs of ``batch`` (a full ``(inputs, targets[, weights])`` batch or a tensor).

        Never tracks gradients. Outside ``Trainer.predict`` call ``model.eval()`` first, or dropout stays active.
        """
        return self(unpack_batch(batch)[0])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam with ``learning_rate``, ``(Adam_beta_1, 1 - one_minus_Adam_beta_2)`` and ``Adam_epsilon``.

        The fused implementation where torch has one for the parameters' device (CPU and CUDA): the same update
        as the default per-tensor loop (equal to float rounding), about 20% less time per step for a small MLP on a CPU.

        torch's Adam adds epsilon to the bias-corrected second moment, Keras' to the uncorrected one; for the default
        epsilon the difference is negligible.
        """
        config = self.mlp_config
        parameters = list(self.parameters())
        return torch.optim.Adam(
            parameters,
            lr=config.learning_rate,
            betas=(config.adam_beta_1, config.adam_beta_2),
            eps=config.adam_epsilon,
            fused=_fused_adam_supported(parameters),
        )

    # Metric states left behind by a Trainer.validate/test/predict run are inference tensors, which a later fit
    # cannot update in place; starting every epoch from freshly reset states avoids that.
    def _reset_metrics(self, prefix: str) -> None:
        for _, metric in self._metrics(prefix):
            metric.reset()

    def on_train_epoch_start(self) -> None:
        """Start the epoch's training loss and metrics from empty states."""
        self.train_loss_mean.reset()
        self._reset_metrics("train_")
        self._unlogged_stages.add("train")

    def on_validation_epoch_start(self) -> None:
        """Start the epoch's validation loss and metrics from empty states."""
        self.val_loss_mean.reset()
        self._reset_metrics("val_")
        self._unlogged_stages.add("val")

    def on_test_epoch_start(self) -> None:
        """Start the test loss from an empty state."""
        self.test_loss_mean.reset()
        self._unlogged_stages.add("test")

    def on_train_start(self) -> None:
        """Re-apply the optimiser hyperparameters: resuming from a checkpoint restores the old ones with its state."""
        self._apply_optimizer_hyperparameters()

    # -- mutation (Population Based Training) --------------------------------------------------------------------

    def update_hyperparameters(self, model_config: Mapping[str, Any]) -> None:
        """Apply mutated hyperparameters to this model without touching its weights or its normalisation.

        Mutable: ``learning_rate``, ``Adam_beta_1``, ``one_minus_Adam_beta_2``, ``Adam_epsilon``, ``loss_function``,
        ``loss_weight_class_N``, ``l1_lambda``, ``l2_lambda`` and ``dropout``. Keys missing from ``model_config`` keep
        their current values; ``ValueError`` if the architecture (layers, units, activation, initialisers) would
        change. The optimiser of an attached trainer is updated at once, and again when training (re)starts.
        """
        merged = dict(self.hparams["model_config"])
        merged.update(_plain(dict(model_config)))
        config = resolve(merged)
        if config.architecture != self.mlp_config.architecture:
            raise ValueError(
                f"update_hyperparameters cannot change the architecture of an existing model "
                f"(from {self.mlp_config.architecture} to {config.architecture}); build a new model instead"
            )
        if self.num_outputs is not None:
            config.class_weight_vector(max(2, self.num_outputs))
        self.hparams["model_config"] = merged
        self.mlp_config = config
        for module in self.hidden.modules() if self.hidden is not None else []:
            if isinstance(module, (nn.Dropout, nn.AlphaDropout)):
                module.p = config.dropout
        self._apply_optimizer_hyperparameters()

    def _apply_optimizer_hyperparameters(self) -> None:
        trainer = self._trainer  # the `trainer` property raises when none is attached
        if trainer is None:
            return
        config = self.mlp_config
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate
                if "betas" in group:
                    group["betas"] = (config.adam_beta_1, config.adam_beta_2)
                if "eps" in group:
                    group["eps"] = config.adam_epsilon
