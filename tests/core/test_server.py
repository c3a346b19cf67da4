import gc
import logging

import pytest

from helpdesk.core import server
from helpdesk.core.server import GC_THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    callbacks = list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks


def test_the_server_freezes_what_it_loaded_and_collects_less_often(restored_gc):
    tune_garbage_collector()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS
    # Rarer than CPython's defaults (700, 10, 10).
    assert GC_THRESHOLDS[0] > 700
    assert GC_THRESHOLDS[2] > 10


def test_a_collection_that_stops_the_process_too_long_is_logged(restored_gc, monkeypatch, caplog):
    tune_garbage_collector()
    monkeypatch.setattr(server, "GC_PAUSE_WARNING_SECONDS", 0)
    garbage = []
    garbage.append(garbage)  # a cycle: something for the collection to collect
    del garbage

    with caplog.at_level(logging.WARNING, logger="helpdesk.core.server"):
        gc.collect(0)

    [record] = [r for r in caplog.records if "Garbage collection" in r.getMessage()]
    assert "generation 0" in record.getMessage()
    assert "objects collected" in record.getMessage()


def test_a_short_collection_is_not_logged(restored_gc, caplog):
    tune_garbage_collector()
    with caplog.at_level(logging.WARNING, logger="helpdesk.core.server"):
        gc.collect(0)
    assert not [r for r in caplog.records if "Garbage collection" in r.getMessage()]
