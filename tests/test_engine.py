"""The engine: trigger words never change what is found, one bad rule never stops a run."""

from __future__ import annotations

import ast
import gc
import sys
from collections import Counter

import pytest

from ffscan import engine
from ffscan.config import Settings
from ffscan.engine import runner
from ffscan.engine.runner import check_source
from ffscan.engine.sources import decode_source, split_lines
from ffscan.model import line_starts
from ffscan.rules import all_rules
from ffscan.rules import ff101_unawaited_coroutine as ff101
from ffscan.rules import ff102_coroutine_used_as_value as ff102
from ffscan.rules.base import Rule
from ffscan.semantic.model import SemanticModel
from ffscan.semantic.summary import summarize_module
from helpers import FIXTURES, check_text

RULE_DIRS = sorted(p for p in FIXTURES.glob("FF[0-9][0-9][0-9]") if (p / "bad.py").exists())


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_trigger_words_skip_no_finding(folder, monkeypatch):
    text = (folder / "bad.py").read_text(encoding="utf-8")
    with_triggers = Counter((f.start.line, f.code) for f in check_text(text).findings)
    monkeypatch.setattr(Rule, "triggers_for", classmethod(lambda cls, settings: None))
    for rule in all_rules().values():
        monkeypatch.setattr(rule, "triggers_for", classmethod(lambda cls, settings: None), raising=False)
    without = Counter((f.start.line, f.code) for f in check_text(text).findings)
    assert with_triggers == without


def test_a_file_without_trigger_words_is_not_traversed(monkeypatch):
    visited = []

    def spy(self, node):
        visited.append(node)

    rule = all_rules()["FF201"]
    monkeypatch.setattr(rule, "visit_Expr", spy)
    check_text("x = 1\nprint(x)\n", codes={"FF201"})
    assert visited == []
    check_text("import asyncio\nasyncio.create_task(x())\n", codes={"FF201"})
    assert len(visited) == 1


def test_suppression_comment_on_a_block_header_does_not_cover_its_body():
    text = (
        "import asyncio\n"
        "async def f():\n"
        "    if True:  # noqa: FF201\n"
        "        asyncio.create_task(g())\n"
    )
    assert [(f.start.line, f.code) for f in check_text(text, codes={"FF201"}).findings] == [(4, "FF201")]


def test_a_coroutine_iterated_inside_a_list_is_not_tested_for_truth_but_one_in_a_condition_is():
    text = (
        "async def c():\n"
        "    pass\n"
        "\n"
        "async def f():\n"
        "    for x in [c(), c()]:\n"
        "        await x\n"
        "    if c():\n"
        "        pass\n"
    )
    assert [(f.start.line, f.code) for f in check_text(text).findings] == [(7, "FF102")]


def test_ff102_asks_what_a_bound_call_makes_only_when_the_name_is_read_as_a_value(monkeypatch):
    asked = []
    real = ff102.CoroutineUsedAsValue._coroutine
    monkeypatch.setattr(ff102.CoroutineUsedAsValue, "_coroutine", lambda self, call: asked.append(call.lineno) or real(self, call))
    text = (
        "async def c():\n"
        "    pass\n"
        "\n"
        "async def f():\n"
        "    awaited = c()\n"
        "    await awaited\n"
        "    tested = c()\n"
        "    if tested:\n"
        "        pass\n"
    )
    assert [(f.start.line, f.code) for f in check_text(text, codes={"FF102"}).findings] == [(8, "FF102")]
    assert asked == [7]  # `awaited` is only awaited: what `c()` makes is never asked


ENCLOSING = """\
import asyncio

asyncio.ensure_future(tick())


class Shop:
    asyncio.ensure_future(tick())

    async def checkout(self):
        asyncio.create_task(tick())

        def on_done():
            asyncio.ensure_future(tick())

        return lambda: asyncio.ensure_future(tick())


async def main():
    class Local:
        def ping(self):
            asyncio.ensure_future(tick())
"""


def test_findings_name_the_function_they_are_in_as_its_qualname():
    found = [(f.start.line, f.enclosing) for f in check_text(ENCLOSING, codes={"FF201"}).findings]
    assert found == [
        (3, ""),  # module level
        (7, "Shop"),  # a class body
        (10, "Shop.checkout"),
        (13, "Shop.checkout.<locals>.on_done"),
        (21, "main.<locals>.Local.ping"),
    ]


def test_a_lambda_returned_by_a_method_is_summarised_without_error():
    # Its scope is made on first use, while the module is being summarised.
    text = "class Bar:\n    def bind(self, name):\n        return lambda: self.text.event_generate(name)\n"
    result = check_text(text)
    assert (result.errors, result.summary.functions["example.Bar.bind"].returns) == ([], (("unknown",),))


def _parses(path) -> bool:
    try:
        ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# The files ffscan analyses; one it cannot parse is rare, and its error path may keep a
# traceback (and what its frames hold) until the next collection.
CHECKED_FILES = sorted(p for p in FIXTURES.rglob("*.py") if _parses(p))


@pytest.mark.parametrize("path", CHECKED_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_checking_a_file_leaves_no_reference_cycle_holding_its_tree(path):
    # What a file's check builds (tree, scopes, summary, per-file index) is freed as soon as
    # the check returns only if no reference cycle holds it; a cycle waits for the garbage
    # collector, which then scans the whole heap of a worker again and again.
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        check_text(text, path=str(path), module=path.stem)
        gc.collect()
        held = sorted({type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage if _is_analysis_object(o)})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert held == []


def _is_analysis_object(obj: object) -> bool:
    return isinstance(obj, ast.AST) or type(obj).__module__.startswith("ffscan.")


CANDIDATES = '''import asyncio

from other import Remote


def describe(value):
    return str(value)


class Client:
    async def close(self):
        await asyncio.sleep(0)

    def flush(self):
        pass

    async def stop(self, remote: Remote):
        self.close()
        self.flush()
        describe(self.close())
        remote.shutdown()
'''


def test_a_candidate_keeps_its_fixes_when_confirmed_or_deferred_and_makes_none_when_ruled_out(monkeypatch):
    # Five candidates: the module confirms `self.close()` (18) and the coroutine handed to
    # `describe` (FF102, 20), rules out `self.flush()` (19) and dropping `describe(...)` (20),
    # and leaves `remote.shutdown()` (21) to the whole program.
    made = []
    for module in (ff101, ff102):
        real = module._await_fixes

        def spy(semantic, call, *rest, real=real, code="FF101" if module is ff101 else "FF102"):
            made.append((code, call.lineno))
            return real(semantic, call, *rest)

        monkeypatch.setattr(module, "_await_fixes", spy)
    source = decode_source(CANDIDATES.encode("utf-8"), "client.py")
    result = check_source(source, Settings(), frozenset({"FF101", "FF102"}), "client")

    def shown(finding):
        return (finding.code, finding.start.line, [(fix.title, [(e.start.line, e.start.column, e.content) for e in fix.edits]) for fix in finding.fixes])

    assert [shown(f) for f in result.findings] == [
        ("FF101", 18, [("Await the coroutine", [(18, 9, "await ")])]),
        ("FF102", 20, [("Await the coroutine and use its result", [(20, 18, "await ")])]),
    ]
    assert [shown(d.finding) for d in result.deferred] == [("FF101", 21, [("Await the coroutine", [(21, 9, "await ")])])]
    assert sorted(made) == [("FF101", 18), ("FF101", 21), ("FF102", 20)]


def test_a_candidate_whose_question_is_often_yes_keeps_its_finding_when_questions_are_asked():
    # Whether work from another module can suspend is yes as often as not: its finding is made
    # in the worker, so that a yes does not cost the file a second check.
    source = decode_source(b"import asyncio\nfrom other import work\n\nasync def main():\n    asyncio.create_task(work())\n", "m.py")
    result = check_source(source, Settings(), frozenset({"FF201"}), "m", questions_only=True)
    assert result.questions == ()
    # Whether the coroutine catches its own errors, asked with it, decides what the message says.
    asked = [(d.finding.code, d.finding.start.line, [part[0] for part in d.query[1:]]) for d in result.deferred]
    assert asked == [("FF201", 5, ["may-suspend", "error-fate"])]


class _EveryLeaf(Rule):
    code = "FF999"
    name = "every-leaf"

    def __init__(self, semantic, sink):
        super().__init__(semantic, sink)
        self.seen = []

    def visit_Name(self, node):
        self.seen.append(("name", node.id, self.semantic.parent(node).__class__.__name__))

    def visit_Constant(self, node):
        self.seen.append(("constant", node.value, self.semantic.parent(node).__class__.__name__))


def _pass(text: str, rules) -> runner._Pass:
    source = decode_source(text.encode("utf-8"), "leaves.py")
    tree = ast.parse(source.text)
    visitor = runner._Pass(runner.FileContext(source, tree, Settings(), "leaves"), rules, [])
    visitor.run(tree)
    return visitor


LEAVES = "x = f(g(a), 1)\nprint('s', x)\n"


def test_a_rule_that_visits_names_and_constants_is_given_every_one():
    # The pass records leaves no rule asked for without visiting them; one that asks sees
    # each, in order, with its parent known.
    rule = _pass(LEAVES, [_EveryLeaf]).enter[ast.Name][0][0]
    assert rule.seen == [
        ("name", "x", "Assign"), ("name", "f", "Call"), ("name", "g", "Call"), ("name", "a", "Call"),
        ("constant", 1, "Call"), ("name", "print", "Call"), ("constant", "s", "Call"), ("name", "x", "Call"),
    ]


@pytest.mark.parametrize("rules", [[], [_EveryLeaf]], ids=["leaves recorded by their parent", "leaves visited"])
def test_every_name_read_is_recorded_in_the_order_of_the_code_and_every_node_knows_its_parent(rules):
    visitor = _pass(LEAVES, rules)
    semantic = visitor.ctx.semantic
    assert [n.id for n in semantic.loads_by_function[None]] == ["f", "g", "a", "print", "x"]
    linked = [n for n in ast.walk(semantic.tree) if n is not semantic.tree and not isinstance(n, _SINGLETONS)]
    assert all(semantic.parents.get(n) is not None for n in linked)


_SINGLETONS = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)  # never visited


def test_a_candidate_only_the_whole_program_decides_is_kept_as_its_question_when_asked(monkeypatch):
    made = []
    real = ff101._await_fixes
    monkeypatch.setattr(ff101, "_await_fixes", lambda semantic, call, *rest: made.append(call.lineno) or real(semantic, call, *rest))
    source = decode_source(CANDIDATES.encode("utf-8"), "client.py")
    result = check_source(source, Settings(), frozenset({"FF101", "FF102"}), "client", questions_only=True)
    # What the module decides is as without the flag; `remote.shutdown()` (21) is a question.
    assert [(f.code, f.start.line) for f in result.findings] == [("FF101", 18), ("FF102", 20)]
    assert result.deferred == []
    assert result.questions == (("coroutine", ("call", ("attr", ("instance", ("global", "other.Remote")), "shutdown"))),)
    assert sorted(made) == [18]  # no fix made for the question's finding


def test_pool_batches_put_the_largest_files_first_within_a_size_and_count_bound(tmp_path):
    # Given smallest first, as a sorted tree may give them.
    sizes = {f"small{i:02d}": 1_000 for i in range(20)}
    sizes.update({"big1": 100_000, "big2": 100_000, "huge": 300_000, "big3": 100_000})
    files = []
    for key, size in sizes.items():
        path = tmp_path / f"{key}.py"
        path.write_text("#" * (size - 1) + "\n", encoding="utf-8")
        files.append((key, str(path)))
    files.append(("gone", str(tmp_path / "gone.py")))  # unreadable: size 0, checked last
    smalls = [f"small{i:02d}" for i in range(20)]
    assert engine.pool_batches(files) == [
        ["huge"],  # over BATCH_BYTES: alone
        ["big1", "big2"],  # a third would pass BATCH_BYTES
        ["big3", *smalls[:15]],  # BATCH_SIZE files
        [*smalls[15:], "gone"],
    ]


def test_results_from_the_pool_come_in_the_order_of_the_work(tmp_path):
    items = []
    for index in range(engine.POOL_THRESHOLD + 4):
        path = tmp_path / f"m{index:02d}.py"
        # Later files are larger: the pool checks them first.
        path.write_text("import asyncio\n" + "x = 1\n" * index * 40, encoding="utf-8")
        items.append(engine.WorkItem(str(path), path.name, frozenset({"FF201"}), path.stem))
    pooled = [(item.module, result.path) for item, result in engine._results(items, Settings(root=tmp_path), None, None, 2)]
    assert pooled == [(item.module, item.display) for item in items]


@pytest.mark.parametrize("path", [p for p in CHECKED_FILES if p.parent.name.startswith(("FF1", "FF2", "project_"))], ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_scope_of_every_node_is_the_def_lambda_or_class_around_it(path, monkeypatch):
    # scope_of keeps what it found for the nodes it passed: asked in the pass's order (and
    # asked again of every node after it), each answer is still the innermost def, lambda or
    # class that holds the node.
    models = []
    real = runner.FileContext.__init__

    def keep(self, *args, **kwargs):
        real(self, *args, **kwargs)
        models.append(self.semantic)

    monkeypatch.setattr(runner.FileContext, "__init__", keep)
    check_text(path.read_text(encoding="utf-8"), path=str(path), module=path.stem)
    semantic = models[0]
    wrong = []
    for node in ast.walk(semantic.tree):
        if node not in semantic.parents:
            continue  # not linked: a field the pass skips (`ctx`, operators)
        around = semantic.parents[node]
        while not isinstance(around, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            around = semantic.parents[around]
        if semantic.names.scope_of(node).node is not around:
            wrong.append((type(node).__name__, getattr(node, "lineno", None)))
    assert wrong == []


SUSPENDING = """
async def plain():
    return 1

async def waits(x):
    await x

async def loops(stream):
    async for item in stream:
        pass

async def nested(ready):
    async def inner(x=await ready()):
        return x
    return inner
"""


def test_whether_a_coroutine_suspends_is_the_same_read_from_the_pass_as_from_its_body():
    # After the pass the summary reads each function's recorded awaits; without it, it walks
    # the body. `inner`'s default is awaited before its body runs: it does not suspend it.
    text = SUSPENDING.lstrip()
    after_pass = check_source(decode_source(text.encode("utf-8"), "m.py"), Settings(), frozenset({"FF302"}), "m").summary
    shallow = summarize_module(SemanticModel(ast.parse(text), text, Settings(), "m", False), deep=False)
    read = {name: facts.suspends for name, facts in after_pass.functions.items()}
    assert read == {name: facts.suspends for name, facts in shallow.functions.items()}
    assert read == {"m.plain": False, "m.waits": True, "m.loops": True, "m.nested": False, "m.nested.<locals>.inner": False}


def test_a_builtin_called_directly_is_never_asked_whether_it_makes_a_coroutine(monkeypatch):
    asked = []
    real = Rule.report_if
    monkeypatch.setattr(Rule, "report_if", lambda self, node, query, *rest, **fields: asked.append(query) or real(self, node, query, *rest, **fields))
    source = decode_source(
        b"from other import remote\n\nasync def main(items):\n    print(len(items), remote.ping())\n    if str(items):\n        assert sorted(items)\n",
        "m.py",
    )
    check_source(source, Settings(), frozenset({"FF101", "FF102"}), "m")
    assert asked == [("coroutine", ("call", ("attr", ("global", "other.remote"), "ping")))]


def _link(semantic, child, *ancestors):
    for node, parent in zip((child, *ancestors), ancestors):
        semantic.parents[node] = parent


def test_a_names_qualified_name_is_kept_only_once_it_and_what_it_aliases_are_linked():
    # Until the pass links a node, its scope is a guess from the visit's stack (here: the
    # module, where `x` is `os`); a kept answer must not outlive the guess.
    text = "import os as x\nf = lambda x: x\n\ndef g(x):\n    alias = x\n    return alias()\n"
    tree = ast.parse(text)
    semantic = SemanticModel(tree, text, Settings(), "m", False)
    names = semantic.names
    lambda_node = tree.body[1].value
    in_lambda = lambda_node.body
    assert names.qualified(in_lambda) == "os"
    _link(semantic, in_lambda, lambda_node)
    assert names.qualified(in_lambda) is None  # the lambda's parameter
    g = tree.body[2]
    assignment, returned = g.body
    call = returned.value
    _link(semantic, call.func, call, returned, g)
    assert names.qualified(call.func) == "os"  # `alias` is linked, the `x` it copies is not yet
    _link(semantic, assignment.value, assignment, g)
    assert names.qualified(call.func) is None  # `g`'s parameter


@pytest.mark.parametrize(
    "text, lines",
    [
        ("a\nb\n", ("a", "b")),
        ("a\r\nb\r\n", ("a", "b")),
        ("a\rb\rc", ("a", "b", "c")),
        ("a\r\nb\rc\nd", ("a", "b", "c", "d")),
        ("a\x0cb\u2028c\n\nd", ("a\x0cb\u2028c", "", "d")),  # what the tokenizer keeps inside a line
    ],
    ids=["LF", "CRLF", "CR", "mixed", "separators Python does not break at"],
)
def test_lines_end_only_where_python_ends_them(text, lines):
    assert split_lines(text) == lines


@pytest.mark.parametrize(
    "text, starts",
    [
        ("", (0,)),
        ("a\nbc\n", (0, 2, 5)),
        ("a\nbc", (0, 2)),
        ("a\r\nb\rc\nd", (0, 3, 5, 7)),
        ("a\x0cb\u2028c\n\nd", (0, 6, 7)),
    ],
    ids=["empty", "LF", "no final newline", "mixed", "separators Python does not break at"],
)
def test_each_line_starts_where_the_one_before_ended(text, starts):
    assert line_starts(text) == starts


EVERY_STATEMENT = '''
import os.path
import json as j
from . import sibling
from .pkg import thing as alias
CONSTANT = 1
total: int = 0
counter += 1

def function(a, /, b, *args, c, **kw):
    global CONSTANT
    for item in a:
        in_for = 1
    else:
        for_else = 1
    async def coro():
        async for x in a:
            in_async_for = 1
        async with a as managed:
            in_async_with = 1
    while b:
        in_while = 1
    else:
        while_else = 1
    if c:
        in_if = 1
    else:
        in_else = 1
    with open(a) as handle, b as (p, q):
        in_with = 1
    try:
        in_try = 1
    except ValueError as error:
        in_handler = 1
    else:
        in_try_else = 1
    finally:
        in_finally = 1
    del in_try
    return a

class Klass:
    attr = 1
    def method(self):
        self.value = 2
'''
MATCH_STATEMENT = '''
def matching(a):
    match a:
        case [first, *rest]:
            in_case = 1
'''


def test_every_statement_binds_its_names_in_its_scope():
    text = EVERY_STATEMENT + (MATCH_STATEMENT if sys.version_info >= (3, 10) else "")
    tree = ast.parse(text)
    names = SemanticModel(tree, text, Settings(), "pkg.m", False).names
    scopes = {getattr(node, "name", "<module>"): scope for node, scope in names.scopes.items()}
    assert set(scopes["<module>"].bindings) >= {"os", "j", "sibling", "alias", "CONSTANT", "total", "counter", "function", "Klass"}
    assert [b.target for b in scopes["<module>"].bindings["alias"]] == ["pkg.pkg.thing"]
    assert set(scopes["function"].bindings) == {
        "a", "b", "args", "c", "kw", "item", "in_for", "for_else", "coro", "in_while", "while_else", "in_if",
        "in_else", "handle", "p", "q", "in_with", "in_try", "error", "in_handler", "in_try_else", "in_finally",
    }
    assert scopes["function"].global_names == {"CONSTANT"}
    assert [ast.unparse(r) for r in scopes["function"].returns] == ["a"]
    assert set(scopes["coro"].bindings) == {"x", "in_async_for", "managed", "in_async_with"}
    assert set(scopes["Klass"].bindings) == {"attr", "method"}
    assert scopes["method"].receiver == "self"
    assert [attribute for attribute, *_ in scopes["Klass"].self_assignments] == ["value"]
    if sys.version_info >= (3, 10):
        assert set(scopes["matching"].bindings) == {"a", "first", "rest", "in_case"}
