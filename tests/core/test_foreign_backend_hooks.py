"""A backend's evaluation hooks answer "not mine" for another backend's run without importing their framework.

Every installed backend plugin implements ``get_loss`` and ``get_native_metric_values``; the evaluation of a model
calls all of them until one answers. The Keras plugin's used to import its evaluation module (and with it
TensorFlow and Keras) before looking at ``model_type``, so every Lightning fold evaluated in a Ray worker loaded
TensorFlow there too: about 450 MB more per worker at the memory peak of a run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CASES = {
    # plugin module, the run's model_type, the framework modules that must stay unimported
    "keras plugin in a Lightning run": ("optima_keras.plugin", "Lightning", ("tensorflow", "keras")),
    "lightning plugin in a Keras run": ("optima_lightning.plugin", "Keras", ("torch", "lightning")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_foreign_runs_get_none_and_no_framework_import(case: str) -> None:
    module, model_type, frameworks = CASES[case]
    pytest.importorskip(module)
    script = textwrap.dedent(
        f"""
        import sys
        from types import SimpleNamespace
        import {module} as plugin

        run_config = SimpleNamespace(model_type={model_type!r})
        loss = plugin.get_loss(run_config=run_config, model_config={{}}, model=None, dataset=None, input_handler=None)
        values = plugin.get_native_metric_values(
            run_config=run_config, native_metrics=[], model_config={{}}, model=None, dataset_or_dataloader=None,
            input_handler=None,
        )
        loaded = sorted(name for name in {frameworks!r} if name in sys.modules)
        print(loss, values, loaded)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["None", "None", "[]"], done.stdout
