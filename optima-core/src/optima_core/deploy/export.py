"""Export the fold models of one cross-validation to an ONNX bundle: ``<models folder>/onnx/``.

Called after every cross-validation (``export_onnx = True``, the default) and by ``optima export OUTPUT_DIR``. The
core asks the run's backend for its exporter (``BackendDescriptor.onnx_exporter``: a module with ``missing()`` and
``export(model, path, example, opset, check)``), loads every fold model through the backend as the evaluation does,
exports it, and checks the graph with onnxruntime against the framework's predictions on the fold's held-out
events. Then ``models.json`` (:mod:`optima_core.deploy.bundle`) is written, with the rule saying which model applies
to which event (:mod:`optima_core.deploy.assignment`).

During a run nothing here can fail the run: missing exporter packages give one info line, a model the exporter
cannot capture (a run-config model with Python-side computations, say) one line naming the model and the reason,
and the run continues without that bundle. ``optima export`` raises those as errors instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optima_core import __version__
from optima_core.deploy import assignment
from optima_core.deploy.bundle import INPUT_NAME, ONNX_FOLDER, OPSET, OUTPUT_NAME, write_bundle
from optima_core.errors import OptimaUserError
from optima_core.logs import say
from optima_core.plugins.descriptors import providing_distributions

if TYPE_CHECKING:
    from optima_core.engine.context import RunContext
    from optima_core.engine.crossvalidation import FoldPlan

#: Packages the core needs for a bundle (checking the graphs, and ``deploy.apply``).
CORE_PACKAGES = ("onnx", "onnxruntime")
#: Largest difference between the ONNX graph's and the framework's outputs accepted (float32 arithmetic).
TOLERANCE = 1e-4
#: Held-out events the graph is checked on, and rows it is traced with.
CHECK_EVENTS, TRACE_EVENTS = 512, 16


class ExportError(OptimaUserError):
    """The bundle could not be written; the message says why (shown as one line during a run)."""


@dataclass
class ExportJob:
    """The fold models of one cross-validation and what is needed to load them."""

    run_config: Any
    manager: Any
    input_handler: Any
    label: str
    model_config: dict[str, Any]
    folds: list[dict[str, Any]]
    model_files: list[Path]
    models_dir: Path
    input_vars: list[Any]
    seconds: list[float] = field(default_factory=list)
    #: Models their workers exported and checked already: fold index -> (exporter used, seconds).
    exported: dict[int, tuple[str, float]] = field(default_factory=dict)


def export_after_crossvalidation(
    context: RunContext,
    plan: FoldPlan,
    folds: list[dict[str, Any]],
    model_files: list[Path],
    models_dir: Path,
    exported: dict[int, tuple[str, float]] | None = None,
) -> Path | None:
    """The bundle of a finished cross-validation (``None`` if ``export_onnx`` is off or it could not be written).

    ``exported``: the models the workers that trained them exported already (:func:`export_in_worker`).
    """
    if not context.run_config.get("export_onnx", True):
        return None
    input_vars = getattr(folds[0].get("train"), "variables", None) or context.input_handler.get_vars() or []
    job = ExportJob(
        context.run_config,
        context.manager,
        context.input_handler,
        plan.label,
        dict(plan.model_config),
        folds,
        model_files,
        models_dir,
        list(input_vars),
        exported=dict(exported or {}),
    )
    try:
        return export_bundle(job)
    except ExportError as reason:
        say(f"[{plan.label}] ONNX export skipped: {reason}")
        return None


def _distribution(module_name: str) -> str:
    names = providing_distributions(module_name)
    return names[0] if names else module_name.partition(".")[0]


def backend_exporter(manager: Any, model_type: str) -> Any:
    """The backend's exporter module; :class:`ExportError` when it has none or its packages are missing."""
    descriptor = manager.descriptor("backend", model_type)
    target = getattr(descriptor, "onnx_exporter", "")
    if not target:
        raise ExportError(f"the backend '{model_type}' ({descriptor.provider}) has no ONNX exporter")
    exporter = importlib.import_module(target)
    lacking = [name for name in CORE_PACKAGES if importlib.util.find_spec(name) is None]
    lacking += [name for name in exporter.missing() if name not in lacking]
    if lacking:
        raise ExportError(
            f"{', '.join(lacking)} not installed (pip install '{_distribution(target)}[onnx]' installs the exporters "
            "and onnxruntime)"
        )
    return exporter


def _held_out_inputs(fold: dict[str, Any]) -> np.ndarray:
    for split in ("test", "val", "train"):
        data = fold.get(split)
        if data is not None and len(data) >= 2:
            return np.ascontiguousarray(np.asarray(data["Input"])[:CHECK_EVENTS], dtype=np.float32)
    raise ExportError("no fold dataset has two events to trace the model with")


def _check(path: Path, inputs: np.ndarray, expected: np.ndarray) -> None:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    try:
        got = np.asarray(session.run(None, {INPUT_NAME: inputs})[0])
    except Exception as error:
        reason = str(error).strip().splitlines()[0][:120]
        raise ValueError(
            f"the exported graph does not run on {len(inputs)} held-out events ({reason}): it depends on something "
            "the exporter cannot capture (Python control flow over the events, say)"
        ) from error
    expected = np.asarray(expected, dtype=np.float32).reshape(got.shape) if expected.size == got.size else expected
    if got.shape != expected.shape:
        raise ValueError(
            f"the exported graph gives outputs of shape {got.shape} for {len(inputs)} held-out events, the model "
            f"{expected.shape}: it depends on something the exporter cannot capture"
        )
    difference = float(np.max(np.abs(got - expected))) if got.size else 0.0
    if not difference <= TOLERANCE * (1 + float(np.max(np.abs(expected)) if expected.size else 0)):
        raise ValueError(
            f"the exported graph does not reproduce the model's predictions (largest difference {difference:.3g} "
            f"on {len(inputs)} held-out events): it depends on something the exporter cannot capture"
        )


def export_checked(
    run_config: Any,
    manager: Any,
    input_handler: Any,
    model_config: dict[str, Any],
    fold: dict[str, Any],
    path: Path,
    target: Path,
) -> tuple[str, float]:
    """Export the model at ``path`` to ``target`` and check the graph on held-out events of ``fold``.

    Returns the exporter used and the seconds it took; raises :class:`ExportError` (``target`` removed).
    """
    from optima_core.engine.models import load_model

    exporter = backend_exporter(manager, run_config.model_type)
    split = tuple(fold[s] for s in ("train", "val", "test") if s in fold)
    loaded = load_model(run_config, path, input_handler, split, model_config, manager=manager)
    inputs = _held_out_inputs(fold)
    expected = np.asarray(loaded.predict(inputs))
    try:
        start = time.perf_counter()
        used = exporter.export(
            loaded.model, target, inputs[:TRACE_EVENTS], OPSET, lambda written: _check(written, inputs, expected)
        )
        seconds = time.perf_counter() - start
        _check(target, inputs, expected)  # whatever the exporter did, the bundle holds only checked graphs
    except Exception as error:
        target.unlink(missing_ok=True)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(
            f"the model {type(loaded.model).__name__} ({path.name}) cannot be exported to ONNX: {reason[:900]}"
        ) from error
    return str(used), seconds


def onnx_target(model_path: Path) -> Path:
    """Where the ONNX graph of the model at ``model_path`` goes in its cross-validation's bundle."""
    return model_path.parent / ONNX_FOLDER / f"{model_path.stem}.onnx"


def export_in_worker(
    run_config: Any, manager: Any, input_handler: Any, model_config: dict[str, Any], fold: dict[str, Any], path: Path
) -> tuple[str, float] | None:
    """Export one model in the Ray worker that trained it (framework loaded, data in memory); ``None`` when that
    fails for any reason: the driver then exports it itself and reports why, as it always did."""
    target = onnx_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return export_checked(run_config, manager, input_handler, model_config, fold, path, target)
    except Exception:  # noqa: BLE001 - the driver's export of this model says why
        target.unlink(missing_ok=True)
        return None


def _output_columns(run_config: Any, width: int) -> list[str]:
    labels = [str(label) for label in (run_config.get("evaluation_class_labels") or [])]
    if width == 1 and labels:
        return [f"P({labels[0]})"]
    return labels[:width] if len(labels) >= width else [f"output {i}" for i in range(width)]


def export_bundle(job: ExportJob) -> Path:
    """Export every model of ``job`` and write ``models.json``; returns its path. Raises :class:`ExportError`."""
    folder = job.models_dir / ONNX_FOLDER
    kept = [i for i, path in enumerate(job.model_files) if path.exists()]
    if not kept:
        raise ExportError(f"no model file in {job.models_dir}")
    done = {i: job.exported[i] for i in kept if i in job.exported and onnx_target(job.model_files[i]).is_file()}
    fresh = {onnx_target(job.model_files[i]) for i in done}
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():  # an earlier attempt's files; the workers' graphs of this run stay
        if stale not in fresh:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    models: list[dict[str, Any]] = []
    used = ""
    try:
        for index in kept:
            path = job.model_files[index]
            target = onnx_target(path)
            if index in done:
                used, seconds = done[index]
            else:
                used, seconds = export_checked(
                    job.run_config, job.manager, job.input_handler, job.model_config, job.folds[index], path, target
                )
            job.seconds.append(seconds)
            models.append({"file": target.name, "fold": index, "export_seconds": round(seconds, 3)})
    except ExportError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    import onnx

    width = int(onnx.load(str(folder / models[0]["file"])).graph.output[0].type.tensor_type.shape.dim[-1].dim_value)
    rule = assignment.describe(job.run_config, job.folds, kept, folder)
    for model in models:
        condition = rule["conditions"].get(model["fold"])
        if condition:
            offset, n = condition["offset"], condition["n"]
            model["applies_to"] = f"(EventNumber + {offset}) % {n} == 0" if offset else f"EventNumber % {n} == 0"
            model["condition"] = condition
    content = {
        "input_vars": [v if isinstance(v, str) else "_".join(str(i) for i in v) for v in job.input_vars],
        "input_name": INPUT_NAME,
        "output_names": [OUTPUT_NAME],
        "output_columns": _output_columns(job.run_config, max(width, 1)),
        "k": len(models),
        "models": models,
        "event_number_column": str(job.run_config.get("event_number_column") or "EventNumber"),
        "applies_to": rule["applies_to"],
        "assignment": rule["assignment"],
        "opset": OPSET,
        "optima_version": __version__,
        "exporter": used,
        "label": job.label,
        "hyperparameters": job.model_config,
    }
    written = write_bundle(folder, content)
    say(f"[{job.label}] ONNX: {len(models)} model(s) in {folder} ({used}; at most {max(job.seconds):.1f} s per model)")
    return written
