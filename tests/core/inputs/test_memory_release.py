"""Giving freed memory back between steps, without rescanning every imported object at each collection."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from optima_core.inputs.memory import collections_skip_older_objects, release_unused_memory


class _Node:
    def __init__(self) -> None:
        self.self_reference = self


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nobody holds any more (only reference counting cannot free it); a weak reference to it."""
    return weakref.ref(_Node())


@pytest.fixture
def no_automatic_collections() -> Iterator[None]:
    """Only the collections the test makes (an automatic one could free the older cycle before the block)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_automatic_collections")
def test_a_run_collects_its_own_garbage_and_skips_what_existed_before() -> None:
    older = _cycle()
    assert older() is not None
    frozen_before = gc.get_freeze_count()
    with collections_skip_older_objects():
        assert gc.get_freeze_count() > frozen_before  # the imports' objects are left out of the collections
        newer = _cycle()
        release_unused_memory()
        assert newer() is None, "garbage created during the run was not collected"
        assert older() is not None, "objects older than the run were scanned"
    assert gc.get_freeze_count() == frozen_before
    release_unused_memory()
    assert older() is None  # looked at again after the run


def test_objects_are_unfrozen_when_the_run_fails() -> None:
    frozen_before = gc.get_freeze_count()
    with pytest.raises(RuntimeError, match="stage failed"), collections_skip_older_objects():
        raise RuntimeError("stage failed")
    assert gc.get_freeze_count() == frozen_before
