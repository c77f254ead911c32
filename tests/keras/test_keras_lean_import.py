"""Keras imported without running matplotlib's pyplot and patches, which it imports for its galleries only.

Each check runs in a fresh interpreter (a module is imported once per process), importing the plugin first as a run
does; ``MPLBACKEND=Agg`` so that drawing needs no display.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

pytest.importorskip("optima_keras")
pytestmark = pytest.mark.keras

#: What ``import keras`` loaded, and then whether Keras's own gallery, pyplot and OPTIMA's figures work in that process.
_IMPORT_THEN_DRAW = """
    import json, sys
    import numpy as np
    import optima_keras.plugin
    import keras
    loaded = {name: name in sys.modules for name in ("matplotlib", "matplotlib.figure", "matplotlib.backend_bases")}
    gallery = keras.visualization.plot_image_gallery(np.zeros((2, 8, 8, 3)), rows=1, cols=2)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from keras.src.visualization import plot_image_gallery as gallery_module
    figure, ax = plt.subplots()
    ax.add_patch(Rectangle((0, 0), 1, 1))
    from optima_plots.style import new_figure, save_figure
    own, own_ax = new_figure(4, 3)
    own_ax.plot([0, 1], [0, 1])
    files = save_figure(own, sys.argv[1] + "/figure")
    print(json.dumps({
        "loaded": loaded,
        "same_pyplot": gallery_module.plt is sys.modules["matplotlib.pyplot"] is plt,
        "pyplot_type": type(plt).__name__,
        "patch_drawn": len(ax.patches) == 1,
        "files": [f.stat().st_size > 0 for f in files],
    }))
"""


def _run(code: str, folder: str, **environment: str) -> Any:
    env = {**os.environ, "MPLBACKEND": "Agg", **environment}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), folder], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_keras_imports_without_pyplot_and_its_galleries_and_figures_still_work(tmp_path: Any) -> None:
    result = _run(_IMPORT_THEN_DRAW, str(tmp_path))
    # matplotlib's package is imported (Keras asks for its submodules); pyplot's code, which imports the figure
    # machinery and selects a backend, ran only when Keras's gallery first used it
    assert result["loaded"] == {"matplotlib": True, "matplotlib.figure": False, "matplotlib.backend_bases": False}
    assert result["same_pyplot"] and result["pyplot_type"] == "module"
    assert result["patch_drawn"] and result["files"] == [True, True]


def test_switched_off_keras_imports_pyplot_at_once(tmp_path: Any) -> None:
    result = _run(_IMPORT_THEN_DRAW, str(tmp_path), OPTIMA_LEAN_IMPORTS="0")
    assert result["loaded"] == {"matplotlib": True, "matplotlib.figure": True, "matplotlib.backend_bases": True}
    assert result["same_pyplot"] and result["patch_drawn"] and result["files"] == [True, True]
