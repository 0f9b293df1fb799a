"""The cache: an unchanged tree re-parses nothing, a changed file re-checks only that file,
one file checked alone uses the rest of the project's summaries, bad entries are rebuilt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from ffscan import engine
from ffscan.cli import main
from ffscan.engine import runner
from helpers import FIXTURES

DEMO = FIXTURES / "demo"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A copy of the demo project (it has a [tool.ffscan] table), with the cache on."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns(".ffscan_cache"))
    monkeypatch.chdir(target)
    monkeypatch.delenv("FFSCAN_NO_CACHE", raising=False)
    return target


@pytest.fixture
def parses(monkeypatch):
    """The paths `ffscan check` parses, in order."""
    seen = []
    original = runner.parse_source

    def counting(source, *args, **kwargs):
        seen.append(source.path)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(runner, "parse_source", counting)
    return seen


def concise(capsys, *args) -> list:
    code = main(["check", "--format", "concise", "-j", "1", *args])
    assert code in (0, 1)
    return capsys.readouterr().out.splitlines()


def test_an_unchanged_tree_is_answered_without_parsing(demo, parses, capsys):
    first = concise(capsys, ".")
    assert len(parses) == 5
    parses.clear()
    assert concise(capsys, ".") == first
    assert parses == []


def test_a_changed_file_is_the_only_one_parsed_again(demo, parses, capsys):
    first = concise(capsys, ".")
    parses.clear()
    reports = demo / "shop" / "reports.py"
    reports.write_text(reports.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert concise(capsys, ".") == first
    assert parses == ["shop/reports.py"]


def test_a_large_run_checks_again_only_the_files_the_project_says_yes_to(demo, parses, capsys, monkeypatch):
    small = concise(capsys, ".", "--no-cache")
    parses.clear()
    # As large a run as the pool's: whether a call makes a coroutine, when another module
    # decides, is kept as a question, and only orders.py (whose `db.audit(...)` db.py
    # decides) is checked again to make its finding.
    monkeypatch.setattr("ffscan.engine.POOL_THRESHOLD", 1)
    assert concise(capsys, ".") == small
    assert sorted(parses) == sorted(["shop/__init__.py", "shop/db.py", "shop/orders.py", "shop/recommendations.py", "shop/reports.py", "shop/orders.py"])
    parses.clear()
    # Its full result replaced the cached one: a later run does not check it again.
    reports = demo / "shop" / "reports.py"
    reports.write_text(reports.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert concise(capsys, ".") == small
    assert parses == ["shop/reports.py"]


def on_second_check(monkeypatch, then):
    """In as large a run as the pool's, `then(fs_path)` runs when a file is checked the second
    time (to make what the whole program said yes to); what it returns, if anything, is that
    check's result."""
    monkeypatch.setattr("ffscan.engine.POOL_THRESHOLD", 1)
    real = engine.check_file
    checked = []

    def checking(fs_path, *args, **kwargs):
        if fs_path in checked:
            instead = then(fs_path)
            if instead is not None:
                return instead
        checked.append(fs_path)
        return real(fs_path, *args, **kwargs)

    monkeypatch.setattr(engine, "check_file", checking)


def test_a_file_changed_before_it_is_checked_again_is_said_so(demo, capsys, monkeypatch):
    def saved_meanwhile(fs_path):
        with open(fs_path, "a", encoding="utf-8") as file:
            file.write("\n# saved meanwhile\n")

    on_second_check(monkeypatch, saved_meanwhile)
    assert main(["check", "--format", "concise", "-j", "1", "--no-cache", "."]) == 1
    out, err = capsys.readouterr()
    assert any(line.startswith("shop/orders.py:49:") and "FF101" in line for line in out.splitlines())
    assert "shop/orders.py" in err and "changed while it was checked" in err


def test_a_check_again_that_fails_is_reported_and_the_run_not_kept(demo, capsys, monkeypatch):
    real = engine.check_file
    on_second_check(monkeypatch, lambda fs_path: runner.FileResult(fs_path, errors=[runner.RunError(path=fs_path, message="internal error: gone")]))
    assert main(["check", "--format", "concise", "-j", "1", "."]) == 2
    assert "internal error: gone" in capsys.readouterr().err
    monkeypatch.setattr(engine, "check_file", real)
    # Nothing of that run was kept: the next one finds orders.py's finding again.
    assert any(line.startswith("shop/orders.py:49:") for line in concise(capsys, "."))


def test_a_file_named_another_way_is_the_same_entry(demo, parses, capsys):
    first = concise(capsys, "shop/orders.py")
    parses.clear()
    # An editor names the file by its absolute path where a hook named it relatively: the
    # project's files are not checked again, and each file's entry is kept once.
    assert concise(capsys, str(demo / "shop" / "orders.py")) == first
    assert parses == []


def test_a_file_touched_but_unchanged_is_not_parsed(demo, parses, capsys):
    first = concise(capsys, ".")
    parses.clear()
    os.utime(demo / "shop" / "db.py", ns=(1, 1))
    assert concise(capsys, ".") == first
    assert parses == []


def test_one_file_alone_gets_the_findings_a_full_run_gives_it(demo, capsys):
    # What pre-commit does: only the changed file is named. `db.audit` is an `async def` in
    # shop/db.py, so line 49 is a finding only with the rest of the project in view.
    full = [line for line in concise(capsys, ".") if line.startswith("shop/orders.py:")]
    alone = concise(capsys, "shop/orders.py")
    assert [line for line in alone if line.startswith("shop/")] == full
    assert any(line.startswith("shop/orders.py:49:5: FF101") for line in alone)


def test_one_file_alone_with_a_cold_cache_reads_the_project_too(demo, capsys):
    alone = concise(capsys, "--no-cache", "shop/orders.py")
    assert any(line.startswith("shop/orders.py:49:5: FF101") for line in alone)
    assert not (demo / ".ffscan_cache").exists()


def test_other_settings_do_not_reuse_results(demo, capsys):
    everything = concise(capsys, ".")
    without_ff101 = concise(capsys, ".", "--ignore", "FF101")
    assert {line.split()[1] for line in everything[:-1]} - {line.split()[1] for line in without_ff101[:-1]} == {"FF101"}


def test_a_corrupt_cache_is_ignored_and_rebuilt(demo, parses, capsys):
    first = concise(capsys, ".")
    for path in (demo / ".ffscan_cache").rglob("*.pickle"):
        path.write_bytes(b"not a pickle")
    parses.clear()
    assert concise(capsys, ".") == first
    assert len(parses) == 5
    parses.clear()
    assert concise(capsys, ".") == first
    assert parses == []


def test_clean_removes_the_cache(demo, capsys):
    concise(capsys, ".")
    assert (demo / ".ffscan_cache" / "CACHEDIR.TAG").is_file()
    assert main(["clean"]) == 0
    assert not (demo / ".ffscan_cache").exists()
    assert capsys.readouterr().out == f"Removed {demo / '.ffscan_cache'}\n"


def test_two_runs_at_once_leave_a_readable_cache(demo, parses, capsys):
    command = [sys.executable, "-m", "ffscan", "check", ".", "--format", "concise"]
    env = {k: v for k, v in os.environ.items() if k != "FFSCAN_NO_CACHE"}
    runs = [subprocess.Popen(command, cwd=demo, env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [run.communicate()[0] for run in runs]
    assert len(set(outputs)) == 1
    parses.clear()
    assert "\n".join(concise(capsys, ".")) + "\n" == outputs[0]
    assert parses == []


def test_a_run_in_which_ffscan_crashed_is_not_replayed(demo, monkeypatch, capsys):
    good = concise(capsys, ".")
    shutil.rmtree(demo / ".ffscan_cache")
    original = runner.check_source

    def crashing(source, *args, **kwargs):
        raise ImportError("a half-installed ffscan")

    monkeypatch.setattr(runner, "check_source", crashing)
    assert main(["check", "--format", "concise", "-j", "1", "."]) == 2
    capsys.readouterr()
    monkeypatch.setattr(runner, "check_source", original)
    assert concise(capsys, ".") == good


def test_another_copy_of_ffscan_gets_a_cache_of_its_own(monkeypatch):
    from ffscan.config import Settings
    from ffscan.engine import cache

    settings = Settings()
    monkeypatch.setattr(cache, "_CODE_IDENTITY", "one checkout")
    first = cache.settings_key(settings)
    monkeypatch.setattr(cache, "_CODE_IDENTITY", "another checkout")
    assert cache.settings_key(settings) != first


COLLECTOR_SEEN = []


def _record_collector():
    import gc

    COLLECTOR_SEEN.append(gc.isenabled())
    return "result"


class _Recorder:
    """Unpickles by calling `_record_collector`: what the collector was while a shard was read."""

    def __reduce__(self):
        return (_record_collector, ())


@pytest.mark.parametrize("enabled", [True, False])
def test_a_shard_is_read_with_the_collector_paused_and_left_as_it_was_found(tmp_path, enabled):
    import gc
    import pickle

    from ffscan.engine.cache import _load_shard

    good, bad = tmp_path / "good.pickle", tmp_path / "bad.pickle"
    good.write_bytes(pickle.dumps({"/a.py": (1, 2, "d", (), pickle.dumps(_Recorder()))}))
    bad.write_bytes(b"not a pickle")
    was = gc.isenabled()
    COLLECTOR_SEEN.clear()
    try:
        gc.enable() if enabled else gc.disable()
        assert _load_shard(good)["/a.py"][4] == "result" and gc.isenabled() is enabled
        assert COLLECTOR_SEEN == [False]
        assert _load_shard(bad) == {} and gc.isenabled() is enabled
        assert _load_shard(tmp_path / "missing.pickle") == {} and gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_file_changed_while_it_was_checked_is_not_stored_under_its_new_content(tmp_path):
    from ffscan.engine.cache import Cache, Stat
    from ffscan.engine.runner import FileResult
    from ffscan.engine.sources import content_digest

    path = tmp_path / "app.py"
    path.write_bytes(b"x = 1\n")
    before = Stat.of(str(path))
    checked = FileResult("app.py", content=content_digest(b"x = 1\n"))  # what the check read
    path.write_bytes(b"x = 22\n")  # an editor saves while the check runs
    cache = Cache(tmp_path / "cache", "key")
    cache.store(str(path), before, ("app.py", "app", ()), checked)
    assert cache.lookup(str(path), Stat.of(str(path)), ("app.py", "app", ())) is None
    path.write_bytes(b"x = 1\n")  # back to what was checked: the result stands
    assert cache.lookup(str(path), Stat.of(str(path)), ("app.py", "app", ())) is checked


def test_a_result_the_pool_sent_pickled_is_written_as_it_came(tmp_path, monkeypatch):
    import pickle

    from ffscan.engine import cache as cache_module
    from ffscan.engine.cache import Cache, Stat
    from ffscan.engine.runner import FileResult

    sent, made = tmp_path / "sent.py", tmp_path / "made.py"
    for path in (sent, made):
        path.write_bytes(b"x = 1\n")
    from_pool = FileResult("sent.py", suppressed=3)
    in_process = FileResult("made.py", suppressed=4)
    pickled_calls = []
    real = cache_module._pickled
    monkeypatch.setattr(cache_module, "_pickled", lambda result: pickled_calls.append(result) or real(result))
    cache = Cache(tmp_path / "cache", "key")
    cache.store(str(sent), Stat.of(str(sent)), ("sent.py", "sent", ()), from_pool, pickle.dumps(from_pool))
    cache.store(str(made), Stat.of(str(made)), ("made.py", "made", ()), in_process)
    cache.save()
    assert pickled_calls == [in_process]  # only the result that came unpickled is pickled here
    again = Cache(tmp_path / "cache", "key")
    assert again.lookup(str(sent), Stat.of(str(sent)), ("sent.py", "sent", ())) == from_pool
    assert again.lookup(str(made), Stat.of(str(made)), ("made.py", "made", ())) == in_process


def cached_settings(root):
    from dataclasses import replace

    from ffscan.config import CACHE_DIR_NAME, load_settings

    return replace(load_settings(root / "pyproject.toml", root), cache_dir=root / CACHE_DIR_NAME)


def test_what_the_cache_loaded_is_out_of_the_collectors_sight_until_the_run_ends(demo):
    import gc

    from ffscan.engine import analyse

    settings = cached_settings(demo)
    analyse(["."], settings, reuse_run=False)  # fills the cache
    during = []
    analyse(["."], settings, progress=lambda done, total: during.append(gc.get_freeze_count()), reuse_run=False)
    assert during[0] > 0  # frozen once the cached results were in
    assert gc.get_freeze_count() == 0  # and thawed when the run ended


def test_objects_someone_else_froze_stay_frozen(demo):
    import gc

    from ffscan.engine import analyse

    settings = cached_settings(demo)
    analyse(["."], settings, reuse_run=False)
    gc.freeze()  # a host that freezes before forking, as servers do
    try:
        frozen = gc.get_freeze_count()
        during = []
        analyse(["."], settings, progress=lambda done, total: during.append(gc.get_freeze_count()), reuse_run=False)
        assert during[0] == frozen and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_the_parent_does_not_collect_while_the_pool_checks_and_freezes_what_it_received(tmp_path, monkeypatch):
    import gc

    from ffscan.engine import POOL_THRESHOLD, analyse, collector

    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n", encoding="utf-8")
    for number in range(POOL_THRESHOLD):
        (tmp_path / f"m{number}.py").write_text("async def go():\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    froze = []
    real = collector.freeze
    monkeypatch.setattr(collector, "freeze", lambda: froze.append(gc.isenabled()) or real())
    during = []
    result = analyse(["."], cached_settings(tmp_path), progress=lambda done, total: during.append(gc.isenabled()), jobs=2).result
    assert result.files_checked == POOL_THRESHOLD and not result.errors
    assert during and not any(during)  # no collection while results came in
    assert froze == [False]  # frozen once, before the collector was back
    assert gc.isenabled() and gc.get_freeze_count() == 0
def test_no_collection_runs_while_the_cache_is_read(demo, monkeypatch):
    import gc

    from ffscan.engine import analyse, cache as cache_module

    settings = cached_settings(demo)
    analyse(["."], settings, reuse_run=False)
    seen = []
    real = cache_module.Cache.lookup

    def lookup(self, *args):
        seen.append(gc.isenabled())
        return real(self, *args)

    monkeypatch.setattr(cache_module.Cache, "lookup", lookup)
    analyse(["."], settings, reuse_run=False)
    assert seen and not any(seen)
