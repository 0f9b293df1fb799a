import sys
from pathlib import Path

import pytest

# The helpers module sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser):
    parser.addoption(
        "--update-fixtures",
        action="store_true",
        help="rewrite snapshots (fixtures/FFnnn/fixed.py and report.txt, fixtures/fix_imports/*) from the current output",
    )


@pytest.fixture(autouse=True)
def no_cache_by_default(monkeypatch):
    """Runs of the CLI in tests write no `.ffscan_cache` into the fixtures; cache tests unset it."""
    monkeypatch.setenv("FFSCAN_NO_CACHE", "1")


@pytest.fixture(autouse=True)
def _no_active_virtualenv(monkeypatch):
    """ffscan reads the packages of an active virtualenv; the tests' answers must not depend
    on the shell they were started from (a test that wants one sets it)."""
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
