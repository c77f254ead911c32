"""Keep torch out of the driver: Ray Tune's TensorBoard logger would import it for nothing.

Every Tune experiment logs to TensorBoard through ``tensorboardX``, whose ``writer`` module imports torch when it is
installed, only to accept torch tensors as values. Tune reports plain numbers, so the driver has no use for torch:
importing it costs seconds and hundreds of MiB in the driver while the models train in the Ray workers.
:func:`import_tensorboardx_without_torch` imports ``tensorboardX`` once with torch hidden, so the event files are
still written, and torch is imported by whatever needs it later (an ONNX export, a user's hook) as usual.
"""

from __future__ import annotations

import importlib
import sys


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
