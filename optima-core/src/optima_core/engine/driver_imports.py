"""What the driver imports, and when: torch never for Ray Tune's logger; Ray Tune and Optuna while Ray starts.

Keep torch out of the driver: Ray Tune's TensorBoard logger would import it for nothing.

Every Tune experiment logs to TensorBoard through ``tensorboardX``, whose ``writer`` module imports torch when it is
installed, only to accept torch tensors as values. Tune reports plain numbers, so the driver has no use for torch:
importing it costs seconds and hundreds of MiB in the driver while the models train in the Ray workers.
:func:`import_tensorboardx_without_torch` imports ``tensorboardX`` once with torch hidden, so the event files are
still written, and torch is imported by whatever needs it later (an ONNX export, a user's hook) as usual.

Ray starts in the background while the inputs load, and the run's main thread then waits for it (1-2 s on 2
cores); :func:`import_stage_modules` imports in that wait what every stage's driver imports first (Ray Tune, its
schedulers and Optuna searcher, Optuna and its study storage), which otherwise delayed the first trials by as long,
and scipy's curve fit, which delayed the cross-validation by 0.4 s.
"""

from __future__ import annotations

import importlib
import sys

#: What the stages import in the driver before their first trials (Optuna's study storage imports SQLAlchemy and
#: Alembic when it opens), and the curve fit of best-fit selection between the optimization and the
#: cross-validation, when no trial runs; none of them imports a framework.
STAGE_MODULES = (
    "ray.tune",
    "ray.tune.schedulers",
    "ray.tune.search.optuna",
    "optuna",
    "optima_core.engine.optuna_searcher",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "alembic.command",
    "alembic.config",
    "alembic.migration",
    "alembic.script",
    "optuna.storages._rdb.models",
    "scipy.optimize",
)


def import_stage_modules() -> None:
    """Import :data:`STAGE_MODULES` (one that cannot be imported is left to the stage that needs it to report),
    without garbage collections meanwhile (imports make no garbage, and each full collection would scan every
    object imported so far)."""
    from optima_core.inputs.memory import collections_paused

    with collections_paused():
        for name in STAGE_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                continue


def import_tensorboardx_without_torch() -> None:
    """Import ``tensorboardX`` with torch hidden; nothing when either is imported already or is not installed.

    Call it while no other thread of the driver imports modules (torch is hidden from all of them meanwhile).
    """
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # 'import torch' raises ImportError meanwhile
    try:
        importlib.import_module("tensorboardX")
    except ImportError:
        pass  # Tune then writes no TensorBoard files, as it would without tensorboardX
    finally:
        del sys.modules["torch"]
