"""Fixtures for the input-pipeline tests (helpers live in inputs_testdata.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from inputs_testdata import make_frame, write


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture
def parquet_file(tmp_path: Path, frame: pd.DataFrame) -> Path:
    return write(frame, tmp_path / "data.parquet")
