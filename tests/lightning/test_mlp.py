"""The built-in Lightning MLP of optima-lightning: hyperparameters, layers, normalisation, losses, training, restore."""

from __future__ import annotations

import math
import subprocess
import sys
import types

import numpy as np
import pytest

lightning = pytest.importorskip("lightning")
torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")

from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from optima_core.builtin.input_handler import InputHandler  # noqa: E402
from optima_core.plugins.manager import create_plugin_manager  # noqa: E402
from optima_lightning import plugin  # noqa: E402
from optima_lightning.hyperparameters import DEFAULTS  # noqa: E402
from optima_lightning.mlp import LitModel  # noqa: E402
from optima_lightning.normalization import SCALE_TYPES  # noqa: E402

pytestmark = [
    pytest.mark.lightning,
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`:UserWarning"),
]

VARS = ["a", "b", "c", "d", "e"]


def handler(scaling: dict | None = None) -> InputHandler:
    return InputHandler(types.SimpleNamespace(input_vars=VARS, input_scaling=scaling or {}))


def make_events(n: int, classes: int = 1, seed: int = 0, shift: float = 1.5):
    """``(x, y, w)``: 5 variables, the first three shifted by the class index; 'a' is positive (for log10)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, max(2, classes), (n,), generator=generator)
    x = torch.randn(n, len(VARS), generator=generator)
    x[:, :3] += shift * labels[:, None].float()
    x[:, 0] = torch.exp(x[:, 0])
    y = labels.float()[:, None] if classes == 1 else nn.functional.one_hot(labels, classes).float()
    w = 0.5 + torch.rand(n, generator=generator)
    return x, y, w


class Events(lightning.LightningDataModule):
    """A tiny data module yielding ``(x, y, w)`` batches (or ``(x, y)`` with ``weighted=False``)."""

    def __init__(self, train, val=None, batch_size: int = 128, weighted: bool = True) -> None:
        super().__init__()
        self.train, self.val, self.batch_size, self.weighted = train, val or train, batch_size, weighted

    def _loader(self, data, shuffle: bool) -> DataLoader:
        tensors = data if self.weighted else data[:2]
        return DataLoader(TensorDataset(*tensors), batch_size=self.batch_size, shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val, shuffle=False)


def make_trainer(max_epochs: int = 1, **kwargs) -> lightning.Trainer:
    return lightning.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


def prepared(model_config: dict, data=None, scaling: dict | None = None, **kwargs) -> LitModel:
    model = LitModel(model_config=model_config, input_vars=VARS, metrics=[], weighted_metrics=[], **kwargs)
    model.prepare(handler(scaling), Events(data or make_events(300)), first_prepare=True)
    return model


def modules_of(model: LitModel, kind) -> list:
    return [m for m in model.hidden if isinstance(m, kind)]


def predictions(model: LitModel, x) -> torch.Tensor:
    model.eval()
    with torch.inference_mode():
        return model.predict_step((x,), 0)


# -- hyperparameters and architecture ---------------------------------------------------------------------------


def test_defaults_apply_when_model_config_only_has_batch_size() -> None:
    torch.manual_seed(0)
    model = prepared({"batch_size": 64})
    linears = [*modules_of(model, nn.Linear), model.head]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 32), (32, 32), (32, 32), (32, 1)]
    assert all(isinstance(m, nn.SiLU) for m in modules_of(model, nn.SiLU)) and len(modules_of(model, nn.SiLU)) == 3
    assert len(modules_of(model, nn.BatchNorm1d)) == 2  # between the hidden layers, not after the last
    assert [m.p for m in modules_of(model, nn.Dropout)] == [0.1, 0.1, 0.1]
    for linear in modules_of(model, nn.Linear):  # glorot_uniform kernels, zero biases
        limit = math.sqrt(6 / (linear.in_features + linear.out_features))
        assert linear.weight.abs().max() <= limit and linear.weight.abs().max() > 0.8 * limit
        assert torch.count_nonzero(linear.bias) == 0
    optimizer = model.configure_optimizers()
    group = optimizer.param_groups[0]
    assert isinstance(optimizer, torch.optim.Adam)
    assert (group["lr"], group["betas"], group["eps"]) == (1e-3, (0.9, 0.999), 1e-7)
    assert model.mlp_config.loss_function == "BinaryCrossentropy" and model.mlp_config.l2_lambda == 0.0
    assert model.hparams["model_config"] == {"batch_size": 64} and model.hparams["num_outputs"] == 1
    # The Keras built-in's defaults, as the reference lists them.
    assert DEFAULTS["num_layers"] == 3 and DEFAULTS["units"] == 32 and DEFAULTS["activation"] == "swish"
    assert DEFAULTS["one_minus_Adam_beta_2"] == 1e-3 and DEFAULTS["Adam_epsilon"] == 1e-7
    backend = create_plugin_manager().backends()["Lightning"]
    assert backend.is_builtin_mutatable("dropout") and backend.is_builtin_mutatable("loss_weight_class_3")
    assert not backend.is_builtin_mutatable("units")


def test_units_i_overrides_units_and_selected_initializers() -> None:
    config = {"num_layers": 3, "units": 16, "units_2": 7, "units_5": 99, "activation": "relu"}
    model = prepared({**config, "kernel_initializer": "he_uniform", "bias_initializer": "ones"})
    assert [m.out_features for m in modules_of(model, nn.Linear)] == [16, 7, 16]
    assert all(isinstance(m, nn.ReLU) for m in modules_of(model, nn.ReLU)) and len(modules_of(model, nn.ReLU)) == 3
    first = modules_of(model, nn.Linear)[0]
    assert first.weight.abs().max() <= math.sqrt(6 / 5)
    assert torch.all(first.bias == 1.0)


def test_selu_has_no_batchnorm_and_alpha_dropout_with_lecun_normal_kernels() -> None:
    torch.manual_seed(1)
    model = prepared({"activation": "selu", "units": 400, "num_layers": 2, "dropout": 0.2})
    assert modules_of(model, nn.BatchNorm1d) == []
    dropouts = modules_of(model, nn.AlphaDropout)
    assert len(dropouts) == 2 and all(m.p == 0.2 for m in dropouts)
    second = modules_of(model, nn.Linear)[1].weight  # fan_in 400: lecun_normal std = 1/20, truncated at 2 std
    assert abs(second.std().item() - 1 / 20) < 0.1 / 20
    assert second.abs().max().item() <= 2 / 20 / 0.87962566103423978 + 1e-6


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("activation", "swishy"),
        ("loss_function", "MeanSquaredError"),
        ("kernel_initializer", "orthogonal"),
        ("bias_initializer", "random_normal"),
    ],
)
def test_unknown_names_raise_a_clear_value_error(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"{key}.*'{value}'.*allowed") as error:
        LitModel(model_config={key: value}, input_vars=VARS, metrics=[], weighted_metrics=[])
    assert len(str(error.value).split(",")) > 2  # the allowed values are listed


def test_class_weight_beyond_the_classes_raises() -> None:
    with pytest.raises(ValueError, match="loss_weight_class_2"):
        prepared({"loss_weight_class_2": 2.0})  # binary: classes 0 and 1 only


def test_plugin_returns_the_builtin_and_stays_import_light() -> None:
    assert plugin.LitModel() is LitModel
    assert create_plugin_manager().hooks.LitModel() is LitModel  # through the installed entry point
    run_config = types.ModuleType("run_config")
    exec("class LitModel:\n    pass", run_config.__dict__)
    assert create_plugin_manager(run_config_module=run_config).hooks.LitModel() is run_config.LitModel
    code = "import sys, optima_lightning.plugin; print(any(m in sys.modules for m in ('torch', 'lightning')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_same_seed_gives_the_same_model() -> None:
    states = []
    for _ in range(2):
        torch.manual_seed(7)
        states.append(prepared({"units": 8}).state_dict())
    assert all(torch.equal(states[0][key], states[1][key]) for key in states[0])


# -- normalisation ----------------------------------------------------------------------------------------------


def test_log10_and_sqrt_scaling_with_fitted_buffers() -> None:
    x, y, w = make_events(1000)
    x[:, 1] = x[:, 1].abs()
    x[:, 4] = 3.0  # constant: std 0 -> 1
    scaling = {"a": ("log10", (2.0, 1.0)), "b": ("sqrt", (1.0, 0.5))}
    model = prepared({}, data=(x, y, w), scaling=scaling)
    norm = model.normalization
    transformed = x.double().numpy().copy()
    transformed[:, 0] = np.log10(2 * transformed[:, 0] + 1)
    transformed[:, 1] = np.sqrt(transformed[:, 1] + 0.5)
    expected_std = transformed.std(axis=0)
    expected_std[4] = 1.0
    np.testing.assert_allclose(norm.mean.numpy(), transformed.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm.std.numpy(), expected_std, rtol=1e-5)
    assert norm.scale_type.tolist() == [2, 1, 0, 0, 0] and norm.scale[0] == 2.0 and norm.offset[1] == 0.5
    normalised = norm(x)
    np.testing.assert_allclose(normalised[:, :4].mean(0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalised[:, :4].std(0, unbiased=False).numpy(), 1.0, atol=1e-4)
    state = model.state_dict()
    assert {"normalization.mean", "normalization.std", "normalization.scale", "normalization.scale_type"} <= set(state)


def test_log10_of_non_positive_values_names_the_variable() -> None:
    x, y, w = make_events(200)
    with pytest.raises(ValueError, match=r"'c'.*log10"):
        prepared({}, data=(x, y, w), scaling={"c": ("log10", (1.0, 0.0))})  # 'c' is normal: has negatives


# -- losses -----------------------------------------------------------------------------------------------------


def tiny_batch():
    x = torch.tensor([[1.0, 0.2, -0.3, 0.5, 1.0], [2.0, -1.0, 0.4, 0.1, -2.0], [0.5, 0.3, 0.9, -0.7, 0.0]] * 2)
    y = torch.tensor([[1.0], [0.0], [1.0], [0.0], [0.0], [1.0]])
    w = torch.tensor([1.0, 2.0, 0.5, -0.3, 1.5, 0.7])
    return x, y, w


def hand_bce(model: LitModel, x, y) -> torch.Tensor:
    p = predictions(model, x).double()
    y = y.double()
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))[:, 0]


def batch_loss(model: LitModel, batch) -> float:
    model.eval()
    with torch.no_grad():
        return model.training_step(batch, 0).item()


def test_weighted_loss_is_sum_w_l_over_sum_w() -> None:
    model = prepared({"num_layers": 1, "units": 4})
    x, y, w = tiny_batch()
    per_event = hand_bce(model, x, y)
    expected = (w.double() * per_event).sum() / w.double().sum()
    assert batch_loss(model, (x, y, w)) == pytest.approx(expected.item(), rel=1e-5)
    assert batch_loss(model, (x, y)) == pytest.approx(per_event.mean().item(), rel=1e-5)


def test_class_weights_multiply_the_loss_of_their_class() -> None:
    model = prepared({"num_layers": 1, "units": 4})
    x, y, w = tiny_batch()
    per_event = hand_bce(model, x, y)
    model.update_hyperparameters({"loss_weight_class_0": 3.0, "loss_weight_class_1": 0.5})
    # Single target column: class 0 is the positive class (target 1), class 1 the negative one.
    class_weight = torch.where(y[:, 0] == 1, 3.0, 0.5).double()
    expected = (w * class_weight * per_event).sum() / w.double().sum()
    assert batch_loss(model, (x, y, w)) == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("loss_function", ["CategoricalCrossentropy", "KLDivergence", "BinaryCrossentropy"])
def test_multiclass_losses_with_class_weights_match_hand_computation(loss_function: str) -> None:
    x, y, w = make_events(300, classes=3)
    model = prepared(
        {"num_layers": 1, "units": 4, "loss_function": loss_function, "loss_weight_class_2": 2.0}, (x, y, w)
    )
    targets = torch.tensor([[0.0, 0.0, 1.0], [0.2, 0.8, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    batch = (x[:4], targets, w[:4])
    p = predictions(model, x[:4]).double()
    t = targets.double()
    if loss_function == "CategoricalCrossentropy":
        per_event = -(t * p.log()).sum(1)
    elif loss_function == "KLDivergence":
        per_event = (torch.xlogy(t, t) - t * p.log()).sum(1)
    else:
        per_event = -(t * p.log() + (1 - t) * (1 - p).log()).mean(1)
    per_event = per_event * (t @ torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64))
    expected = (w[:4] * per_event).sum() / w[:4].sum()
    assert batch_loss(model, batch) == pytest.approx(expected.item(), rel=1e-5)


def test_l1_and_l2_penalties_raise_the_training_loss_by_exactly_their_value() -> None:
    torch.manual_seed(3)
    plain = prepared({"num_layers": 2, "units": 6})
    batch = tiny_batch()
    base = batch_loss(plain, batch)
    kernels = [m.weight.detach().double() for m in modules_of(plain, nn.Linear)]
    l2_sum = sum((k**2).sum() for k in kernels).item()
    l1_sum = sum(k.abs().sum() for k in kernels).item()

    regularised = LitModel(model_config={"num_layers": 2, "units": 6, "l2_lambda": 0.1}, input_vars=VARS)
    regularised.prepare(handler(), Events(make_events(300)), first_prepare=False)
    regularised.load_state_dict(plain.state_dict())
    assert batch_loss(regularised, batch) == pytest.approx(base + 0.1 * l2_sum, rel=1e-5)
    regularised.update_hyperparameters({"l1_lambda": 0.01})
    assert batch_loss(regularised, batch) == pytest.approx(base + 0.1 * l2_sum + 0.01 * l1_sum, rel=1e-5)


# -- training, metrics, prediction, restore ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One binary model trained a few epochs with metrics; its checkpoint; its validation loss before training."""
    lightning.seed_everything(11, verbose=False)
    train, val = make_events(2000, seed=1), make_events(1000, seed=2)
    data = Events(train, val)
    metrics = [
        ("train_auc", torchmetrics.classification.BinaryAUROC()),
        ("val_auc", torchmetrics.classification.BinaryAUROC()),
    ]
    weighted = [("val_weighted_auc", torchmetrics.classification.BinaryAUROC())]
    config = {"batch_size": 128, "num_layers": 2, "units": 16, "units_2": 8, "dropout": np.float64(0.05)}
    model = LitModel(model_config=config, input_vars=VARS, metrics=metrics, weighted_metrics=weighted)
    model.prepare(handler({"a": ("log10", (1.0, 0.0))}), data, first_prepare=True)
    before = make_trainer().validate(model, data, verbose=False)[0]["val_loss"]
    trainer = make_trainer(max_epochs=4)
    trainer.fit(model, data)
    path = tmp_path_factory.mktemp("mlp") / "model.ckpt"
    trainer.save_checkpoint(path)
    return types.SimpleNamespace(
        model=model, trainer=trainer, data=data, val=val, path=path, before=before, config=config
    )


def test_training_decreases_val_loss_and_separates_the_classes(trained) -> None:
    after = trained.trainer.callback_metrics["val_loss"].item()
    assert after < 0.8 * trained.before
    x, y, _ = trained.val
    probabilities = predictions(trained.model, x)[:, 0]
    auc = torchmetrics.functional.auroc(probabilities, y[:, 0].long(), task="binary").item()
    assert auc > 0.8


def test_val_loss_is_the_weighted_mean_over_the_whole_validation_set(trained) -> None:
    validated = make_trainer().validate(trained.model, trained.data, verbose=False)[0]["val_loss"]
    x, y, w = trained.val
    per_event = hand_bce(trained.model, x, y)
    assert validated == pytest.approx(((w * per_event).sum() / w.sum()).item(), rel=1e-4)


def test_train_loss_is_the_batch_size_weighted_mean_of_the_epochs_batch_losses() -> None:
    class Recording(LitModel):
        def on_train_epoch_start(self) -> None:
            super().on_train_epoch_start()
            self.batch_losses: list[tuple[float, int]] = []

        def training_step(self, batch, batch_idx: int = 0):
            objective = super().training_step(batch, batch_idx)
            self.batch_losses.append((objective.item(), len(batch[0])))
            return objective

    lightning.seed_everything(5, verbose=False)
    events = make_events(300)  # batches of 128, 128 and 44 events: an unweighted mean of the three would differ
    model = Recording(model_config={"num_layers": 1, "units": 4, "l2_lambda": 0.01}, input_vars=VARS)
    model.prepare(handler(), Events(events), first_prepare=True)
    trainer = make_trainer(max_epochs=2, num_sanity_val_steps=0)
    trainer.fit(model, Events(events))
    assert [n for _, n in model.batch_losses] == [128, 128, 44]
    expected = sum(loss * n for loss, n in model.batch_losses) / 300
    assert trainer.callback_metrics["train_loss"].item() == pytest.approx(expected, rel=1e-6)
    assert expected != pytest.approx(sum(loss for loss, _ in model.batch_losses) / 3, rel=1e-6)


def test_the_epoch_mean_takes_tensor_weights_per_event_or_one_number_for_all() -> None:
    from optima_lightning.losses import WeightedMean

    values, weights = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0.5, 1.0, 2.5])
    per_event, shared = WeightedMean(), WeightedMean()
    per_event.update(values, weights)
    per_event.update(torch.tensor(3.0), torch.tensor(2.0))
    shared.update(values, 2.0)  # every value weighs 2
    shared.update(torch.tensor(3.0), 2.0)
    assert per_event.compute().item() == pytest.approx((0.5 + 2 + 10 + 6) / 6)
    assert shared.compute().item() == pytest.approx((1 + 2 + 4 + 3) / 4)
    assert shared.weight_sum.item() == 8.0


def test_metrics_are_logged_under_their_names_and_weighted_ones_are_not_computed(trained) -> None:
    logged = trained.trainer.callback_metrics
    assert {"train_loss", "val_loss", "train_auc", "val_auc"} <= set(logged)
    assert 0.8 < logged["val_auc"].item() <= 1.0
    assert "val_weighted_auc" not in logged
    assert trained.model.weighted_metric_modules[0].update_count == 0


def test_predict_step_takes_full_batches_or_tensors_without_gradients(trained) -> None:
    x, y, w = trained.val
    model = trained.model.eval()
    with torch.inference_mode():
        from_batch = model.predict_step((x, y, w), 0)
        from_tensor = model.predict_step(x)
    assert from_batch.shape == (len(x), 1) and not from_batch.requires_grad
    assert torch.equal(from_batch, from_tensor) and torch.all((from_batch > 0) & (from_batch < 1))
    out = make_trainer().predict(model, DataLoader(TensorDataset(x, y, w), batch_size=256))
    assert torch.allclose(torch.cat(out), from_batch)


def test_checkpoint_restore_gives_identical_predictions(trained) -> None:
    x = trained.val[0]
    expected = predictions(trained.model, x)
    torch.manual_seed(99)  # different initial weights than the trained model had
    restored = LitModel(model_config=trained.config, input_vars=VARS, metrics=[], weighted_metrics=[])
    restored.prepare(handler({"a": ("log10", (1.0, 0.0))}), trained.data, first_prepare=False)
    assert torch.count_nonzero(restored.normalization.mean) == 0  # not refitted
    restored.load_state_dict(torch.load(trained.path, weights_only=False)["state_dict"])
    assert torch.equal(predictions(restored, x), expected)

    loaded = LitModel.load_from_checkpoint(trained.path)  # builds from the saved hyperparameters (num_outputs)
    assert loaded.hparams["num_outputs"] == 1 and loaded.hparams["model_config"]["dropout"] == 0.05
    assert torch.equal(predictions(loaded, x), expected)


def test_softmax_output_for_one_hot_targets() -> None:
    for classes in (2, 3):
        x, y, w = make_events(400, classes=classes)
        model = prepared({"loss_function": "CategoricalCrossentropy", "units": 8}, (x, y, w))
        assert model.head.out_features == classes and model.hparams["num_outputs"] == classes
        probabilities = predictions(model, x)
        assert probabilities.shape == (400, classes)
        assert torch.allclose(probabilities.sum(1), torch.ones(400), atol=1e-6)
        model.train()
        loss = model.training_step((x[:64], y[:64], w[:64]), 0)
        loss.backward()
        assert torch.isfinite(loss) and model.head.weight.grad is not None


def test_update_hyperparameters_keeps_weights_and_reaches_the_optimizer(tmp_path) -> None:
    lightning.seed_everything(5, verbose=False)
    data = Events(make_events(300), batch_size=100)
    model = prepared({"num_layers": 2, "units": 8, "dropout": 0.1}, data.train)
    trainer = make_trainer(max_epochs=1)
    trainer.fit(model, data)
    trainer.save_checkpoint(tmp_path / "before.ckpt")
    state = {key: value.clone() for key, value in model.state_dict().items()}

    model.update_hyperparameters(
        {"learning_rate": 0.01, "dropout": 0.3, "Adam_beta_1": 0.8, "one_minus_Adam_beta_2": 0.01}
    )
    assert all(torch.equal(state[key], value) for key, value in model.state_dict().items())
    assert [m.p for m in modules_of(model, nn.Dropout)] == [0.3, 0.3]
    group = trainer.optimizers[0].param_groups[0]
    assert group["lr"] == 0.01 and group["betas"] == (0.8, 0.99)
    assert model.hparams["model_config"]["dropout"] == 0.3 and model.hparams["model_config"]["units"] == 8
    with pytest.raises(ValueError, match="architecture"):
        model.update_hyperparameters({"units": 16})

    # Resuming from a checkpoint restores the old optimizer settings; the mutation must win.
    seen = []

    class Probe(lightning.Callback):
        def on_train_epoch_start(self, trainer, pl_module) -> None:
            seen.append(trainer.optimizers[0].param_groups[0]["lr"])

    make_trainer(max_epochs=2, callbacks=[Probe()]).fit(model, data, ckpt_path=tmp_path / "before.ckpt")
    assert seen == [0.01]


def test_fused_adam_on_cpu_takes_the_same_steps_as_the_per_tensor_adam() -> None:
    """The built-in MLP's optimizer is torch's fused Adam on a CPU; its updates match the default implementation."""
    lightning.seed_everything(3, verbose=False)
    model = prepared({"num_layers": 2, "units": 8, "learning_rate": 0.01})
    optimizer = model.configure_optimizers()
    assert optimizer.defaults["fused"] is True

    reference = prepared({"num_layers": 2, "units": 8, "learning_rate": 0.01})
    reference.load_state_dict(model.state_dict())
    config = reference.mlp_config
    plain = torch.optim.Adam(
        reference.parameters(),
        lr=config.learning_rate,
        betas=(config.adam_beta_1, config.adam_beta_2),
        eps=config.adam_epsilon,
        fused=False,
    )
    batch = make_events(64)
    for net, opt in ((model, optimizer), (reference, plain)):
        net.train()
        for _ in range(3):
            torch.manual_seed(0)  # the same dropout masks for both
            opt.zero_grad()
            net.training_step(batch).backward()
            opt.step()
    for (name, fused), (_, default) in zip(model.state_dict().items(), reference.state_dict().items(), strict=True):
        assert torch.allclose(fused, default, rtol=1e-5, atol=1e-6), name


def test_lightning_hook_names_still_reach_the_module() -> None:
    """LitModel stores ``_current_fx_name`` without nn.Module's attribute lookup; Lightning still reads it back."""
    model = prepared({"num_layers": 1, "units": 4})
    model._current_fx_name = "training_step"
    assert model._current_fx_name == "training_step"
    assert "_current_fx_name" not in model._modules and "_current_fx_name" not in model._buffers
    model.extra_layer = nn.Linear(2, 2)  # other attributes still go through nn.Module
    assert "extra_layer" in model._modules


#: A valid value, different from the default, for every hyperparameter of the MLP.
CHANGED = {
    "num_layers": 2,
    "units": 16,
    "activation": "relu",
    "kernel_initializer": "he_normal",
    "bias_initializer": "ones",
    "l1_lambda": 0.01,
    "l2_lambda": 0.01,
    "dropout": 0.2,
    "learning_rate": 0.01,
    "Adam_beta_1": 0.8,
    "one_minus_Adam_beta_2": 0.01,
    "Adam_epsilon": 1e-6,
    "loss_function": "KLDivergence",
    "loss_weight_class_1": 2.0,
}


def test_the_backend_descriptor_states_what_the_mlp_can_mutate_and_scale() -> None:
    """The core decides what PBT mutates from the descriptor: it must list exactly what a trained MLP can change."""
    backend = create_plugin_manager().backends()["Lightning"]
    assert set(CHANGED) == {*DEFAULTS, "loss_weight_class_1"}
    for name, value in CHANGED.items():
        model = prepared({"num_layers": 3, "units": 8})
        if backend.is_builtin_mutatable(name):
            model.update_hyperparameters({name: value})
            assert model.hparams["model_config"][name] == value
        else:
            with pytest.raises(ValueError, match="architecture"):
                model.update_hyperparameters({name: value})
    assert set(backend.scalings) == set(SCALE_TYPES)
    assert backend.model_hooks == backend.required_hooks == ("LitModel",)
    assert None not in backend.framework_versions().values()
