"""The engine tests start worker processes and wait on a broker: give them a longer hang limit."""

from __future__ import annotations

import faulthandler

import pytest

HANG_LIMIT_SECONDS = 300


@pytest.fixture(autouse=True)
def end_a_hung_test():
    """Dump every thread's stack and exit if one test hangs, instead of stalling the run."""
    faulthandler.dump_traceback_later(HANG_LIMIT_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
