"""optima-keras installed without one of its extras (no TensorFlow): ``optima check`` says so, naming the framework.

TensorFlow is hidden from a fresh interpreter (imports and distribution metadata), as if neither
``optima-keras[cpu]`` nor ``optima-keras[gpu]`` had been installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("optima_keras")

OPTIMA = Path(sys.executable).parent / "optima"

HIDE_TENSORFLOW = """
import importlib.abc, importlib.metadata as metadata, sys

class HideTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideTensorFlow())
real_version, real_distributions = metadata.version, metadata.packages_distributions

def version(name):
    if name.lower().replace("_", "-").startswith("tensorflow"):
        raise metadata.PackageNotFoundError(name)
    return real_version(name)

def packages_distributions():
    return {k: v for k, v in real_distributions().items() if not k.startswith("tensorflow")}

metadata.version, metadata.packages_distributions = version, packages_distributions
"""


def test_check_of_a_keras_run_config_names_the_missing_tensorflow(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_TENSORFLOW)
    (tmp_path / "inputs.parquet").write_bytes(b"")
    config = tmp_path / "run_config.py"
    config.write_text(
        textwrap.dedent(
            f"""
            model_type = "Keras"
            inputs_file = {str(tmp_path / "inputs.parquet")!r}
            input_vars = ["a", "b"]
            """
        )
    )

    def check(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(OPTIMA), "check", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, **env},
        )

    hidden = check(PYTHONPATH=str(site))
    assert hidden.returncode != 0
    assert "model_type = 'Keras'" in hidden.stderr and "not installed: tensorflow" in hidden.stderr, hidden.stderr
    assert "optima-keras[cpu]" in hidden.stderr, hidden.stderr
    assert "Traceback" not in hidden.stderr
    control = check()  # the same incomplete run-config with TensorFlow installed: other problems, not this one
    assert control.returncode != 0 and "not installed" not in control.stderr, control.stderr
