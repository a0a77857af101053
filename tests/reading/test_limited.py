"""`LimitedRunner`: any function on a pole's bytes runs in a child process under the readers'
memory and time limits; the caller gets the value or the limit hit, and the next call works."""

from __future__ import annotations

import os
import time

import pytest

from ptce_pipeline.config import Limits
from ptce_pipeline.reading.limited import ERROR, MEMORY, TIME, LimitedRunner, run_limited


@pytest.fixture
def runner():
    with LimitedRunner(Limits(worker_memory_mb=256, parse_timeout_s=1.0)) as r:
        yield r


def test_a_value_comes_back(runner):
    done = runner.call(len, b"abc")
    assert done.ok and done.value == 3


def test_memory_beyond_the_limit_is_a_hit_and_the_next_call_works(runner):
    done = runner.call(bytearray, 2 * 1024**3)  # 2 GiB under a 256 MB limit
    assert (done.hit, done.value) == (MEMORY, None)
    assert runner.call(len, b"ab").value == 2


def test_a_call_past_the_time_limit_is_killed(runner):
    done = runner.call(time.sleep, 30)
    assert done.hit == TIME
    assert runner.call(len, b"a").value == 1  # a fresh child


def test_a_child_that_dies_is_a_memory_hit(runner):
    # a native library refused an allocation and aborted the process: the same as dying
    done = runner.call(os._exit, 3)
    assert done.hit == MEMORY
    assert runner.call(len, b"").value == 0


def test_the_functions_own_error_is_told_apart(runner):
    done = runner.call(int, "pas un nombre")
    assert done.hit == ERROR and done.detail.startswith("ValueError")


def test_one_call_in_a_fresh_child():
    assert run_limited(Limits(), divmod, 7, 2).value == (3, 1)
