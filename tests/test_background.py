"""What counts as started in the background (semantic/background.py), seen through FF401."""

from __future__ import annotations

from ffscan.config import Settings, load_settings
from ffscan.engine import run_check
from ffscan.rules import rule_names
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


POST_PROCESSOR = '''
import logging
import threading

log = logging.getLogger(__name__)


class PostProcessor:
    def handle(self, event):
        threading.Thread(target=self.wrapper, args=(event,), daemon=True).start()

    def wrapper(self, event):
        self.transcribe(event)

    def transcribe(self, event):
        try:
            event.run()
        except Exception:
            log.exception("transcription failed")
'''


def test_the_start_is_named_in_its_own_file_when_two_namespace_folders_share_a_module_name(tmp_path, monkeypatch):
    # `sub/post` and `sub/rt` have no `__init__.py`: both files are the module `audio`, and the
    # later one's summary stands for it; the start is still named in the file that holds it.
    (tmp_path / "pkg" / "sub" / "post").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "rt").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "post" / "audio.py").write_text(POST_PROCESSOR)
    (tmp_path / "pkg" / "sub" / "rt" / "audio.py").write_text("class LiveProcessor:\n    pass\n")
    (tmp_path / "ffscan.toml").write_text('select = ["FF401"]\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path / "ffscan.toml", tmp_path, rule_names())
    [finding] = run_check(["."], settings, jobs=1).findings
    assert "at pkg/sub/post/audio.py:10 -> `wrapper` -> `transcribe`" in finding.message
