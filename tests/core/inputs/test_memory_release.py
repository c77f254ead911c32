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


@pytest.fixture
def nothing_frozen() -> Iterator[None]:
    """A process that has frozen no objects (an earlier test's in-process trial may have: frozen again after)."""
    frozen = gc.get_freeze_count() > 0
    gc.unfreeze()
    try:
        yield
    finally:
        if frozen:
            gc.freeze()


@pytest.mark.usefixtures("nothing_frozen", "no_automatic_collections")
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


@pytest.mark.usefixtures("nothing_frozen")
def test_objects_are_unfrozen_when_the_run_fails() -> None:
    with pytest.raises(RuntimeError, match="stage failed"), collections_skip_older_objects():
        raise RuntimeError("stage failed")
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("nothing_frozen", "no_automatic_collections")
def test_objects_a_process_froze_for_good_stay_frozen_after_a_run() -> None:
    """A worker that loaded the run-config froze the framework's objects (freeze_once); a run in that process must
    not hand them back to every later collection."""
    held = {"framework": ["objects"]}
    gc.freeze()  # as freeze_once does
    with collections_skip_older_objects():
        newer = _cycle()
        release_unused_memory()
        assert newer() is None, "garbage created during the run was not collected"
    garbage = _cycle()
    release_unused_memory()
    assert garbage() is None, "garbage made after the run was not collected"
    assert gc.get_freeze_count() > 0
    scanned = [obj for generation in range(3) for obj in gc.get_objects(generation) if obj is held]
    assert not scanned, "an object the process had frozen is scanned again by every collection"
    gc.unfreeze()
