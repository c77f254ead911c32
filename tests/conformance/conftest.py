"""Fixtures of the backend conformance suite (the harness itself is in ``conformance_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance_helpers import KITS, N_TRAIN, N_VAL, SEED, BackendKit, Harness, make_events

from optima_core.inputs.dataset import EventData

_DATA: dict[str, EventData] = {}


@pytest.fixture
def events() -> dict[str, EventData]:
    """The train and val splits (generated once per session; never modified by the backends)."""
    if not _DATA:
        _DATA.update(train=make_events(N_TRAIN, SEED), val=make_events(N_VAL, SEED + 1))
    return dict(_DATA)


@pytest.fixture(
    scope="module",  # all tests of one backend, then the other: the frameworks' thread pools do not interleave
    params=[
        pytest.param("Lightning", marks=pytest.mark.lightning),
        pytest.param("Keras", marks=pytest.mark.keras),
    ],
)
def kit(request: pytest.FixtureRequest) -> BackendKit:
    """The backend under test; skipped when its framework is not installed."""
    kit = KITS[request.param]
    for module in kit.frameworks:
        pytest.importorskip(module)
    return kit


@pytest.fixture
def harness(kit: BackendKit, tmp_path: Path, events: dict[str, EventData]) -> Harness:
    return Harness(kit, tmp_path, events)
