"""The input plugin modules register without importing the data libraries (they load when a hook runs)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "pandas", "pyarrow", "uproot", "ray", "matplotlib", "mplhep")
PROBE = """
import json, sys
import optima_core.inputs.plugin, optima_plots.plugin
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))
"""


def test_plugin_modules_import_no_data_library() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
