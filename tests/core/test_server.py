import gc

import pytest

from helpdesk.core.server import GC_THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_server_freezes_what_it_loaded_and_collects_less_often(restored_gc):
    tune_garbage_collector()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS
    # Rarer than CPython's defaults (700, 10, 10).
    assert GC_THRESHOLDS[0] > 700
    assert GC_THRESHOLDS[2] > 10
