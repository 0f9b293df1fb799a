"""`ffscan fix`: snapshots per fixable rule, import placement, and the safety net around writes.

Snapshots change only through `pytest --update-fixtures`:
- `fixtures/FFnnn/fixed.py` is bad.py after `ffscan fix --unsafe-fixes` with every rule selected;
- `fixtures/FFnnn/fixed-safe.py` is bad.py after `ffscan fix` (safe fixes only), kept only where
  that differs from both bad.py and fixed.py; otherwise the safe result must equal fixed.py for
  a rule whose best fix is safe, and bad.py for a rule with unsafe fixes only;
- `fixtures/fix_imports/<case>.py` -> `<case>.fixed.py` (safe fixes), byte for byte.
"""

from __future__ import annotations

import ast
import os
import stat
import sys

import pytest

from ffscan.cli import main
from ffscan.config import Settings
from ffscan.engine.sources import decode_source
from ffscan.engine.fixing import fix_text
from ffscan.fix import write
from ffscan.model import Applicability, Edit, Fix
from ffscan.rules import all_rules
from ffscan.rules.ff201_dangling_task import DanglingTask
from helpers import ALL_CODES, FIXTURES, MISSING_COLON, snapshot

FIXABLE = sorted(code for code, rule in all_rules().items() if rule.fix_applicability is not None)
FIXABLE_DIRS = [FIXTURES / code for code in FIXABLE if (FIXTURES / code / "bad.py").exists()]
IMPORT_CASES = sorted(p for p in (FIXTURES / "fix_imports").glob("*.py") if not p.name.endswith(".fixed.py"))

DROPPED = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n"
TRACKED = "import asyncio\n\nfrom ffscan.runtime import track\n\n\nasync def handler(job):\n    track(asyncio.create_task(job()))\n"


def fixed(data: bytes, unsafe: bool = True, path: str = "example.py", settings: Settings = None):
    # Rooted at fixtures/, which stand for a user's project: `ffscan.runtime` is third party there.
    source = decode_source(data, path)
    return fix_text(source, settings or Settings(root=FIXTURES), ALL_CODES, "example", unsafe=unsafe)


def test_every_fixable_rule_has_a_fixture():
    assert [d.name for d in FIXABLE_DIRS] == FIXABLE


@pytest.mark.parametrize("folder", FIXABLE_DIRS, ids=lambda p: p.name)
def test_fixing_bad_gives_fixed_snapshot(request, folder):
    outcome = fixed((folder / "bad.py").read_bytes())
    assert outcome.error is None, outcome.error
    assert outcome.changed, f"{folder.name}: no fix applied to bad.py"
    snapshot(request, folder / "fixed.py", outcome.fixed)
    ast.parse(outcome.fixed)
    # the rule's own findings that were fixed are gone; only those left for a reason remain
    after = fixed(outcome.fixed.encode("utf-8"))
    assert after.fixed == outcome.fixed, "fixing fixed.py changes it again"
    remaining = [f for f in after.left if f[0].code == folder.name]
    left = [f for f in outcome.left if f[0].code == folder.name]
    assert len(remaining) == len(left)
    assert any(finding.code == folder.name for finding, _ in outcome.applied)


@pytest.mark.parametrize("folder", FIXABLE_DIRS, ids=lambda p: p.name)
def test_safe_fixes_of_bad(request, folder):
    bad = (folder / "bad.py").read_text(encoding="utf-8")
    outcome = fixed(bad.encode("utf-8"), unsafe=False)
    assert outcome.error is None, outcome.error
    assert all(fix.applicability is Applicability.SAFE for _, fix in outcome.applied)
    unsafe_text = (folder / "fixed.py").read_text(encoding="utf-8")
    safe_path = folder / "fixed-safe.py"
    if outcome.fixed not in (bad, unsafe_text) or safe_path.exists():
        snapshot(request, safe_path, outcome.fixed)
    elif all_rules()[folder.name].fix_applicability is Applicability.SAFE:
        assert outcome.fixed == unsafe_text
    else:
        assert outcome.fixed == bad, "a rule with unsafe fixes only changed bad.py without --unsafe-fixes"
    assert fixed(outcome.fixed.encode("utf-8"), unsafe=False).fixed == outcome.fixed


@pytest.mark.parametrize("case", IMPORT_CASES, ids=lambda p: p.stem)
def test_import_placement(request, case):
    data = case.read_bytes()
    outcome = fixed(data, unsafe=False, path=case.name)
    assert outcome.error is None, outcome.error
    assert outcome.changed
    source = decode_source(data, case.name)
    expected = case.with_name(case.stem + ".fixed.py")
    result = outcome.fixed.encode(source.encoding)
    if request.config.getoption("--update-fixtures"):
        expected.write_bytes(result)
    assert expected.read_bytes() == result
    assert outcome.fixed.count("import track") + outcome.fixed.count("track as") <= 1 + data.count(b"track as")
    compile(outcome.fixed, case.name, "exec")
    assert fixed(result, unsafe=False, path=case.name).fixed == outcome.fixed


def test_existing_alias_is_used_and_a_taken_name_is_refused():
    aliased = "import asyncio\nfrom ffscan.runtime import track as keep\n\n\nasync def h(job):\n    asyncio.create_task(job())\n"
    assert "    keep(asyncio.create_task(job()))" in fixed(aliased.encode(), unsafe=False).fixed
    taken = "import asyncio\n\n\nasync def h(playlist, play):\n    for track in playlist:\n        asyncio.create_task(play(track))\n"
    outcome = fixed(taken.encode(), unsafe=False)
    assert not outcome.changed
    assert [f.code for f, _ in outcome.left] == ["FF201"]


# --- the safety net ------------------------------------------------------------------------


def test_a_fix_that_would_not_compile_is_not_written(monkeypatch, tmp_path):
    def garbage(self, call, callee):
        # `await` in a sync function: the edit applies, compile() rejects it
        return [Fix.safe("garbage", Edit.insertion(self.semantic.start(call), "await "))]

    monkeypatch.setattr(DanglingTask, "_fixes", garbage)
    text = "import asyncio\n\n\ndef handler(loop, job):\n    loop.create_task(job())\n"
    path = tmp_path / "m.py"
    path.write_text(text)
    assert main(["fix", "--select", "FF201", str(path)]) == 1
    assert path.read_text() == text
    outcome = fixed(text.encode())
    assert outcome.error is not None and "would not compile" in outcome.error


def test_a_file_changed_since_read_is_refused(tmp_path):
    from ffscan.fix.write import WriteRefused, write_fixed

    path = tmp_path / "m.py"
    path.write_text(DROPPED)
    original, read_stat = path.read_bytes(), os.stat(path)
    source = decode_source(original, "m.py")
    outcome = fix_text(source, Settings(root=tmp_path), ALL_CODES, "m")
    assert outcome.changed
    path.write_text(DROPPED + "# edited meanwhile\n")
    with pytest.raises(WriteRefused) as refused:
        write_fixed(str(path), outcome.fixed, source.encoding, original, read_stat)
    assert (refused.value.reason, refused.value.is_failure) == ("the file changed since it was read; left as it was", False)
    assert path.read_text() == DROPPED + "# edited meanwhile\n"


def test_mode_encoding_bom_and_crlf_are_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    latin = "# -*- coding: latin-1 -*-\n# café\n" + DROPPED
    files = {
        "latin.py": latin.encode("latin-1"),
        "bom.py": b"\xef\xbb\xbf" + DROPPED.encode(),
        "crlf.py": DROPPED.replace("\n", "\r\n").encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        os.chmod(tmp_path / name, 0o640)
    assert main(["fix", "."]) == 0
    latin_out = (tmp_path / "latin.py").read_bytes()
    assert "# café".encode("latin-1") in latin_out and b"track(asyncio.create_task(job()))" in latin_out
    bom_out = (tmp_path / "bom.py").read_bytes()
    assert bom_out.startswith(b"\xef\xbb\xbf") and bom_out.count(b"\xef\xbb\xbf") == 1
    crlf_out = (tmp_path / "crlf.py").read_bytes()
    assert b"track(" in crlf_out and b"\n" not in crlf_out.replace(b"\r\n", b"")
    for name in files:
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o640
    assert not list(tmp_path.glob(".ffscan-*"))


def test_an_unwritable_directory_leaves_the_file_as_it_was(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "m.py"
    path.write_text(DROPPED)
    if os.geteuid() == 0:  # root writes anywhere: make the temporary file impossible instead

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(write.tempfile, "mkstemp", refuse)
    else:
        os.chmod(folder, 0o555)
    try:
        code = main(["fix", str(path)])
    finally:
        os.chmod(folder, 0o755)
    assert code == 2  # a failed write is an error, not a finding left
    assert path.read_text() == DROPPED
    assert "ffscan: error: ro/m.py: cannot write: Permission denied\n" in capsys.readouterr().err
    assert os.listdir(folder) == ["m.py"]


def test_diff_writes_nothing_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    (tmp_path / "m.py").write_text(DROPPED)
    assert main(["fix", "--diff", "m.py"]) == 1
    out = capsys.readouterr().out
    assert "+    track(asyncio.create_task(job()))" in out
    assert (tmp_path / "m.py").read_text() == DROPPED
    (tmp_path / "m.py").write_text(TRACKED)
    assert main(["fix", "--diff", "m.py"]) == 0


def test_a_second_run_changes_nothing_and_check_fix_equals_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for source in FIXABLE_DIRS:
            (tmp_path / folder / f"{source.name.lower()}.py").write_bytes((source / "bad.py").read_bytes())
    main(["fix", "--unsafe-fixes", "--select", "ALL", "a"])
    main(["check", "--fix", "--unsafe-fixes", "--select", "ALL", "b"])
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert first == {f"{d.name.lower()}.py": (d / "fixed.py").read_bytes() for d in FIXABLE_DIRS}
    main(["fix", "--unsafe-fixes", "--select", "ALL", "a"])
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}


def test_a_runtime_module_the_project_cannot_import_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.ffscan]\n\n[tool.ffscan.fix]\nruntime-module = "myapp._tracked"\n')
    (tmp_path / "m.py").write_text(DROPPED)
    assert main(["fix", "m.py"]) == 2
    assert "myapp._tracked" in capsys.readouterr().err
    assert (tmp_path / "m.py").read_text() == DROPPED
    # once the project has it, the fix imports from there
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "_tracked.py").write_text("from ffscan.runtime import *\n")
    assert main(["fix", "m.py"]) == 0
    assert "from myapp._tracked import track" in (tmp_path / "m.py").read_text()


def test_a_long_generated_chain_is_fixed_at_the_default_recursion_limit(tmp_path, monkeypatch, capsys):
    # ast parses a 500-term chain at the default limit (libcst's recursive parser, used for
    # imports before, did not): the fix needs nothing beyond ast and tokenize.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    chain = "VALUE = " + " + ".join(["1"] * 500) + "\n"
    (tmp_path / "gen.py").write_text(DROPPED + chain)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # the default; pytest may have raised it
    try:
        code = main(["fix", "gen.py"])
    finally:
        sys.setrecursionlimit(limit)
    assert code == 0
    assert (tmp_path / "gen.py").read_text() == TRACKED + chain



def _demo_copy(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    return tmp_path / "demo"


def test_fix_with_select_rewrites_only_that_rules_sites(tmp_path, monkeypatch, capsys):
    demo = _demo_copy(tmp_path, monkeypatch)
    before = {p.name: p.read_text() for p in (demo / "shop").iterdir()}
    main(["fix", "--select", "FF201", "."])
    after = {p.name: p.read_text() for p in (demo / "shop").iterdir()}
    assert after["reports.py"] == before["reports.py"]  # FF301/FF302 sites: not selected
    assert "track(asyncio.create_task(send_receipt(" in after["orders.py"]
    assert "track(loop.create_task(" in after["recommendations.py"]


# --- what remains, and the exit code ---------------------------------------------------------

UNAWAITED = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n    asyncio.sleep(1)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    def make(files):
        (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
        for name, text in files.items():
            (tmp_path / name).write_text(text)
        return tmp_path

    monkeypatch.chdir(tmp_path)
    return make


@pytest.mark.parametrize("command", [["fix"], ["check", "--fix"]])
def test_findings_of_rules_without_fixes_remain_and_exit_1(project, capsys, command):
    root = project({"app.py": DROPPED, "broken.py": "def handler(job)\n    return job\n"})
    assert main([*command, "--no-color", "."]) == 1
    assert (root / "app.py").read_text() == TRACKED
    out, err = capsys.readouterr()
    if command == ["fix"]:
        assert err.splitlines() == [
            "broken.py:1:17: FF001 not fixed: this rule has no automatic fix",
            "Fixed 1 finding in 1 file, which adds `from ffscan.runtime import track` to 1 file; 1 left (see above).",
        ]
    else:
        assert out.splitlines()[0] == f"broken.py:1:17: FF001 File does not parse: {MISSING_COLON}"
        assert out.splitlines()[-1] == "Found 2 findings (1 fixed, 1 remaining)."
        assert err == "ffscan: the fixes adds `from ffscan.runtime import track` to 1 file\n"


def test_nothing_left_exits_0(project, capsys):
    root = project({"app.py": DROPPED})
    assert main(["check", "--fix", "--format", "concise", "."]) == 0
    assert capsys.readouterr().out == "Found 1 finding (1 fixed, 0 remaining).\n"
    assert (root / "app.py").read_text() == TRACKED


def test_left_lines_are_those_of_the_written_text_or_with_diff_of_the_original(project, capsys):
    root = project({"app.py": UNAWAITED})
    assert main(["fix", "--diff", "."]) == 1
    assert capsys.readouterr().err.splitlines()[0] == "app.py:6:5: FF101 not fixed: only an unsafe fix (use --unsafe-fixes)"
    assert main(["fix", "."]) == 1
    assert capsys.readouterr().err.splitlines()[0] == "app.py:8:5: FF101 not fixed: only an unsafe fix (use --unsafe-fixes)"
    assert (root / "app.py").read_text().splitlines()[7] == "    asyncio.sleep(1)"


def test_check_diff_implies_fix_as_in_ruff(project, capsys):
    root = project({"app.py": DROPPED})
    assert main(["check", "--diff", "."]) == 1
    out, err = capsys.readouterr()
    assert "+    track(asyncio.create_task(job()))" in out
    assert err == "Would fix 1 finding in 1 file, which would add `from ffscan.runtime import track` to 1 file.\n"
    assert (root / "app.py").read_text() == DROPPED


def test_the_summary_counts_files_that_get_a_runtime_import(project, capsys):
    project({"a.py": DROPPED, "b.py": DROPPED, "c.py": TRACKED})
    assert main(["fix", "."]) == 0
    assert capsys.readouterr().err == "Fixed 2 findings in 2 files, which adds `from ffscan.runtime import track` to 2 files.\n"


def _fixed_text(text: str, unsafe: bool) -> str:
    outcome = fixed(text.encode("utf-8"), unsafe=unsafe)
    assert outcome.error is None, outcome.error
    return outcome.fixed


CONVERGENCE_CASES = sorted(
    path
    for path in FIXTURES.glob("*/*.py")
    if path.parent.name not in ("demo", "fix_durable")
    and not path.name.startswith(("fixed", "good"))
    and not path.name.endswith(".fixed.py")
    and _fixed_text(path.read_bytes().decode("utf-8", "replace"), True) != path.read_bytes().decode("utf-8", "replace")
)


@pytest.mark.parametrize("case", CONVERGENCE_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_safe_then_unsafe_ends_where_unsafe_alone_ends(case):
    text = case.read_bytes().decode("utf-8")
    assert _fixed_text(_fixed_text(text, False), True) == _fixed_text(text, True)


def test_demo_safe_then_unsafe_ends_where_unsafe_alone_ends(tmp_path, monkeypatch):
    import shutil

    for name in ("stepwise", "at_once"):
        shutil.copytree(FIXTURES / "demo", tmp_path / name)
    monkeypatch.chdir(tmp_path / "stepwise")
    assert main(["fix", "-q", "."]) == 1
    assert main(["fix", "-q", "--unsafe-fixes", "."]) == 1  # FF502 has no fix
    monkeypatch.chdir(tmp_path / "at_once")
    assert main(["fix", "-q", "--unsafe-fixes", "."]) == 1
    texts = {name: {p.name: p.read_text() for p in (tmp_path / name / "shop").glob("*.py")} for name in ("stepwise", "at_once")}
    assert texts["stepwise"] == texts["at_once"]
    assert "background.spawn(send_receipt, order[\"id\"])" in texts["at_once"]["orders.py"]


# --- links and read-only files ---------------------------------------------------------------


def test_a_symlinked_file_is_fixed_through_the_link(project, capsys):
    root = project({"real.py": DROPPED})
    (root / "link.py").symlink_to("real.py")
    assert main(["fix", "link.py"]) == 0
    assert (root / "link.py").is_symlink() and os.readlink(root / "link.py") == "real.py"
    assert (root / "real.py").read_text() == TRACKED
    assert not list(root.glob(".ffscan-*"))


def test_a_file_and_a_link_to_it_are_fixed_once(project, capsys):
    root = project({"real.py": DROPPED})
    (root / "link.py").symlink_to("real.py")
    assert main(["fix", "."]) == 0
    assert (root / "real.py").read_text() == TRACKED and (root / "link.py").is_symlink()
    assert capsys.readouterr().err == "Fixed 1 finding in 1 file, which adds `from ffscan.runtime import track` to 1 file.\n"


def test_a_hard_linked_file_is_left_unless_forced_then_written_in_place(project, capsys):
    root = project({"a.py": DROPPED})
    os.link(root / "a.py", root / "b.py")
    assert main(["fix", "a.py"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "ffscan: a.py: has 2 hard links, which a rewritten file would no longer share; "
        "left as it was (--force-write rewrites it in place)"
    )
    assert (root / "a.py").read_text() == DROPPED
    assert main(["fix", "--force-write", "a.py"]) == 0
    assert (root / "a.py").read_text() == (root / "b.py").read_text() == TRACKED
    assert os.stat(root / "a.py").st_ino == os.stat(root / "b.py").st_ino


def test_a_read_only_file_is_left_unless_forced_and_stays_read_only(project, capsys):
    root = project({"a.py": DROPPED})
    os.chmod(root / "a.py", 0o444)
    try:
        assert main(["fix", "a.py"]) == 1
        assert capsys.readouterr().err.splitlines()[0] == "ffscan: a.py: is read-only; left as it was (--force-write writes it anyway)"
        assert (root / "a.py").read_text() == DROPPED
        assert main(["check", "--fix", "--force-write", "a.py"]) == 0
        assert (root / "a.py").read_text() == TRACKED
        assert stat.S_IMODE(os.stat(root / "a.py").st_mode) == 0o444
    finally:
        os.chmod(root / "a.py", 0o644)


# --- where an added import goes: Ruff's isort (I001) with its default settings ---------------

PLACEMENT = [
    (  # third party: after the straight imports of its section, in module order
        "import asyncio\n\nimport aiohttp\nimport redis\nfrom starlette import responses\n\nfrom myapp import db\n\nfrom . import helpers\n",
        "ffscan.runtime",
        "import asyncio\n\nimport aiohttp\nimport redis\nfrom ffscan.runtime import track\nfrom starlette import responses\n\nfrom myapp import db\n\nfrom . import helpers\n",
    ),
    (  # first party (the project has myapp/_tracked): in that section
        "import asyncio\n\nimport aiohttp\n\nfrom myapp import db\n\nfrom . import helpers\n",
        "myapp._tracked",
        "import asyncio\n\nimport aiohttp\n\nfrom myapp import db\nfrom myapp._tracked import track\n\nfrom . import helpers\n",
    ),
    (  # a section of its own between two others
        "import asyncio\n\nfrom . import helpers\n",
        "ffscan.runtime",
        "import asyncio\n\nfrom ffscan.runtime import track\n\nfrom . import helpers\n",
    ),
    (  # before the comment that belongs to the next section
        "import asyncio\n\n# ours\nfrom myapp import db\n",
        "ffscan.runtime",
        "import asyncio\n\nfrom ffscan.runtime import track\n\n# ours\nfrom myapp import db\n",
    ),
    (  # the only import, above the rest
        "from myapp import db\n",
        "ffscan.runtime",
        "from ffscan.runtime import track\n\nfrom myapp import db\n",
    ),
    (  # merged into a bracketed from-import, in member order
        "from ffscan.runtime import (\n    TrackedQueue,\n    background,\n)\n",
        "ffscan.runtime",
        "from ffscan.runtime import (\n    TrackedQueue,\n    background,\n    track,\n)\n",
    ),
    (  # an aliased-only from-import stays as it is; the new one follows it
        "from ffscan.runtime import background as bg\n",
        "ffscan.runtime",
        "from ffscan.runtime import background as bg\nfrom ffscan.runtime import track\n",
    ),
]


@pytest.mark.parametrize("before, module, after", PLACEMENT)
def test_an_added_import_lands_where_isort_puts_it(tmp_path, before, module, after):
    from ffscan.fix.apply import ImportSections, add_imports

    (tmp_path / "myapp" / "_tracked").mkdir(parents=True)
    change, added = add_imports(before, [(module, "track")], ImportSections(src=(tmp_path, tmp_path / "src")))
    assert (change.apply(before), added) == (after, [(module, "track")])


def test_the_files_own_package_is_first_party(tmp_path):
    from ffscan.fix.apply import ImportSections, add_imports

    before = "import asyncio\n\nimport aiohttp\n"
    change, _ = add_imports(before, [("shop._tracked", "track")], ImportSections(package="shop"))
    assert change.apply(before) == "import asyncio\n\nimport aiohttp\n\nfrom shop._tracked import track\n"


def test_an_import_needed_by_module_level_code_above_the_imports_goes_on_top():
    from ffscan.fix.apply import add_imports

    before = '"""Doc."""\ntrack(loop.create_task(x()))\nimport asyncio\n'
    change, _ = add_imports(before, [("ffscan.runtime", "track")])
    assert change.apply(before) == '"""Doc."""\nfrom ffscan.runtime import track\n\ntrack(loop.create_task(x()))\nimport asyncio\n'



def test_check_diff_counts_what_is_left_without_pointing_at_a_list(project, capsys):
    project({"app.py": UNAWAITED})
    assert main(["check", "--diff", "."]) == 1
    assert capsys.readouterr().err == (
        "Would fix 1 finding in 1 file, which would add `from ffscan.runtime import track` to 1 file; "
        "1 left, 1 of them fixable with `--unsafe-fixes`.\n"
    )
