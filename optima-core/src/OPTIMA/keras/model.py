"""``OPTIMA.keras.model``: the built-in Keras model functions, with the signatures the original documents.

``build_model(model_config, input_handler, train_data, seed=None)``, ``compile_model(model, model_config,
metrics=None, weighted_metrics=None, input_handler=None, train_data=None, first_compile=True)`` and
``update_model(model, model_config, input_handler=None, train_data=None)`` -- thin adapters in
:mod:`optima_keras.compat` over :mod:`optima_keras.models` and :mod:`optima_keras.compile`, so a run-config can call
the built-ins from its own ``build_model`` or ``compile_model`` (e.g. to add a layer or a metric).
"""

from OPTIMA._compat import export

PROVIDED = {
    "build_model": "optima_keras.compat:build_model",
    "compile_model": "optima_keras.compat:compile_model",
    "update_model": "optima_keras.compat:update_model",
}
REPLACED = {
    "export_builtin_keras_to_lwtnn": "export models in a run-config finalize_model hook (lwtnn is not supported)",
    "predict_batch": "call the Keras model on the batch: model(inputs, training=False)",
}

__all__ = sorted(PROVIDED)
__getattr__, __dir__ = export(__name__, globals(), PROVIDED, REPLACED)
