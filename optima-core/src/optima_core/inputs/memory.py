"""Give freed memory back to the operating system between the memory-heavy steps of the input pipeline.

Arrow's allocator and glibc keep freed buffers for reuse. After reading a large file, or after the index arithmetic
of a split, that is easily 100 MiB or more which would add to the peak of the next step (the gather of the
datasets). Releasing it costs milliseconds. The run also releases it after every stage, before the next stage's
trials start.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
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
