"""Fixtures of the compatibility tests: the end-to-end helpers of ``tests/engine`` (tiny data, in-process runs)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"
if str(ENGINE) not in sys.path:
    sys.path.insert(0, str(ENGINE))

_spec = importlib.util.spec_from_file_location("engine_fixtures", ENGINE / "conftest.py")
assert _spec is not None and _spec.loader is not None
_engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_engine)

events_file = _engine.events_file
write_config = _engine.write_config
optima_run = _engine.optima_run
