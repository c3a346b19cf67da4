"""Process-wide set-up for a server process (daphne) once the application is loaded."""

import gc

# Allocations before a young collection; young collections before a middle one; middle ones
# before a full one. CPython's defaults are 700, 10, 10.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Fewer full collections for a process holding thousands of sockets.

    Every socket keeps a few hundred objects alive, and CPython's full (generation 2)
    collection walks all of them: at 2,500 sockets per process each one paused the event loop
    for 0.5-0.8 s, every few seconds — the whole p99 of the 5,000-socket load test. What was
    loaded at start (Django, the models, the libraries) is frozen out of every collection, and
    collections come after many more allocations.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
