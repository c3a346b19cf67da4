"""Process-wide set-up for a server process (daphne) once the application is loaded."""

import gc
import logging
import time

logger = logging.getLogger(__name__)

# A collection that stops the process longer than this is logged: it is every socket's latency.
GC_PAUSE_WARNING_SECONDS = 0.05

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
    gc.callbacks.append(_time_collections)


_collection_started = (0.0, 0.0)


def _time_collections(phase: str, info: dict) -> None:
    global _collection_started
    if phase == "start":
        _collection_started = (time.perf_counter(), time.thread_time())
        return
    paused = time.perf_counter() - _collection_started[0]
    if paused >= GC_PAUSE_WARNING_SECONDS:
        logger.warning(
            "Garbage collection (generation %d) paused this process for %.0f ms "
            "(%.0f ms of CPU; %d objects collected)",
            info["generation"],
            paused * 1000,
            (time.thread_time() - _collection_started[1]) * 1000,
            info["collected"],
        )
