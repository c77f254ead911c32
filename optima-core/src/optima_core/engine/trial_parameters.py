"""The large objects a Tuner's trials share (datasets, settings): in Ray's object store for one ``fit`` only.

``tune.with_parameters`` puts each parameter into the object store and captures the references in the trainable,
which Tune then pickles outside any Ray task (to register it, to save the Tuner). Ray pins every object reference
pickled that way for the life of the driver, and ``with_parameters`` also keeps its references in a registry it
never drops, so nothing a stage handed to its trials was ever freed: each Tuner launch of a run (every
variable-selection iteration, every cross-validation) added its datasets to the object store, and to the
driver's memory, for good. At 20,000 events that was about 4 MB per launch (80 MB over a variable selection); at
2 million events a few hundred MB per launch.

:func:`trainable_with_parameters` does the same job without the leak: it puts the parameters itself, gives the
trainable their references, and once the Tuner's ``fit`` has returned takes back the references Ray added while
pickling them, so each object is freed with the last handle. Ray's reference counter offers no public call for
this; the counts are read from, and the extra references removed through, the driver's core worker, the same
object that added them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any


@contextmanager
def trainable_with_parameters(
    function: Callable[..., Any], parameters: Mapping[str, Any]
) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """A Tune function trainable calling ``function(config, **parameters)``, the parameters read from the object store.

    Use it for one ``Tuner.fit`` that has finished when the block is left: the objects are freed then.
    """
    import ray

    references = {name: ray.put(value) for name, value in parameters.items()}

    def trainable(config: dict[str, Any]) -> Any:
        return function(config, **{name: ray.get(reference) for name, reference in references.items()})

    trainable.__name__ = getattr(function, "__name__", "trainable")
    trainable.__qualname__ = trainable.__name__
    try:
        yield trainable
    finally:
        release(references.values())
        references.clear()


def release(references: Any) -> None:
    """Drop the references Ray's out-of-band pickling added to each of ``references``; the caller's handle stays.

    When the caller's handle goes, Ray frees the object.
    """
    import ray

    core_worker: Any = getattr(ray._private.worker.global_worker, "core_worker")  # noqa: B009 - set at connection
    counts = core_worker.get_all_reference_counts()
    for reference in references:
        local = counts.get(reference.hex().encode(), {}).get("local", 0)
        for _ in range(local - 1):
            core_worker.remove_object_ref_reference(reference)
