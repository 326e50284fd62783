import gc

import pytest

from barnstorm.lib.memory import fewer_gc_pauses


def test_thresholds_are_raised_inside_and_restored_after_even_on_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with fewer_gc_pauses(first_generation=123_456):
            assert gc.get_threshold()[0] == 123_456
            raise RuntimeError("the job failed")
    assert gc.get_threshold() == before
