"""What counts as started in the background (semantic/background.py), seen through FF401."""

from __future__ import annotations

from ffscan.config import Settings
from helpers import ROOT, check_text

SWALLOWING = '''
import logging

from app import pool

log = logging.getLogger(__name__)


async def refresh():
    try:
        await pool.fetch()
    except Exception:
        log.exception("refresh failed")


async def handler():
    pool.spawn_later(refresh())
'''


def lines(settings: Settings):
    return [(f.code, f.start.line) for f in check_text(SWALLOWING, codes={"FF401"}, settings=settings).findings]


def test_a_configured_spawn_api_called_through_a_module_starts_background_work():
    # `pool.spawn_later(...)` is an attribute call whose last word no built-in API has.
    assert lines(Settings(root=ROOT, spawn_apis=("app.pool.spawn_later",))) == [("FF401", 12)]


def test_without_the_setting_the_same_call_starts_nothing():
    assert lines(Settings(root=ROOT)) == []
