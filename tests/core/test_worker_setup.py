"""A worker's first load of the run-config imports the backend's framework without garbage collections and keeps
those objects out of later collections (optima_core.training.worker_setup).

Each case runs in a fresh interpreter, as a Ray worker starts: the test process has the framework imported and
its own objects, which must not be frozen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = """
import gc, json, sys
from optima_core.training.job import RunReference, load_reference

done = []
gc.callbacks.append(lambda phase, info: done.append(info["generation"]) if phase == "stop" else None)
load_reference(RunReference(config_path=sys.argv[1], config_text=open(sys.argv[1]).read()))
loaded = list(done)
frozen = gc.get_freeze_count()
load_reference(RunReference(config_path=sys.argv[1], config_text=open(sys.argv[1]).read() + "# another text\\n"))
print(json.dumps({
    "collections": loaded, "frozen": frozen, "frozen_after_second": gc.get_freeze_count(),
    "modules": sorted(m for m in ("torch", "lightning", "keras") if m in sys.modules), "enabled": gc.isenabled(),
}))
"""


def _load_in_a_new_process(tmp_path: Path, text: str) -> dict:
    config = tmp_path / "run_config.py"
    config.write_text(text)
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(config)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.lightning
def test_the_first_load_imports_the_framework_without_full_collections_and_freezes_once(tmp_path: Path) -> None:
    pytest.importorskip("optima_lightning")
    state = _load_in_a_new_process(tmp_path, 'model_type = "Lightning"\n')
    # the built-in MLP needs no import in the run-config: the backend's framework_modules were imported
    assert state["modules"] == ["lightning", "torch"]
    # importing torch and Lightning made about a million objects: without the pause, several full collections
    assert 2 not in state["collections"], state["collections"]
    assert state["frozen"] > 100_000
    # a second run-config in the same worker freezes nothing more (its garbage is collected as usual); frozen
    # objects that lose their last reference are still freed
    assert state["frozen_after_second"] <= state["frozen"]
    assert state["enabled"] is True


def test_an_unknown_backend_is_left_to_the_trial_that_reports_it(tmp_path: Path) -> None:
    state = _load_in_a_new_process(tmp_path, 'model_type = "NoSuchFramework"\n')
    assert state["modules"] == [] and state["enabled"] is True


def test_collections_paused_restores_the_collector_state() -> None:
    import gc

    from optima_core.inputs.memory import collections_paused

    assert gc.isenabled()
    with collections_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()  # a collector the caller had turned off stays off
    finally:
        gc.enable()
