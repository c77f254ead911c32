"""``optima export OUTPUT_DIR``: (re)write the ONNX bundle of every cross-validation of a finished run.

The run-config is the snapshot in the output folder (``run_config.py``, ``defaults_config.py``), the models are
found by their ``optima_plan.json``, and the inputs are loaded again as the run loaded them (the same split), so
the bundles are the ones the run would have written with ``export_onnx = True``. After a variable selection, the
models of the stages that follow it take the selected variables (``variable_selection/variable_selection.json``).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from optima_core.deploy.export import ExportJob, export_bundle
from optima_core.errors import OptimaUserError

PLAN_FILE = "optima_plan.json"
MANIFEST = "optima_run.json"
PRE_SELECTION_FOLDER = "variable_opt_hyperopt"


def _selected_variables(output_dir: Path) -> list[Any] | None:
    path = output_dir / "variable_selection" / "variable_selection.json"
    return list(json.loads(path.read_text())["selected"]) if path.is_file() else None


def rebuild_bundles(output_dir: str | Path) -> list[Path]:
    """Export the models of every cross-validation (and fixed training) in ``output_dir``; the ``models.json`` paths."""
    from optima_core.config.loader import load_run_config
    from optima_core.engine.context import experiment_inputs, inputs_need_ray, new_input_handler
    from optima_core.plugins.active import using_manager
    from optima_core.plugins.manager import create_plugin_manager
    from optima_core.variable_selection.session import restrict

    output_dir = Path(output_dir)
    if not (output_dir / MANIFEST).is_file() or not (output_dir / "run_config.py").is_file():
        raise OptimaUserError(
            f"'{output_dir}' is not the output folder of an OPTIMA run: expected {MANIFEST} and run_config.py in it"
        )
    folders = sorted(path.parent for path in output_dir.rglob(PLAN_FILE))
    if not folders:
        raise OptimaUserError(f"the run in '{output_dir}' has no cross-validated models yet (no {PLAN_FILE} found)")
    defaults = output_dir / "defaults_config.py"
    run_config = load_run_config(output_dir / "run_config.py", defaults if defaults.is_file() else None)
    manager = create_plugin_manager(run_config_module=run_config.module)
    suffix = manager.descriptor("backend", run_config.model_type).load().model_suffix
    selected = _selected_variables(output_dir)
    handler = new_input_handler(manager.hooks, run_config)
    loaded: dict[bool, list[dict[str, Any]]] = {}
    written = []
    with ExitStack() as session:
        if inputs_need_ray(manager):
            from optima_core.clusters.local import LocalCluster, ResourceRequest
            from optima_core.engine.ray_session import ray_session

            session.enter_context(ray_session(LocalCluster().plan(ResourceRequest())))
        session.enter_context(using_manager(manager))
        for folder in folders:
            plan = json.loads((folder / PLAN_FILE).read_text())
            crossvalidation = bool(plan.get("crossvalidation", True))
            if crossvalidation not in loaded:
                loaded[crossvalidation] = experiment_inputs(manager, run_config, handler, None, crossvalidation)
            folds, input_handler = loaded[crossvalidation], handler
            if selected is not None and PRE_SELECTION_FOLDER not in folder.relative_to(output_dir).parts:
                input_handler = handler.copy()
                input_handler.set_vars(selected)
                variables = input_handler.get_vars()
                folds = [{split: restrict(data, variables) for split, data in fold.items()} for fold in folds]
            names = [f"model_fold{k}" for k in range(len(folds))] if crossvalidation else ["model"]
            job = ExportJob(
                run_config,
                manager,
                input_handler,
                str(plan.get("label", folder.name)),
                dict(plan.get("model_config") or {}),
                folds,
                [folder / f"{name}{suffix}" for name in names],
                folder,
                list(getattr(folds[0]["train"], "variables", None) or input_handler.get_vars() or []),
            )
            written.append(export_bundle(job))
    return written
