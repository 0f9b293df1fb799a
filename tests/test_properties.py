"""Properties over generated programs: check never crashes, findings stay inside their file,
moving code moves findings without adding or dropping one, and fixing is sound and idempotent.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffscan.config import Settings
from ffscan.engine.sources import decode_source
from ffscan.engine.fixing import fix_text
from ffscan.model import Fix
from helpers import ALL_CODES, FIXTURES, check_text

SETTINGS = Settings(root=FIXTURES)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD_FIXTURES = sorted(p for p in FIXTURES.glob("FF[1-5]*/bad.py"))


def assert_sane(text: str) -> list:
    result = check_text(text, settings=SETTINGS)
    assert result.errors == []
    lines = text.splitlines() or [""]
    for finding in result.findings:
        assert 1 <= finding.start.line <= finding.end.line <= len(lines) + 1, finding
        if finding.start.line <= len(lines) and finding.code[:3] != "FF0":
            assert 1 <= finding.start.column <= len(lines[finding.start.line - 1]) + 1, finding
    return result.findings


def fix(text: str, unsafe: bool = True):
    return fix_text(decode_source(text.encode("utf-8"), "example.py"), SETTINGS, ALL_CODES, "example", unsafe=unsafe)


# The only reasons a fix may refuse a valid program: libcst, which adds the imports, cannot
# parse deep nesting that `ast` handles.
EXPECTED_REFUSALS = ("libcst cannot handle this file (RecursionError)",)


def assert_fix_sound(text: str) -> None:
    """Every fix applies: the result compiles, keeps every finding that had no fix, and
    fixing it again changes nothing. A refusal passes only for an expected reason."""
    once = fix(text)
    if once.error is not None:
        assert once.error.startswith(EXPECTED_REFUSALS), f"a fix was refused: {once.error}"
        assert once.fixed == once.original
        return
    compile(once.fixed, "example.py", "exec")
    twice = fix(once.fixed)
    assert twice.error is None and twice.fixed == once.fixed, "fixing twice differs from fixing once"


# --- programs assembled from fire-and-forget shapes -------------------------------------------

HEADER = (
    "import asyncio\nimport threading\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
    "executor = ThreadPoolExecutor()\n\n\nasync def job(x=None):\n    await asyncio.sleep(0)\n\n\n"
    "def work(x=None):\n    with open('out', 'w') as f:\n        f.write(str(x))\n\n\n"
)
SHAPES = [
    "asyncio.create_task(job({v}))",
    "asyncio.ensure_future(job({v}))",
    "t_{n} = asyncio.create_task(job({v}))",
    "asyncio.gather(job({v}), job())",
    "asyncio.shield(job({v}))",
    "executor.submit(work, {v})",
    "f_{n} = executor.submit(work, {v})",
    "executor.map(work, [{v}])",
    "threading.Thread(target=work, args=({v},), daemon=True).start()",
    "threading.Thread(target=work, args=({v},)).start()",
    "print(asyncio.create_task(job({v})))",
    "[asyncio.create_task(job(i)) for i in range({v})]",
    "await job({v})",
    "executor.shutdown(wait=False)",
    "pass",
]
WRAPPERS = ["{s}", "for i in items:\n    {s}", "if items:\n    {s}", "with lock:\n    {s}", "try:\n    {s}\nexcept OSError:\n    raise"]


@st.composite
def programs(draw):
    parts = [HEADER]
    for n in range(draw(st.integers(1, 4))):
        is_async = draw(st.booleans())
        body = []
        for m in range(draw(st.integers(1, 4))):
            shape = draw(st.sampled_from(SHAPES)).format(v="i" if draw(st.booleans()) else "1", n=f"{n}_{m}")
            if shape.startswith("await") and not is_async:
                shape = "pass"
            wrapped = draw(st.sampled_from(WRAPPERS)).format(s=shape.replace("\n", "\n    "))
            body.append(wrapped.replace("for i in items", "for i in items" if "i" in shape else "for _ in items"))
        lines = "\n".join("    " + line for chunk in body for line in chunk.splitlines())
        parts.append(f"{'async ' if is_async else ''}def f{n}(items, lock, i=0):\n{lines}\n\n\n")
    if draw(st.booleans()):
        # the same functions as methods: `self` receivers and nested scopes
        parts.append("class Holder:\n" + "".join("    " + line + "\n" if line else "\n" for line in "".join(parts[1:]).splitlines()))
    return "".join(parts)


@FAST
@given(programs())
def test_generated_programs_check_and_fix_soundly(text):
    ast.parse(text)
    assert_sane(text)
    assert_fix_sound(text)


def test_the_soundness_check_fails_when_a_fix_emits_broken_code(monkeypatch):
    # `track(` without its closing parenthesis: the fixer must refuse it and the check must fail.
    from ffscan.model import Edit
    from ffscan.rules import fixes

    def broken(semantic, node, title):
        return Fix.safe(title, Edit.insertion(semantic.start(node), "track("))

    monkeypatch.setattr(fixes, "track", broken)
    with pytest.raises(AssertionError, match="a fix was refused: the fixed code would not compile"):
        assert_fix_sound(HEADER + "async def f():\n    t = asyncio.create_task(job())\n")


# --- mutations of the fixtures keep the findings ------------------------------------------------


def _findings(text: str) -> Counter:
    return Counter((f.start.line, f.code) for f in check_text(text, settings=SETTINGS).findings)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(BAD_FIXTURES), st.data())
def test_blank_lines_move_findings_without_adding_or_dropping(path, data):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # before a top-level statement, a blank line never changes what the code means
    starts = [i for i, line in enumerate(lines) if re.match(r"(async def|def|class|@)\b", line) and i > 0 and not lines[i - 1].startswith("@")]
    if not starts:
        return
    where = sorted(data.draw(st.lists(st.sampled_from(starts), min_size=1, max_size=4)))
    mutated = list(lines)
    for offset, index in enumerate(where):
        mutated.insert(index + offset, "\n")
    shifted = Counter()
    for (line, code), count in _findings("".join(lines)).items():
        shifted[(line + sum(1 for index in where if index < line), code)] += count
    assert _findings("".join(mutated)) == shifted


# Fixtures with a plain `import asyncio` to alias.
ALIASABLE = [p for p in BAD_FIXTURES if re.search(r"^import asyncio$", p.read_text(encoding="utf-8"), re.M)]


def test_most_fixtures_can_be_aliased():
    assert len(ALIASABLE) >= len(BAD_FIXTURES) // 2


@pytest.mark.parametrize("path", ALIASABLE, ids=lambda p: p.parent.name)
def test_an_import_alias_changes_no_finding(path):
    text = path.read_text(encoding="utf-8")
    aliased = re.sub(r"^import asyncio$", "import asyncio as aio_x", text, flags=re.M)
    aliased = re.sub(r"(?<![\w.])asyncio\.", "aio_x.", aliased)
    assert _findings(aliased) == _findings(text)
    assert_fix_sound(aliased)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(BAD_FIXTURES))
def test_fixture_fixes_are_sound(path):
    assert_fix_sound(path.read_text(encoding="utf-8"))


# --- arbitrary valid Python ------------------------------------------------------------------

try:
    import hypothesmith
except ImportError:  # optional: the `test` extra installs it
    hypothesmith = None


@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith is not installed")
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.builds(lambda: None) if hypothesmith is None else hypothesmith.from_node())
def test_check_never_crashes_on_valid_python(text):
    try:
        compile(text, "example.py", "exec")
    except (SyntaxError, ValueError):  # hypothesmith can produce code only the grammar accepts
        return
    assert_sane(text)
    assert_fix_sound(text)
