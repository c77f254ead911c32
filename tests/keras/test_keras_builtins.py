"""The Keras built-ins of optima-keras: data conversion, the MLP and its normalisation, compile, update, loss, metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import types
import warnings
from typing import Any, TypeVar

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from optima_core.builtin.input_handler import InputHandler  # noqa: E402
from optima_core.plugins.manager import create_plugin_manager  # noqa: E402
from optima_keras.backend import build_optimizer  # noqa: E402
from optima_keras.compile import STEPS_PER_EXECUTION, compile_model  # noqa: E402
from optima_keras.data import build_tensorflow_dataset, to_tensorflow_dataset  # noqa: E402
from optima_keras.evaluation import get_loss, get_native_metric_values  # noqa: E402
from optima_keras.losses import ClassWeightedLoss  # noqa: E402
from optima_keras.models import build_model, update_model  # noqa: E402
from optima_keras.normalization import NonLinearNormalization  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    # Keras-internal noise: fit() on a tf.data.Dataset, and numpy 2's copy keyword inside model.save()
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]

VARS = ["a", "b", "c", "d", "e"]
SCALING = {"a": ("log10", (1.0, 0.0)), "b": ("sqrt", (2.0, 1.0))}
KERAS_RUN = types.SimpleNamespace(model_type="Keras")
LIGHTNING_RUN = types.SimpleNamespace(model_type="Lightning")
SMALL = {"batch_size": 256, "num_layers": 2, "units": 16}
EPS = 1e-7  # Keras' clipping of probabilities in the cross-entropies


T = TypeVar("T")


def given(value: T | None) -> T:
    """The hook's answer, which must not be "not mine" (None) here."""
    assert value is not None
    return value


def make_events(n: int, classes: int, seed: int) -> dict[str, np.ndarray]:
    """Separable classes: every variable is shifted by the class index; 'a' is positive (log10), 'b' >= 0 (sqrt)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, classes, n)
    x = rng.normal(size=(n, len(VARS))) + label[:, None]
    x[:, 0] = 10 * np.exp(x[:, 0])
    x[:, 1] = 3 * np.abs(x[:, 1])
    target = label.astype(np.float64) if classes == 2 else np.eye(classes)[label]
    return {"Input": x, "Target": target, "Weight": rng.uniform(0.2, 2.0, n)}  # float64 everywhere, like pandas


@pytest.fixture(autouse=True)
def _seed() -> None:
    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="module")
def handler() -> InputHandler:
    return InputHandler(types.SimpleNamespace(input_vars=VARS, input_scaling=SCALING))


@pytest.fixture(scope="module")
def binary() -> dict[str, np.ndarray]:
    return make_events(2000, 2, seed=1)


@pytest.fixture(scope="module")
def three_class() -> dict[str, np.ndarray]:
    return make_events(2000, 3, seed=2)


def tf_data(events: dict[str, np.ndarray], batch_size: int = 256, weights: bool = True):
    columns = events if weights else {k: v for k, v in events.items() if k != "Weight"}
    return to_tensorflow_dataset(columns, batch_size)


def new_model(config: dict, handler: InputHandler, events: dict[str, np.ndarray], metrics=None, weighted=None):
    data = tf_data(events, config["batch_size"])
    model = build_model(config, handler, data)
    return compile_model(model, config, metrics or [], weighted or [], handler, data, True), data


def hidden(model) -> list:
    return [layer for layer in model.layers if layer.name.startswith("hidden_")]


def of_type(model, cls) -> list:
    return [layer for layer in model.layers if type(layer) is cls]


def bce(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


# -- data conversion --------------------------------------------------------------------------------------------


def test_dataset_is_float32_batched_and_float64_weights_train(handler, binary):
    data = given(build_tensorflow_dataset(binary, handler, KERAS_RUN, {"batch_size": 300}))
    assert [spec.dtype for spec in data.element_spec] == [tf.float32] * 3
    assert [tuple(spec.shape) for spec in data.element_spec] == [(None, 5), (None, 1), (None,)]
    sizes = [int(batch[0].shape[0]) for batch in data]
    assert sizes == [300] * 6 + [200]
    model = build_model({"batch_size": 300}, handler, data)
    compile_model(model, {}, [], [keras.metrics.AUC()], handler, data, True)
    history = model.fit(data, epochs=1, verbose=0)  # pitfall 9: float64 weights used to crash the weighted loss
    assert np.isfinite(history.history["loss"][0])
    assert np.isfinite(given(get_loss(KERAS_RUN, {}, model, data, handler)))
    assert build_tensorflow_dataset(binary, handler, LIGHTNING_RUN, {"batch_size": 300}) is None


def test_dataset_from_pandas_like_objects(binary):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"Input": list(binary["Input"]), "Target": binary["Target"], "Weight": binary["Weight"]})
    expected = np.concatenate([b[0].numpy() for b in to_tensorflow_dataset(binary, 512)])

    class ToPandas:  # what a Ray Dataset offers
        def to_pandas(self):
            return frame

    class TakeAll:
        def take_all(self):
            return frame.to_dict("records")

    for source in (frame, ToPandas(), TakeAll()):
        data = given(build_tensorflow_dataset(source, None, None, {"batch_size": 512}))
        assert len(data.element_spec) == 3
        np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in data]), expected)
    with pytest.raises(KeyError, match="Target"):
        to_tensorflow_dataset({"Input": binary["Input"]}, 10)
    with pytest.raises(ValueError, match="batch_size"):
        build_tensorflow_dataset(binary, None, None, {})


# -- build_model ----------------------------------------------------------------------------------------------


def test_defaults(handler, binary):
    model = build_model({"batch_size": 256}, handler, tf_data(binary))
    assert model.name == "optima_mlp" and not model.compiled
    layers = hidden(model)
    assert [layer.units for layer in layers] == [32, 32, 32]
    for layer in layers:
        assert layer.activation is keras.activations.swish
        assert isinstance(layer.kernel_initializer, keras.initializers.GlorotUniform)
        assert isinstance(layer.bias_initializer, keras.initializers.Zeros)
        assert (layer.kernel_regularizer.l1, layer.kernel_regularizer.l2) == (0.0, 0.0)
    assert [layer.rate for layer in of_type(model, keras.layers.Dropout)] == [0.1] * 3
    assert len(of_type(model, keras.layers.BatchNormalization)) == 2
    order = [type(layer).__name__ for layer in model.layers]
    assert order[:5] == ["InputLayer", "NonLinearNormalization", "Dense", "BatchNormalization", "Dropout"]
    output = model.get_layer("output")
    assert output.units == 1 and output.activation is keras.activations.sigmoid


def test_units_i_and_initializers(handler, binary):
    config: dict[str, Any] = {
        "batch_size": 256,
        "num_layers": 4,
        "units": 16,
        "units_2": 8,
        "units_4": 5,
        "units_7": 99,
    }
    config |= {"kernel_initializer": "he_normal", "bias_initializer": "ones", "l1_lambda": 1e-4, "l2_lambda": 1e-3}
    model = build_model(config, handler, tf_data(binary))
    assert [layer.units for layer in hidden(model)] == [16, 8, 16, 5]
    assert all(isinstance(layer.kernel_initializer, keras.initializers.HeNormal) for layer in hidden(model))
    assert all(isinstance(layer.bias_initializer, keras.initializers.Ones) for layer in hidden(model))
    assert all(layer.kernel_regularizer.l1 == pytest.approx(1e-4) for layer in hidden(model))
    assert all(layer.kernel_regularizer.l2 == pytest.approx(1e-3) for layer in hidden(model))
    assert len(of_type(model, keras.layers.BatchNormalization)) == 3
    with pytest.raises(ValueError, match="dropout"):
        build_model({"batch_size": 256, "dropout": 1.5}, handler, tf_data(binary))


def test_selu_rules(handler, binary):
    model = build_model({"batch_size": 256, "activation": "selu", "dropout": 0.2}, handler, tf_data(binary))
    assert not of_type(model, keras.layers.BatchNormalization)
    assert not of_type(model, keras.layers.Dropout)
    assert [layer.rate for layer in of_type(model, keras.layers.AlphaDropout)] == [0.2] * 3
    for layer in hidden(model):
        assert isinstance(layer.kernel_initializer, keras.initializers.LecunNormal)
        assert layer.activation is keras.activations.selu


def test_output_layer_follows_target_shape(handler, three_class, binary):
    model = build_model({"batch_size": 256}, handler, tf_data(three_class))
    output = model.get_layer("output")
    assert output.units == 3 and output.activation is keras.activations.softmax
    flat_target = tf.data.Dataset.from_tensor_slices((binary["Input"].astype("float32"), binary["Target"])).batch(64)
    assert build_model({"batch_size": 64}, handler, flat_target).get_layer("output").units == 1


# -- the normalisation --------------------------------------------------------------------------------------------


def test_normalisation_is_adapted_with_scalings(handler, binary):
    model = build_model({"batch_size": 256}, handler, tf_data(binary))
    layer = model.get_layer("normalization")
    out = keras.Model(model.inputs, layer.output).predict(binary["Input"], verbose=0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-4)
    scaled = binary["Input"].copy()
    scaled[:, 0] = np.log10(scaled[:, 0])
    scaled[:, 1] = np.sqrt(2 * scaled[:, 1] + 1)
    expected = (scaled - scaled.mean(axis=0)) / scaled.std(axis=0)
    np.testing.assert_allclose(out, expected, atol=2e-4)


def test_normalisation_layer_edge_cases():
    layer = NonLinearNormalization(scalings=[("linear", (1.0, 0.0)), ("log10", (1.0, 0.0))], variable_names=["k", "m"])
    data = np.stack([np.full(100, 0.1), np.linspace(1, 100, 100)], axis=1)
    layer.adapt(data)
    assert layer.std.numpy()[0] == 1.0  # constant variable: shifted only
    np.testing.assert_allclose(np.asarray(layer(data))[:, 0], 0.0, atol=1e-6)
    clone = NonLinearNormalization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.scalings == [["linear", 1.0, 0.0], ["log10", 1.0, 0.0]]
    with pytest.raises(ValueError, match=r"'m'.*log10"):  # pitfall 10: log10 of values <= 0 must not become NaN
        layer.adapt(np.stack([np.ones(10), np.linspace(-1, 1, 10)], axis=1))
    with pytest.raises(ValueError, match="cube"):
        NonLinearNormalization(scalings=[("cube", (1.0, 0.0))])
    with pytest.raises(ValueError, match="2 scalings"):
        NonLinearNormalization(scalings=[("linear", (1.0, 0.0))] * 2)(np.ones((4, 3)))


# -- save and load (pitfall 13) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config,classes",
    [
        ({"dropout": 0.2, "l1_lambda": 1e-4, "l2_lambda": 1e-3, "loss_weight_class_0": 2.0}, 2),
        ({"activation": "selu", "dropout": 0.1, "l1_lambda": 1e-3, "loss_function": "KLDivergence"}, 2),
        ({"dropout": 0.3, "l2_lambda": 1e-2, "loss_function": "CategoricalCrossentropy", "loss_weight_class_2": 3}, 3),
    ],
)
def test_save_load_round_trip(config, classes, handler, binary, three_class, tmp_path):
    events = binary if classes == 2 else three_class
    config = SMALL | config
    model, data = new_model(config, handler, events, weighted=[keras.metrics.AUC(name="wauc")])
    model.fit(data, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = events["Input"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for before, after in zip(
        model.get_layer("normalization").weights, loaded.get_layer("normalization").weights, strict=True
    ):
        np.testing.assert_array_equal(before.numpy(), after.numpy())
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) > 0
    assert isinstance(loaded.loss, ClassWeightedLoss) and loaded.loss.get_config() == model.loss.get_config()
    assert get_loss(KERAS_RUN, config, loaded, data, handler) == pytest.approx(
        get_loss(KERAS_RUN, config, model, data, handler), rel=1e-6
    )
    loaded.fit(data, epochs=1, verbose=0)  # and it trains on


def test_load_in_a_fresh_process(handler, binary, tmp_path):
    model, data = new_model(SMALL | {"l2_lambda": 1e-3}, handler, binary)
    model.fit(data, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", binary["Input"][:50])
    script = (
        "import numpy as np, sys, keras, optima_keras.models; "
        "m = keras.saving.load_model(sys.argv[1] + '/model.keras'); "
        "np.save(sys.argv[1] + '/p.npy', m.predict(np.load(sys.argv[1] + '/x.npy'), verbose=0))"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, capture_output=True, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict(binary["Input"][:50], verbose=0))


# -- compile_model --------------------------------------------------------------------------------------------


def test_compile_defaults_options_and_errors(handler, binary):
    data = tf_data(binary)
    model = build_model(SMALL, handler, data)
    compile_model(model, {}, [keras.metrics.AUC(name="auc")], [keras.metrics.AUC(name="wauc")], handler, data, True)
    adam = model.optimizer
    assert isinstance(adam, keras.optimizers.Adam)
    assert float(adam.learning_rate.numpy()) == pytest.approx(1e-3)
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == pytest.approx((0.9, 0.999, 1e-7))
    assert model.loss.loss_function == "BinaryCrossentropy" and model.loss.class_weights is None
    assert {"auc", "wauc", "loss"} <= set(model.evaluate(data, verbose=0, return_dict=True))

    config = {"learning_rate": 3e-4, "Adam_beta_1": 0.8, "one_minus_Adam_beta_2": 0.01, "Adam_epsilon": 1e-6}
    compile_model(model, config | {"loss_function": "KLDivergence"}, [], [], handler, data, True)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(3e-4)
    assert (model.optimizer.beta_1, model.optimizer.beta_2, model.optimizer.epsilon) == pytest.approx((0.8, 0.99, 1e-6))
    assert model.loss.loss_function == "KLDivergence"

    with pytest.raises(ValueError, match=r"'MeanSquaredError'.*'KLDivergence'"):
        compile_model(model, {"loss_function": "MeanSquaredError"}, [], [], handler, data, True)
    with pytest.raises(ValueError, match="loss_weight_class_2"):
        compile_model(model, {"loss_weight_class_2": 2.0}, [], [], handler, data, True)


def test_recompile_keeps_optimizer_state(handler, binary):
    model, data = new_model(SMALL, handler, binary)
    model.fit(data, epochs=1, verbose=0)
    optimizer = model.optimizer
    steps = int(optimizer.iterations.numpy())
    weights = [w.numpy().copy() for w in model.weights]
    state = [v.numpy().copy() for v in optimizer.variables]
    compile_model(model, SMALL | {"learning_rate": 5e-4, "Adam_beta_1": 0.7}, [], [], handler, data, False)
    assert model.optimizer is optimizer
    assert int(optimizer.iterations.numpy()) == steps == 8
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(5e-4) and optimizer.beta_1 == pytest.approx(0.7)
    for before, after in zip(weights, model.weights, strict=True):
        np.testing.assert_array_equal(before, after.numpy())
    for before, after in zip(state, optimizer.variables, strict=True):
        if "learning_rate" not in after.path:
            np.testing.assert_array_equal(before, after.numpy())
    model.fit(data, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2 * steps
    compile_model(model, SMALL, [], [], handler, data, True)  # a first compile starts afresh
    assert model.optimizer is not optimizer and int(model.optimizer.iterations.numpy()) == 0


def _counting_train_steps(model) -> list[int]:
    """Count how often ``fit`` traces the model's training step (Keras calls ``self.train_step`` while tracing)."""
    traces: list[int] = []
    original = model.train_step

    def counted(data):
        traces.append(1)
        return original(data)

    model.train_step = counted
    return traces


def test_an_optimizer_built_before_fit_traces_the_training_step_once(handler, binary):
    """TensorFlow traces a function twice when its first call creates variables (Keras' lazily made optimizer slots):
    ``build_optimizer``, called by ``KerasBackend.fit``, makes them first, and saves that second trace per model."""
    lazy, data = new_model(SMALL, handler, binary)
    lazy_traces = _counting_train_steps(lazy)
    lazy.fit(data, epochs=1, verbose=0)
    assert len(lazy_traces) == 2  # without it (the reason it exists)
    built, data = new_model(SMALL, handler, binary)
    build_optimizer(built)
    assert built.optimizer.built
    traces = _counting_train_steps(built)
    built.fit(data, epochs=2, verbose=0)
    assert len(traces) == 1


def test_an_optimizer_built_before_fit_trains_the_same_weights(handler, binary):
    trained = []
    for early in (False, True):
        keras.utils.set_random_seed(99)
        model, data = new_model(SMALL, handler, binary)
        if early:
            build_optimizer(model)
        model.fit(data, epochs=2, verbose=0)
        trained.append([w.numpy().copy() for w in model.weights])
    for lazy, early in zip(*trained, strict=True):
        np.testing.assert_array_equal(lazy, early)
    build_optimizer(object())  # no compiled optimizer (a run-config model): nothing to do


def test_the_keras_backend_builds_the_optimizer_before_fit(monkeypatch):
    import optima_keras.backend as backend_module

    built: list[object] = []
    monkeypatch.setattr(backend_module, "build_optimizer", built.append)
    backend = backend_module.KerasBackend.__new__(backend_module.KerasBackend)
    backend.model = types.SimpleNamespace(fit=lambda *args, **kwargs: None)
    backend.job = types.SimpleNamespace(run_config=types.SimpleNamespace(callbacks=[]), seed=1)
    backend._dataset = lambda split: tf_data(make_events(10, 2, seed=3))
    backend.fit(0, 1, lambda epoch, logs: False)
    assert built == [backend.model]


def _trained_with_grouped_steps(grouped: bool, handler, events) -> tuple[list, dict]:
    keras.utils.set_random_seed(7)
    config = {**SMALL, "batch_size": 48}  # 2000 events: 42 batches, two groups of 16 and a remainder of 10
    model, data = new_model(config, handler, events)
    assert model.steps_per_execution == STEPS_PER_EXECUTION
    if not grouped:
        model.steps_per_execution = 1
    build_optimizer(model)
    history = model.fit(
        data.shuffle(64, seed=3, reshuffle_each_iteration=True), validation_data=data, epochs=3, verbose=0
    )
    return [w.numpy().copy() for w in model.weights], history.history


def test_grouped_training_steps_give_the_same_weights_and_logs(handler, binary):
    """The built-in compile runs several steps per call of the traced step: the same training, step for step."""
    one_step = _trained_with_grouped_steps(False, handler, binary)
    grouped = _trained_with_grouped_steps(True, handler, binary)
    assert STEPS_PER_EXECUTION > 1
    for single, together in zip(one_step[0], grouped[0], strict=True):
        np.testing.assert_array_equal(single, together)
    assert one_step[1] == grouped[1]


class _CountingBatches(keras.callbacks.Callback):
    counts: list[int] = []

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        _CountingBatches.counts.append(batch)


@pytest.mark.parametrize("with_callbacks", [False, True])
def test_run_config_callbacks_see_every_batch(with_callbacks, handler, binary):
    from optima_keras.backend import KerasBackend

    model_config = {**SMALL, "batch_size": 100}  # 20 batches per epoch
    callbacks = [(_CountingBatches, {})] if with_callbacks else []
    backend = KerasBackend.__new__(KerasBackend)
    backend.job = types.SimpleNamespace(
        run_config=types.SimpleNamespace(callbacks=callbacks),
        hooks=types.SimpleNamespace(compile_model=lambda **kwargs: compile_model(**kwargs)),
        metrics=types.SimpleNamespace(native=[], weighted_native=[]),
        model_config=model_config,
        input_handler=handler,
        seed=1,
    )
    backend._datasets = {"train": tf_data(binary, 100), "val": tf_data(binary, 100)}
    backend.model = build_model(model_config, handler, backend._datasets["train"])
    backend._compile(first_compile=True)
    assert backend.model.steps_per_execution == (1 if with_callbacks else STEPS_PER_EXECUTION)
    _CountingBatches.counts = []
    backend.fit(0, 2, lambda epoch, logs: False)
    if with_callbacks:
        assert _CountingBatches.counts == list(range(20)) * 2


# -- update_model -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["swish", "selu"])
def test_update_model(activation, handler, binary, tmp_path):
    config = SMALL | {"activation": activation}
    model, data = new_model(config, handler, binary)
    model.fit(data, epochs=1, verbose=0)
    weights = [w.numpy().copy() for w in model.weights]
    assert float(sum(model.losses)) == 0.0
    new = config | {"dropout": 0.35, "l1_lambda": 1e-3, "l2_lambda": 1e-2}
    assert update_model(model, new, handler, data) is model
    for before, after in zip(weights, model.weights, strict=True):
        np.testing.assert_array_equal(before, after.numpy())
    dropouts = [layer for layer in model.layers if layer.name.startswith("dropout_")]
    assert len(dropouts) == 2 and all(layer.rate == 0.35 for layer in dropouts)
    kernels = [layer.kernel.numpy() for layer in hidden(model)]
    penalty = sum(1e-3 * np.abs(k).sum() + 1e-2 * (k**2).sum() for k in kernels)
    assert float(sum(model.losses)) == pytest.approx(penalty, rel=1e-5)  # the penalty that enters training
    compile_model(model, new, [], [], handler, data, False)
    model.fit(data, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.get_layer("dropout_1").rate == 0.35
    assert restored.get_layer("hidden_1").kernel_regularizer.l2 == pytest.approx(1e-2)


def test_update_model_leaves_foreign_models_alone(handler, binary):
    inputs = keras.Input((5,))
    foreign = keras.Model(inputs, keras.layers.Dropout(0.5, name="dropout_1")(inputs), name="mine")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert update_model(foreign, {"dropout": 0.0}, handler, None) is foreign
    assert foreign.get_layer("dropout_1").rate == 0.5 and "update_model" in str(caught[0].message)


# -- get_loss, class weights and native metrics -----------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(handler, binary):
    model, data = new_model(SMALL, handler, binary)
    model.fit(data, epochs=2, verbose=0)
    return model


def test_the_loss_of_a_split_the_evaluation_predicted_reads_its_predictions(trained, handler, binary, monkeypatch):
    """The built-in evaluation predicts every split for its figures, then asks ``get_loss`` about the same dataset:
    that second pass reads the kept predictions (same values), and another model predicts for itself."""
    from optima_keras.evaluation import KerasLoadedModel

    hooks = types.SimpleNamespace(build_tensorflow_dataset=lambda ray_dataset, **kwargs: tf_data(ray_dataset))
    loaded = KerasLoadedModel(trained, KERAS_RUN, hooks, handler, SMALL, {"val": binary})
    expected_loss = given(get_loss(KERAS_RUN, {}, trained, tf_data(binary), handler))
    expected_outputs = np.concatenate([trained.predict_on_batch(batch[0]) for batch in tf_data(binary)])
    calls: list[int] = []
    real = type(trained).predict_on_batch

    def counting(model: Any, x: Any) -> Any:
        calls.append(id(model))
        return real(model, x)

    monkeypatch.setattr(type(trained), "predict_on_batch", counting)
    np.testing.assert_array_equal(loaded.predict_events(binary), expected_outputs)
    batches = len(calls)
    assert batches == len(list(tf_data(binary)))
    assert given(get_loss(KERAS_RUN, {}, trained, loaded.dataset("val"), handler)) == expected_loss
    assert len(calls) == batches  # no second prediction pass
    other = keras.models.clone_model(trained)
    other.compile(loss="binary_crossentropy")
    get_loss(KERAS_RUN, {}, other, loaded.dataset("val"), handler)
    assert calls.count(id(other)) == batches  # kept predictions belong to the model that made them
    loaded.predict_events({**binary})  # events that are none of its splits: predicted, nothing kept
    assert len(calls) == 3 * batches


def test_get_loss_is_the_weighted_mean(trained, handler, binary):
    p = trained.predict(binary["Input"], verbose=0)[:, 0].astype(np.float64)
    per_event = bce(binary["Target"], p)
    # weights favouring the high-loss half, so that the weighted mean is clearly not the plain mean
    w = np.where(per_event > np.median(per_event), 5.0, 0.2) * binary["Weight"]
    expected = np.sum(w * per_event) / np.sum(w)
    assert expected - np.mean(per_event) > 0.5 * np.std(per_event) > 0
    events = binary | {"Weight": w}
    assert get_loss(KERAS_RUN, SMALL, trained, tf_data(events, 300), handler) == pytest.approx(expected, rel=1e-5)
    unweighted = get_loss({"model_type": "Keras"}, SMALL, trained, tf_data(binary, 300, weights=False), handler)
    assert unweighted == pytest.approx(np.mean(per_event), rel=1e-5)
    assert isinstance(unweighted, float)
    assert get_loss(LIGHTNING_RUN, SMALL, trained, tf_data(binary), handler) is None


def test_get_loss_of_a_model_compiled_with_a_loss_name(handler, binary):
    # A run-config compile_model may pass the loss as a string: model.loss is then a str, not a callable.
    data = tf_data(binary, weights=False)
    model = build_model(SMALL, handler, data)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    p = model.predict(binary["Input"], verbose=0)[:, 0].astype(np.float64)
    loss = get_loss(KERAS_RUN, SMALL, model, data, handler)
    assert loss == pytest.approx(np.mean(bce(binary["Target"], p)), rel=1e-5)


def test_class_weights_change_the_loss_as_predicted(trained, handler, binary, three_class):
    data = tf_data(binary)
    p = trained.predict(binary["Input"], verbose=0)[:, 0].astype(np.float64)
    y, w = binary["Target"], binary["Weight"]
    compile_model(trained, {"loss_weight_class_0": 2.0, "loss_weight_class_1": 0.5}, [], [], handler, data, False)
    class_weight = np.where(y == 1, 2.0, 0.5)  # class 0 is the positive class for one output column
    expected = np.sum(w * class_weight * bce(y, p)) / np.sum(w)
    assert get_loss(KERAS_RUN, {}, trained, data, handler) == pytest.approx(expected, rel=1e-5)
    # Keras' own evaluation uses the same loss (mean over events of w * class weight * loss)
    keras_loss = trained.evaluate(data, verbose=0, return_dict=True)["loss"]
    assert keras_loss == pytest.approx(np.mean(w * class_weight * bce(y, p)), rel=1e-4)
    # For one column, categorical cross-entropy and KL divergence see (y, 1 - y): equal to BCE for hard labels.
    for name in ("CategoricalCrossentropy", "KLDivergence"):
        compile_model(trained, {"loss_function": name}, [], [], handler, data, False)
        assert get_loss(KERAS_RUN, {}, trained, data, handler) == pytest.approx(
            np.sum(w * bce(y, p)) / np.sum(w), rel=1e-4
        )
    compile_model(trained, {}, [], [], handler, data, False)

    model, data3 = new_model(
        SMALL | {"loss_function": "KLDivergence", "loss_weight_class_2": 3.0}, handler, three_class
    )
    p3 = np.clip(model.predict(three_class["Input"], verbose=0).astype(np.float64), EPS, 1)
    y3, w3 = three_class["Target"], three_class["Weight"]
    y3c = np.clip(y3, EPS, 1)
    kl = np.sum(y3c * np.log(y3c / p3), axis=1)
    expected3 = np.sum(w3 * (y3 @ [1.0, 1.0, 3.0]) * kl) / np.sum(w3)
    assert get_loss(KERAS_RUN, {}, model, data3, handler) == pytest.approx(expected3, rel=1e-4)


def test_native_metric_values_match_keras_on_full_arrays(trained, handler, binary):
    p = trained.predict(binary["Input"], verbose=0)
    y, w = binary["Target"][:, None], binary["Weight"]
    metrics = [keras.metrics.AUC(), keras.metrics.BinaryAccuracy(), keras.metrics.Precision()]
    weighted = given(get_native_metric_values(KERAS_RUN, metrics, SMALL, trained, tf_data(binary, 128), handler))
    plain = given(get_native_metric_values(KERAS_RUN, metrics, SMALL, trained, tf_data(binary, 128, False), handler))
    for values, weights in ((weighted, w), (plain, None)):
        for value, cls in zip(
            values, (keras.metrics.AUC, keras.metrics.BinaryAccuracy, keras.metrics.Precision), strict=True
        ):
            reference = cls()
            reference.update_state(y, p, sample_weight=weights)
            assert isinstance(value, float) and value == pytest.approx(float(reference.result()), rel=1e-5)
    assert weighted[1] != pytest.approx(plain[1], rel=1e-6)
    assert get_native_metric_values(LIGHTNING_RUN, metrics, SMALL, trained, tf_data(binary), handler) is None


def test_training_separates_the_classes(handler):
    train, val = make_events(4000, 2, seed=3), make_events(2000, 2, seed=4)
    model, data = new_model({"batch_size": 128}, handler, train)
    model.fit(data, epochs=4, verbose=0)
    (auc,) = given(get_native_metric_values(KERAS_RUN, [keras.metrics.AUC()], {}, model, tf_data(val), handler))
    assert auc > 0.8


# -- the plugin -------------------------------------------------------------------------------------------------


def test_hooks_dispatch_to_the_builtins(handler, binary):
    hooks = create_plugin_manager().hooks
    config = SMALL | {"dropout": 0.2}
    data = hooks.build_tensorflow_dataset(
        ray_dataset=binary, input_handler=handler, run_config=None, model_config=config
    )
    model = hooks.build_model(model_config=config, input_handler=handler, train_data=data)
    model = hooks.compile_model(
        model=model,
        model_config=config,
        metrics=[keras.metrics.AUC()],
        weighted_metrics=[],
        input_handler=handler,
        train_data=data,
        first_compile=True,
    )
    model = hooks.update_model(
        model=model, model_config=config | {"dropout": 0.0}, input_handler=handler, train_data=data
    )
    assert model.get_layer("dropout_1").rate == 0.0
    loss = hooks.get_loss(run_config=KERAS_RUN, model_config=config, model=model, dataset=data, input_handler=handler)
    assert loss == pytest.approx(get_loss(KERAS_RUN, config, model, data, handler))
    values = hooks.get_native_metric_values(
        run_config=KERAS_RUN,
        native_metrics=[keras.metrics.AUC()],
        model_config=config,
        model=model,
        dataset_or_dataloader=data,
        input_handler=handler,
    )
    assert len(values) == 1 and 0.0 <= values[0] <= 1.0
    # for a Lightning run the Keras built-in declines (see test_get_loss_is_the_weighted_mean) and the next is asked
    assert {"keras", "lightning"} <= set(create_plugin_manager().hook_providers("get_loss"))


def test_plugin_module_does_not_import_the_framework():
    script = "import sys, optima_keras.plugin; sys.exit(int('keras' in sys.modules or 'tensorflow' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == 0


def test_the_backend_descriptor_states_the_builtin_models_facts() -> None:
    """What compile_model and update_model change on a trained model, and what the normalisation layer scales."""
    from optima_keras.compile import COMPILE_DEFAULTS
    from optima_keras.normalization import SCALING_TYPES

    backend = create_plugin_manager().backends()["Keras"]
    assert set(backend.mutatable) == {*COMPILE_DEFAULTS, "loss_weight_class_N", "l1_lambda", "l2_lambda", "dropout"}
    assert set(backend.scalings) == set(SCALING_TYPES)
    assert backend.model_hooks == ("build_model", "compile_model") and backend.required_hooks == ()
    assert backend.framework_versions() == {"keras": keras.__version__, "tensorflow": tf.__version__}
