"""The built-in Keras model: a Functional multilayer perceptron for classification, and its in-place updates.

Architecture (layer names in brackets)::

    Input [inputs] -> NonLinearNormalization [normalization]
    -> for i = 1..num_layers: Dense [hidden_i] -> BatchNormalization [batch_norm_i] (not after the last hidden
       layer, never with selu) -> Dropout [dropout_i] (AlphaDropout with selu)
    -> Dense [output]: 1 unit + sigmoid for one target column, k units + softmax for k columns

Every hidden layer carries an ``L1L2`` kernel regulariser and every hidden layer a dropout layer, even at strength
or rate 0, so that :func:`update_model` can change them later without rebuilding. The model only contains Keras
built-ins and :class:`~optima_keras.normalization.NonLinearNormalization`, so it saves to ``.keras`` and loads back
with ``keras.saving.load_model(path)`` once this package's layer is imported (see :func:`load_model`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import keras

import optima_keras.losses  # noqa: F401 - registers ClassWeightedLoss, so importing this module suffices to load
from optima_keras.normalization import NonLinearNormalization

#: Name of the model built by :func:`build_model`; :func:`update_model` only touches models of this name.
MODEL_NAME = "optima_mlp"

#: Defaults of the hyperparameters :func:`build_model` reads (``units_i`` defaults to ``units``).
BUILD_DEFAULTS: dict[str, Any] = {
    "num_layers": 3,
    "units": 32,
    "activation": "swish",
    "kernel_initializer": "auto",
    "bias_initializer": "auto",
    "l1_lambda": 0.0,
    "l2_lambda": 0.0,
    "dropout": 0.1,
}


def _hp(model_config: Mapping[str, Any], name: str) -> Any:
    value = model_config.get(name)
    return BUILD_DEFAULTS[name] if value is None else value


def _dropout_rate(model_config: Mapping[str, Any]) -> float:
    rate = float(_hp(model_config, "dropout"))
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {rate}")
    return rate


def _lambdas(model_config: Mapping[str, Any]) -> tuple[float, float]:
    l1, l2 = float(_hp(model_config, "l1_lambda")), float(_hp(model_config, "l2_lambda"))
    if l1 < 0 or l2 < 0:
        raise ValueError(f"l1_lambda and l2_lambda must be >= 0, got {l1} and {l2}")
    return l1, l2


def _element_specs(train_data: Any) -> tuple[Any, Any]:
    """``(input_spec, target_spec)`` of a dataset yielding ``(x, y)`` or ``(x, y, w)`` batches."""
    spec = getattr(train_data, "element_spec", None)
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError(
            "the built-in build_model needs a tf.data.Dataset yielding (inputs, targets) or "
            f"(inputs, targets, weights) batches; got element spec {spec!r}"
        )
    return spec[0], spec[1]


def _normalization_for(input_handler: Any, num_features: int) -> NonLinearNormalization:
    input_vars = input_handler.get_vars() if input_handler is not None else None
    if input_vars is None:
        return NonLinearNormalization(name="normalization")
    if len(input_vars) != num_features:
        raise ValueError(
            f"the InputHandler lists {len(input_vars)} input variables but the inputs have {num_features} columns"
        )
    scalings = input_handler.get_nonlinear_scaling()
    names = [v if isinstance(v, str) else "_".join(str(i) for i in v) for v in input_vars]
    return NonLinearNormalization(
        scalings=[scalings.get(v, ("linear", (1.0, 0.0))) for v in input_vars],
        variable_names=names,
        name="normalization",
    )


def build_model(model_config: Mapping[str, Any], input_handler: Any, train_data: Any) -> keras.Model:
    """Build the uncompiled built-in MLP for ``model_config``; the normalisation is adapted on ``train_data``.

    Args:
        model_config: hyperparameters; read are ``num_layers`` (3), ``units`` (32), ``units_1``, ``units_2``, ...
            (neurons of hidden layer i, default ``units``), ``activation`` ('swish'), ``kernel_initializer`` and
            ``bias_initializer`` ('auto': Keras' glorot_uniform / zeros, lecun_normal kernels for selu),
            ``l1_lambda`` and ``l2_lambda`` (0.0) and ``dropout`` (0.1). Missing or ``None`` means the default.
        input_handler: provides the variable order (``get_vars()``) and scalings (``get_nonlinear_scaling()``);
            ``get_vars() is None`` means every input column is normalised without a non-linear scaling.
        train_data: the training ``tf.data.Dataset`` of ``(inputs, targets[, weights])`` batches with flat inputs
            ``(batch, variables)``. Its target spec gives the number of outputs.

    Returns:
        The uncompiled :class:`keras.Model` named ``'optima_mlp'``.
    """
    input_spec, target_spec = _element_specs(train_data)
    if len(input_spec.shape) != 2 or input_spec.shape[-1] is None:
        raise ValueError(f"the built-in MLP needs flat inputs (batch, variables), got shape {input_spec.shape}")
    num_features = int(input_spec.shape[-1])
    num_outputs = 1 if len(target_spec.shape) < 2 or target_spec.shape[-1] in (None, 1) else int(target_spec.shape[-1])

    num_layers = int(_hp(model_config, "num_layers"))
    if num_layers < 0:
        raise ValueError(f"num_layers must be >= 0, got {num_layers}")
    activation = _hp(model_config, "activation")
    selu = isinstance(activation, str) and activation.lower() == "selu"
    kernel_initializer = _hp(model_config, "kernel_initializer")
    if kernel_initializer == "auto":
        kernel_initializer = "lecun_normal" if selu else "glorot_uniform"
    bias_initializer = _hp(model_config, "bias_initializer")
    if bias_initializer == "auto":
        bias_initializer = "zeros"
    l1, l2 = _lambdas(model_config)
    rate = _dropout_rate(model_config)

    inputs = keras.Input(shape=(num_features,), name="inputs", dtype="float32")
    normalization = _normalization_for(input_handler, num_features)
    x = normalization(inputs)
    normalization.adapt(train_data)
    for i in range(1, num_layers + 1):
        units = model_config.get(f"units_{i}")
        units = int(_hp(model_config, "units") if units is None else units)
        x = keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=keras.regularizers.L1L2(l1=l1, l2=l2),
            name=f"hidden_{i}",
        )(x)
        if not selu and i < num_layers:
            x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        dropout_class = keras.layers.AlphaDropout if selu else keras.layers.Dropout
        x = dropout_class(rate, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(num_outputs, activation="sigmoid" if num_outputs == 1 else "softmax", name="output")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=MODEL_NAME)


def update_model(model: keras.Model, model_config: Mapping[str, Any], input_handler: Any, train_data: Any) -> Any:
    """Apply new ``l1_lambda``, ``l2_lambda`` and ``dropout`` to a built-in MLP in place, keeping its weights.

    Args:
        model: a model built by :func:`build_model` (possibly restored from a ``.keras`` file).
        model_config: the (mutated) hyperparameters; missing values fall back to the build defaults.
        input_handler: unused; part of the hook signature.
        train_data: unused; part of the hook signature.

    Returns:
        The same model object. The caller must compile it again for the changes to reach training, since Keras
        traces the training step with the rates and strengths of the moment.

    A model of another name is returned unchanged with a warning: only the built-in MLP's layout is known.
    """
    if getattr(model, "name", None) != MODEL_NAME:
        warnings.warn(
            f"the built-in update_model only updates models built by the built-in build_model (named {MODEL_NAME!r}); "
            f"model {getattr(model, 'name', model)!r} is left unchanged. Define update_model in the run-config.",
            stacklevel=2,
        )
        return model
    l1, l2 = _lambdas(model_config)
    rate = _dropout_rate(model_config)
    for layer in model.layers:
        if layer.name.startswith("hidden_") and isinstance(layer, keras.layers.Dense):
            regularizer = layer.kernel_regularizer
            if isinstance(regularizer, keras.regularizers.L1L2):
                # The kernel variable holds the same regulariser object, so this reaches the training loss as well.
                regularizer.l1, regularizer.l2 = l1, l2
            else:
                regularizer = keras.regularizers.L1L2(l1=l1, l2=l2)
                layer.kernel_regularizer = regularizer
                layer.kernel.regularizer = regularizer
        elif layer.name.startswith("dropout_") and isinstance(layer, (keras.layers.Dropout, keras.layers.AlphaDropout)):
            layer.rate = rate
            if rate > 0 and getattr(layer, "seed_generator", None) is None:
                # Keras only creates a dropout layer's seed generator when built with a positive rate.
                layer._tracker.unlock()
                layer.seed_generator = keras.random.SeedGenerator(layer.seed)
                layer._tracker.lock()
    return model


def load_model(path: Any, **kwargs: Any) -> keras.Model:
    """``keras.saving.load_model`` for models built and compiled by the built-ins.

    Keras 3 resolves non-Keras classes from its registry only (it never imports a module outside the ``keras``
    package), so a process that never imported :mod:`optima_keras.normalization` and :mod:`optima_keras.losses`
    cannot load the built-in model ("Could not locate class ..."). Importing this module registers both; calling
    ``keras.saving.load_model`` directly is equally fine afterwards.
    """
    return keras.saving.load_model(path, **kwargs)
