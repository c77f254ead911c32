"""Using the cross-validated models outside OPTIMA: ONNX bundles and applying them by event number.

After each cross-validation (and for ``optima export OUTPUT_DIR``) every fold model is exported to
``<models folder>/onnx/model_fold<k>.onnx``; the graph takes the raw input variables, in the order of
``models.json``'s ``input_vars``, and contains the non-linear input scaling and the normalisation. ``models.json``
(:mod:`optima_core.deploy.bundle`) says which model applies to which event (:mod:`optima_core.deploy.assignment`).

:func:`apply` evaluates a bundle with onnxruntime only (no training framework needed)::

    from optima_core.deploy import apply
    outputs = apply("output/main_run/main_hyperopt/crossvalidation/best_value/onnx/models.json", dataframe)
"""

from __future__ import annotations

from optima_core.deploy.apply import apply

__all__ = ["apply"]
