"""The whole-program index: coroutine functions defined or re-exported in other modules."""

from __future__ import annotations

import ast
from collections import Counter

from ffscan.cli import main
from ffscan.config import Settings
from ffscan.engine import run_check
from ffscan.engine.runner import link_parents
from ffscan.semantic.index import ProjectIndex
from ffscan.semantic.model import SemanticModel
from ffscan.semantic.summary import summarize_module
from helpers import FIXTURES, expected

PACKAGE = FIXTURES / "index"


def test_calls_into_other_modules_are_reported_where_the_index_sees_a_coroutine(monkeypatch):
    monkeypatch.chdir(PACKAGE)
    result = run_check(["shop"], Settings(root=PACKAGE), jobs=1)
    found = Counter((f.path, f.start.line, f.code) for f in result.findings)
    handlers = (PACKAGE / "shop" / "handlers.py").read_text(encoding="utf-8")
    want = Counter(("shop/handlers.py", line, code) for (line, code), n in expected(handlers).items() for _ in range(n))
    assert found == want
    messages = {f.start.line: f.message for f in result.findings}
    assert messages[8] == "Coroutine from `db.audit` is never awaited; its body never runs"


def test_the_same_package_checked_in_a_pool_gives_the_same_findings(monkeypatch):
    monkeypatch.chdir(PACKAGE)
    serial = run_check(["shop"], Settings(root=PACKAGE), jobs=1).findings
    monkeypatch.setattr("ffscan.engine.POOL_THRESHOLD", 1)
    pooled = run_check(["shop"], Settings(root=PACKAGE), jobs=2).findings
    assert pooled == serial


def test_one_file_alone_cannot_tell_and_reports_nothing(monkeypatch):
    monkeypatch.chdir(PACKAGE)
    result = run_check(["shop/handlers.py"], Settings(root=PACKAGE), jobs=1)
    assert result.findings == []


def test_suppression_applies_to_findings_the_index_settles(tmp_path, monkeypatch, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "db.py").write_text("async def audit():\n    pass\n")
    (tmp_path / "pkg" / "app.py").write_text(
        "from pkg.db import audit\n\nasync def f():\n    audit()  # noqa: FF101\n    audit()\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "pkg", "--format", "concise"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "pkg/app.py:5:5: FF101 Coroutine from `audit` is never awaited; its body never runs"
    assert out.splitlines()[1] == "Found 1 finding in 1 file: 0 fixable with `ffscan fix` (1 more with `--unsafe-fixes`)."


def test_index_follows_reexport_chains_and_stops_at_cycles_and_sync_defs():
    index = ProjectIndex(
        [
            summary_of("async def audit(): pass\ndef sync(): pass\n", "pkg.db"),
            summary_of("from .db import audit, sync\n", "pkg.api"),
            summary_of("from pkg.api import audit as log\nfrom .loop import a\n", "pkg.top"),
            summary_of("from .top import a\n", "pkg.loop"),
        ]
    )
    assert coroutine(index, "pkg.top.log") is True
    assert coroutine(index, "pkg.api.sync") is False
    assert coroutine(index, "pkg.top.a") is False  # a -> pkg.loop.a -> pkg.top.a
    assert coroutine(index, "pkg.nowhere") is False


def test_a_name_bound_twice_at_top_level_is_not_a_coroutine_function():
    index = ProjectIndex([summary_of("async def f(): pass\nf = wrap(f)\n", "m")])
    assert coroutine(index, "m.f") is False
    both_async = ProjectIndex([summary_of("try:\n    async def f(): pass\nexcept ImportError:\n    async def f(): pass\n", "m")])
    assert coroutine(index, "m.f") is False and coroutine(both_async, "m.f") is True


def test_all_is_no_as_soon_as_one_part_is_no_and_asks_no_part_after_it(monkeypatch):
    index = ProjectIndex([summary_of("async def c(): pass\ndef s(): pass\n", "m")])
    is_c, is_s = ("coroutine", ("call", ("global", "m.c"))), ("coroutine", ("call", ("global", "m.s")))
    asked = []
    real = ProjectIndex.answer
    monkeypatch.setattr(ProjectIndex, "answer", lambda self, query: asked.append(query) or real(self, query))
    assert index.answer(("all", is_c, is_c)) == {}
    assert index.answer(("all", is_s, is_c)) is None
    assert asked == [("all", is_c, is_c), is_c, is_c, ("all", is_s, is_c), is_s]


def summary_of(text: str, module: str, is_package: bool = False):
    semantic = SemanticModel(ast.parse(text), text, Settings(), module, is_package)
    link_parents(semantic)
    return summarize_module(semantic)


def coroutine(index: ProjectIndex, dotted: str) -> bool:
    return index.answer(("coroutine", ("call", ("global", dotted)))) == {}


def test_fixes_that_need_an_answer_are_kept_titled_dropped_or_left_for_the_whole_program():
    from ffscan.model import Edit, Finding, Fix, Location

    jobs = summarize_module(_linked("async def forever():\n    while True:\n        await tick()\n", "jobs"))
    edit = Edit.insertion(Location(1, 1), "x")
    long = Fix.safe("Keep it: `forever` {why}", edit).needing(("work-is", ("global", "jobs.forever"), "long"))
    short = Fix.unsafe("Queue it", edit).needing(("work-is", ("global", "jobs.forever"), "short"))
    plain = Fix.safe("Plain {braces stay}", edit)
    finding = Finding("FF201", "dangling-task", "m", "app.py", Location(1, 1), Location(1, 2), fixes=(short, long, plain))
    settled = ProjectIndex([jobs]).settle_fixes(finding)
    assert [(fix.title, fix.requires) for fix in settled.fixes] == [
        ("Keep it: `forever` loops forever (`while True:` at line 2)", None),
        ("Plain {braces stay}", None),
    ]
    alone = ProjectIndex([], final=False).settle_fixes(finding)
    assert alone.fixes == finding.fixes  # another module must answer: nothing decided yet


def _linked(text: str, module: str) -> SemanticModel:
    semantic = SemanticModel(ast.parse(text), text, Settings(), module)
    link_parents(semantic)
    return semantic


def test_a_name_is_read_once_per_scope_and_depth_and_each_reads_its_own_bindings():
    text = "import asyncio\nx = asyncio.sleep\n\ndef f():\n    x = helper\n    return x\n\ndef helper():\n    pass\n"
    semantic = SemanticModel(ast.parse(text), text, Settings(), "m")
    refs, names = semantic.refs, semantic.names
    function = names.scopes[semantic.tree.body[2]]
    module = names.module_scope
    for _ in range(2):  # the second time from the memo: the same answers
        assert refs.name_ref("x", module) == ("attr", ("global", "asyncio"), "sleep")
        assert refs.name_ref("x", function) == ("def", "m.helper")
        assert refs.name_ref("x", module, 12) == ("unknown",)  # past the depth a read stops at
