"""Give freed memory back to the operating system between the memory-heavy steps of the input pipeline.

Arrow's allocator and glibc keep freed buffers for reuse. After reading a large file, or after the index arithmetic
of a split, that is easily 100 MiB or more which would add to the peak of the next step (the gather of the
datasets). The run also releases it after every stage, before the next stage's trials start. A garbage collection
comes first (reference cycles hold memory too); within a run it looks only at the run's own objects
(:func:`collections_skip_older_objects`), so a release costs milliseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import sys
from collections.abc import Iterator
from typing import Any


@functools.lru_cache(maxsize=1)
def _glibc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to trim
        return None


def release_unused_memory() -> None:
    """Return the memory Arrow's pool and glibc's heap hold but do not use (a no-op elsewhere)."""
    gc.collect()  # reference cycles (Tune's results, plugin objects) would otherwise keep their memory until later
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@contextlib.contextmanager
def collections_skip_older_objects() -> Iterator[None]:
    """Within the block, garbage collections (:func:`release_unused_memory`'s, and Python's own) skip the objects
    that existed when it began: the imported modules, functions and classes of torch, Ray, Optuna and the rest,
    several hundred thousand objects whose scan cost about half a second per collection. They are looked at again
    after the block. A run calls :func:`release_unused_memory` after every stage; its garbage is what it created.

    A process that had already frozen its objects for good (a worker's :func:`~optima_core.training.worker_setup.
    freeze_once`, in a process that then runs ``optima run``) keeps them frozen: Python can only unfreeze all frozen
    objects at once, so after the block the garbage is collected and what is alive frozen again.
    """
    frozen_for_good = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if frozen_for_good:
            gc.collect()
            gc.freeze()


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic garbage collection within the block (the collector's previous state is restored after it).

    For imports: they make almost no garbage, and every full collection while a framework's million objects appear
    scans all of those imported so far.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
