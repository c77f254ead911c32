"""OPTIMA Keras plugin: registers the 'Keras' backend (entry point `optima = keras`) and its built-in hooks.

Import-light: nothing here imports the framework; each hook imports its implementation when it is first called,
i.e. when a Keras model is actually trained, and Keras is then imported without running the plotting modules it
imports and does not use (:mod:`.lean_import`). The built-in hooks are ``trylast`` so that a run-config or another
plugin implementing the same hook is asked first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor, Hyperparameter
from optima_keras import lean_import

lean_import.install()

#: Hyperparameters the built-in model can change while keeping its training state: those of ``compile_model`` (the
#: Adam settings, the loss and the class weights) and those ``update_model`` applies to the built-in MLP.
MUTATABLE: tuple[str, ...] = (
    "learning_rate",
    "Adam_beta_1",
    "one_minus_Adam_beta_2",
    "Adam_epsilon",
    "loss_function",
    "loss_weight_class_N",
    "l1_lambda",
    "l2_lambda",
    "dropout",
)

#: Activation names Keras 3 resolves (``keras.activations.get``; case-sensitive) and the initializer names it
#: resolves (``keras.initializers.get``) plus the built-in model's ``'auto'``.
ACTIVATIONS: tuple[str, ...] = (
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
)  # fmt: skip
INITIALIZERS: tuple[str, ...] = (
    "auto", "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal",
    "lecun_uniform", "normal", "one", "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "uniform", "variance_scaling", "zero", "zeros", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal",
    "HeUniform", "Identity", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Zeros",
)  # fmt: skip

#: What the built-in ``build_model`` / ``compile_model`` / ``update_model`` read and accept; validation refuses
#: search-space keys and values outside it before Ray starts.
HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    Hyperparameter("num_layers", minimum=0, integer=True),
    Hyperparameter("units", minimum=1, integer=True),
    Hyperparameter("units_N", minimum=1, integer=True),
    Hyperparameter("activation", choices=ACTIVATIONS),
    Hyperparameter("kernel_initializer", choices=INITIALIZERS),
    Hyperparameter("bias_initializer", choices=INITIALIZERS),
    Hyperparameter("l1_lambda", minimum=0),
    Hyperparameter("l2_lambda", minimum=0),
    Hyperparameter("dropout", minimum=0, maximum=1, max_exclusive=True),
    Hyperparameter("learning_rate", minimum=0, min_exclusive=True),
    Hyperparameter("Adam_beta_1", minimum=0, maximum=1, max_exclusive=True),
    Hyperparameter("one_minus_Adam_beta_2", minimum=0, maximum=1, min_exclusive=True),
    Hyperparameter("Adam_epsilon", minimum=0),
    Hyperparameter("loss_function", choices=("BinaryCrossentropy", "CategoricalCrossentropy", "KLDivergence")),
    Hyperparameter("loss_weight_class_N", minimum=0),
)


@hookimpl
def optima_register_backends() -> list[BackendDescriptor]:
    return [
        BackendDescriptor(
            "Keras",
            "optima_keras.backend:KerasBackend",
            "Keras 3 models on TensorFlow (run-config build_model, or the built-in MLP)",
            requires=("keras", "tensorflow"),
            install_hint="pip install 'optima-keras[cpu]' (or 'optima-keras[gpu]' for NVIDIA GPUs)",
            model_hooks=("build_model", "compile_model"),
            mutatable=MUTATABLE,
            scalings=("linear", "sqrt", "log10"),
            hyperparameters=HYPERPARAMETERS,
            onnx_exporter="optima_keras.onnx_export",
        )
    ]


@hookimpl(trylast=True)
def build_tensorflow_dataset(ray_dataset: Any, input_handler: Any, run_config: Any, model_config: Any) -> Any:
    from optima_keras.data import build_tensorflow_dataset as builtin

    return builtin(ray_dataset, input_handler, run_config, model_config)


@hookimpl(trylast=True)
def build_model(model_config: Any, input_handler: Any, train_data: Any) -> Any:
    from optima_keras.models import build_model as builtin

    return builtin(model_config, input_handler, train_data)


@hookimpl(trylast=True)
def compile_model(
    model: Any,
    model_config: Any,
    metrics: Any,
    weighted_metrics: Any,
    input_handler: Any,
    train_data: Any,
    first_compile: bool,
) -> Any:
    from optima_keras.compile import compile_model as builtin

    return builtin(model, model_config, metrics, weighted_metrics, input_handler, train_data, first_compile)


@hookimpl(trylast=True)
def update_model(model: Any, model_config: Any, input_handler: Any, train_data: Any) -> Any:
    from optima_keras.models import update_model as builtin

    return builtin(model, model_config, input_handler, train_data)


def is_keras_run(run_config: Any) -> bool:
    """Whether ``run_config`` selects the Keras backend (the default when it does not say).

    The evaluation hooks below ask this before importing anything of Keras: in a run of another backend they answer
    ``None`` without loading TensorFlow into the process (it would cost about 450 MB per Ray worker).
    """
    if isinstance(run_config, Mapping):
        return run_config.get("model_type", "Keras") == "Keras"
    return getattr(run_config, "model_type", "Keras") == "Keras"


@hookimpl(trylast=True)
def get_loss(run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> Any:
    if not is_keras_run(run_config):
        return None
    from optima_keras.evaluation import get_loss as builtin

    return builtin(run_config, model_config, model, dataset, input_handler)


@hookimpl(trylast=True)
def get_native_metric_values(
    run_config: Any,
    native_metrics: Any,
    model_config: Any,
    model: Any,
    dataset_or_dataloader: Any,
    input_handler: Any,
) -> Any:
    if not is_keras_run(run_config):
        return None
    from optima_keras.evaluation import get_native_metric_values as builtin

    return builtin(run_config, native_metrics, model_config, model, dataset_or_dataloader, input_handler)
