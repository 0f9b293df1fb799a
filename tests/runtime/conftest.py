"""Fixtures for the runtime tests: failure recorders and a clean default queue."""

from __future__ import annotations

import faulthandler

import pytest

from ffscan.runtime import configure, set_error_hook

from .helpers import Recorder

HANG_LIMIT_SECONDS = 60


@pytest.fixture(autouse=True)
def end_a_hung_test():
    """Dump every thread's stack and exit if one test hangs, instead of stalling the run."""
    faulthandler.dump_traceback_later(HANG_LIMIT_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def on_error() -> Recorder:
    return Recorder()


@pytest.fixture
def error_hook():
    recorder = Recorder()
    previous = set_error_hook(recorder)
    yield recorder
    set_error_hook(previous)


@pytest.fixture
def fresh_default_queue():
    configure()
    yield
    configure()
