"""The catalogue of third-party packages: summarising and trimming a package's source, the
format it is shipped in, the overlay of facts the source cannot show, and the build script."""

from __future__ import annotations

import gzip
import json
import platform
import sys
import textwrap

import pytest

from ffscan.semantic import catalogue
from ffscan.semantic.catalogue import (
    Overlay,
    OverlayError,
    dumps,
    loads,
    parse_overlay,
    read_meta,
    shipped,
    shipped_packages,
)
from ffscan.semantic.index import ProjectIndex
from ffscan.semantic.libraries import package_files, summarize_package, top_level_names, trim
from helpers import ROOT, make_wheel

sys.path.insert(0, str(ROOT / "tools"))
import build_catalogue  # noqa: E402

TINY = {
    "tiny/__init__.py": "from ._impl import Client, make_client\nfrom . import helpers\n",
    "tiny/_impl.py": textwrap.dedent(
        """
        class Base:
            async def close(self):
                pass

            async def send(self, data):
                pass

        class Client(Base):
            def close(self):  # sync: hides the base's async close
                pass

            def query(self):
                return 1

        def make_client() -> Client:
            return Client()
        """
    ),
    "tiny/_unused.py": "LIMIT = 3\n\ndef size():\n    return LIMIT\n",
    "tiny/helpers.py": "import os\n\ndef join(a, b):\n    return os.path.join(a, b)\n",
}


def tiny_site(tmp_path):
    for path, text in TINY.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path


def call(ref):
    return ("call", ref)


def attr(ref, name):
    return ("attr", ref, name)


CLIENT = call(("global", "tiny.Client"))
QUESTIONS = {
    "send": ("coroutine", call(attr(CLIENT, "send"))),
    "close": ("coroutine", call(attr(CLIENT, "close"))),
    "query": ("coroutine", call(attr(CLIENT, "query"))),
    "factory send": ("coroutine", call(attr(call(("global", "tiny.make_client")), "send"))),
    "join": ("coroutine", call(("global", "tiny.helpers.join"))),
}


def answers(summaries):
    index = ProjectIndex([], libraries=lambda top: summaries if top == "tiny" else ())
    return {name: index.answer(query) for name, query in QUESTIONS.items()}


def test_package_files_name_modules_and_skip_what_cannot_be_imported(tmp_path):
    site = tiny_site(tmp_path)
    (site / "tiny" / "__pycache__").mkdir()
    (site / "tiny" / "__pycache__" / "x.py").write_text("", encoding="utf-8")
    (site / "tiny" / "data-files").mkdir()
    (site / "tiny" / "data-files" / "y.py").write_text("", encoding="utf-8")
    (site / "tiny" / "_speedups.pyi").write_text("def fast() -> int: ...\n", encoding="utf-8")
    (site / "tiny" / "helpers.pyi").write_text("", encoding="utf-8")  # the .py wins
    found = sorted((module, package, path.name) for module, package, path in package_files(site, "tiny"))
    assert found == [
        ("tiny", True, "__init__.py"),
        ("tiny._impl", False, "_impl.py"),
        ("tiny._speedups", False, "_speedups.pyi"),
        ("tiny._unused", False, "_unused.py"),
        ("tiny.helpers", False, "helpers.py"),
    ]


def test_trimming_keeps_every_answer(tmp_path):
    full = summarize_package(tiny_site(tmp_path), "tiny")
    trimmed = trim(full, frozenset())
    assert answers(full) == answers(trimmed) == {"send": {}, "close": None, "query": None, "factory send": {}, "join": None}


def test_trimming_drops_what_leads_nowhere_and_keeps_private_modules_that_are_re_exported(tmp_path):
    trimmed = {s.module: s for s in trim(summarize_package(tiny_site(tmp_path), "tiny"), frozenset())}
    assert sorted(trimmed) == ["tiny", "tiny._impl"]  # _unused and helpers hold nothing async
    impl = trimmed["tiny._impl"]
    assert sorted(impl.classes) == ["tiny._impl.Base", "tiny._impl.Client"]
    # the sync close stays, as a stand-in: it hides Base.close
    assert catalogue.is_opaque(impl.functions["tiny._impl.Client.close"])
    assert impl.functions["tiny._impl.Base.send"].kind == "coroutine"
    assert sorted(trimmed["tiny"].symbols) == ["Client", "helpers", "make_client"]
    assert trimmed["tiny"].symbols["helpers"] == (("unknown",),)  # hides the submodule of that name


def test_a_name_of_another_package_is_kept_only_when_that_package_can_be_loaded(tmp_path):
    site = tmp_path
    (site / "plugin").mkdir()
    (site / "plugin" / "__init__.py").write_text("import aiohttp\n\nclass Session(aiohttp.ClientSession):\n    pass\n", encoding="utf-8")
    assert [s.module for s in trim(summarize_package(site, "plugin"), frozenset({"aiohttp"}))] == ["plugin"]
    assert trim(summarize_package(site, "plugin"), frozenset()) == []


def test_dumps_and_loads_round_trip_and_give_the_same_bytes(tmp_path):
    trimmed = trim(summarize_package(tiny_site(tmp_path), "tiny"), frozenset())
    data = dumps(trimmed, {"package": "tiny", "version": "1.0"})
    assert list(loads(data)) == trimmed
    assert dumps(loads(data), {"version": "1.0", "package": "tiny"}) == data
    assert read_meta(data) == {"package": "tiny", "version": "1.0"}


def test_a_package_reads_only_the_modules_asked_for(tmp_path):
    trimmed = trim(summarize_package(tiny_site(tmp_path), "tiny"), frozenset())
    package = loads(dumps(trimmed, {}))
    assert package.names == tuple(s.module for s in trimmed) and len(package) == len(trimmed) > 1
    first = trimmed[0]
    assert package.get(first.module) == first and package.get("tiny.nothing") is None
    assert list(package._read) == [first.module]  # the others are still text
    assert package[-1] == trimmed[-1] and package[:] == trimmed


def test_the_index_reads_only_the_modules_names_lead_to_and_answers_as_with_all_read(tmp_path):
    full = summarize_package(tiny_site(tmp_path), "tiny")  # untrimmed: a module nothing leads to
    expected = answers(full)
    assert expected["send"] == {} and expected["close"] is None  # the questions tell things apart
    package = loads(dumps(full, {}))
    index = ProjectIndex([], libraries=lambda top: package if top == "tiny" else ())
    assert {name: index.answer(query) for name, query in QUESTIONS.items()} == expected
    assert "tiny._unused" in index._unread and "tiny._unused" not in package._read  # nothing led there
    assert {"tiny", "tiny._impl", "tiny.helpers"} <= set(index.modules)


def test_a_definition_named_in_an_unread_module_is_read_for(tmp_path):
    package = loads(dumps(summarize_package(tiny_site(tmp_path), "tiny"), {}))
    index = ProjectIndex([], libraries=lambda top: package if top == "tiny" else ())
    assert index.evaluate(("global", "tiny._unused.LIMIT"))  # loads the package, reads one module
    assert "tiny._impl" in index._unread
    assert [v.kind for v in index.evaluate(("def", "tiny._impl.Client"))] == ["class"]


def test_a_damaged_module_part_is_done_without(tmp_path):
    trimmed = trim(summarize_package(tiny_site(tmp_path), "tiny"), frozenset())
    document = json.loads(gzip.decompress(dumps(trimmed, {})))
    document["modules"][0][1] = "{not json"
    package = loads(gzip.compress(json.dumps(document).encode()))
    with pytest.warns(UserWarning, match=f"the summary of {trimmed[0].module} cannot be read"):
        assert package.get(trimmed[0].module) is None
    assert list(package) == trimmed[1:]


def test_a_document_of_another_format_loads_as_nothing():
    data = gzip.compress(json.dumps({"format": catalogue.FORMAT + 1, "modules": [{"junk": 1}]}).encode())
    assert list(loads(data)) == []


@pytest.mark.parametrize(
    "document, message",
    [
        ({"functions": {"a.b": "awaitable"}}, "functions.'a.b' = 'awaitable': a fact is one of coroutine"),
        ({"classes": {"a.B": "coroutine"}}, "classes.'a.B' must be a table of method = fact"),
        ({"classes": {"a.B": {"m": "nope"}}}, "classes.'a.B'.m = 'nope'"),
        ({"traits": {"a.B": "fast"}}, "traits.'a.B' = 'fast': a trait is one of self-dispatch"),
        ({"function": {}}, "unknown table 'function'"),
    ],
)
def test_a_bad_overlay_entry_is_named(document, message):
    with pytest.raises(OverlayError) as raised:
        parse_overlay(document, "overlay.toml")
    assert message in str(raised.value)


# ---- the overlay, honoured by the index ---------------------------------------------------

LIB = {
    "lib/__init__.py": "from .core import wrap, register, Client, Pipeline, Meta\n",
    "lib/core.py": textwrap.dedent(
        """
        def wrap(func=None, *, option=True):
            if func is None:
                return lambda f: wrap(f)
            return _Wrapped(func)

        class _Wrapped:
            def __init__(self, func):
                self.func = func

        def register(path):
            def decorator(func):
                return func
            return decorator

        class Commands:
            def set(self, key, value) -> "int | Awaitable[int]":
                return self.execute_command("SET", key, value)

        class Client(Commands):
            async def execute_command(self, *args):
                pass

        class Pipeline(Client):
            def execute_command(self, *args):
                return self

        class Kind(type):
            pass

        class Meta(metaclass=Kind):
            async def run(self):
                pass
        """
    ),
}

TEST_OVERLAY = Overlay(
    functions={"lib.core.wrap": "async-callable", "lib.core.register": "keeps-async"},
    classes={},
    traits={"lib.core.Client": "self-dispatch", "lib.core.Meta": "plain-metaclass"},
)
EMPTY_OVERLAY = Overlay({}, {}, {})

PROJECT = textwrap.dedent(
    """
    import lib

    @lib.register("/x")
    async def handler():
        pass

    @lib.wrap
    def blocking():
        return 1

    async def main():
        lib.wrap(len)()
        blocking()
        handler()
        lib.Client().set("k", 1)
        lib.Pipeline().set("k", 1)
        lib.Meta().run()
    """
)


def overlay_findings(tmp_path, monkeypatch, facts):
    from ffscan.semantic.model import SemanticModel
    from ffscan.semantic.summary import summarize_module

    for path, text in LIB.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    monkeypatch.setattr(catalogue, "overlay", lambda: facts)
    library = summarize_package(tmp_path, "lib")
    import ast

    from ffscan.config import Settings

    tree = ast.parse(PROJECT)
    semantic = SemanticModel(tree, PROJECT, Settings(), "app")
    project = summarize_module(semantic, deep=False)
    index = ProjectIndex([project], libraries=lambda top: library if top == "lib" else ())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            ref = semantic.refs.ref_of(node.value, semantic.names.scope_of(node.value))
            found[ast.unparse(node.value)] = index.answer(("coroutine", ref)) == {}
    return found


def test_the_overlay_says_what_the_source_cannot(tmp_path, monkeypatch):
    assert overlay_findings(tmp_path, monkeypatch, TEST_OVERLAY) == {
        "lib.wrap(len)()": True,  # async-callable
        "blocking()": True,  # decorated by an async-callable maker
        "handler()": True,  # keeps-async decorator factory
        "lib.Client().set('k', 1)": True,  # self-dispatch: Client.execute_command is async
        "lib.Pipeline().set('k', 1)": False,  # its execute_command is sync
        "lib.Meta().run()": True,  # plain-metaclass
    }


def test_without_the_overlay_none_of_it_is_claimed(tmp_path, monkeypatch):
    assert set(overlay_findings(tmp_path, monkeypatch, EMPTY_OVERLAY).values()) == {False}


# ---- the shipped catalogue ------------------------------------------------------------------


def test_every_listed_package_is_shipped_with_its_pinned_version():
    pins = build_catalogue.read_pins(build_catalogue.PACKAGES)
    shipped_meta = {}
    for top in shipped_packages():
        meta = read_meta((catalogue.CATALOGUE_DIR / f"{top}.json.gz").read_bytes())
        shipped_meta[meta["top"]] = (meta["package"], meta["version"])
    assert sorted(set(shipped_meta.values())) == sorted((p.name, p.version) for p in pins)


def test_every_overlay_name_is_found_in_the_shipped_catalogue():
    facts = catalogue.overlay()
    missing = []
    for name in [*facts.functions, *facts.classes, *facts.traits]:
        top = name.split(".", 1)[0]
        summaries = {s.module: s for s in shipped(top)}
        owner = name.rpartition(".")[0]
        known = (
            name in {q for s in summaries.values() for q in (*s.functions, *s.classes)}
            or owner in summaries  # a module-level name
            or any(owner in s.classes for s in summaries.values())  # a method of a kept class
        )
        if not known:
            missing.append(name)
    assert missing == []


def test_the_shipped_catalogue_is_small():
    total = sum(p.stat().st_size for p in catalogue.CATALOGUE_DIR.glob("*.json.gz"))
    assert len(shipped_packages()) == 26
    assert total < 1_000_000


# ---- the build script -------------------------------------------------------------------------


def test_top_level_names_come_from_the_record():
    record = ["tiny/__init__.py,,", "tiny/x/y.py,,", "single.py,,", "tiny-1.0.dist-info/RECORD,,", "../../bin/tool,,", "data/file.txt,,"]
    assert top_level_names(record) == ["single", "tiny"]


def test_a_bad_pin_line_is_named(tmp_path):
    listing = tmp_path / "packages.txt"
    listing.write_text("# comment\ntiny==1.0\ntiny>=2\n", encoding="utf-8")
    with pytest.raises(build_catalogue.BuildError) as raised:
        build_catalogue.read_pins(listing)
    assert str(raised.value) == f"{listing}:3: expected `name==version`, got 'tiny>=2'"


def test_the_build_gives_the_same_bytes_twice(tmp_path):
    make_wheel(tmp_path / "wheels", "tiny", "1.0", TINY)
    listing = tmp_path / "packages.txt"
    listing.write_text("tiny==1.0  # a fake package\n", encoding="utf-8")
    common = ["--packages", str(listing), "--find-links", str(tmp_path / "wheels"), "--no-index"]
    assert build_catalogue.main([*common, "--out", str(tmp_path / "first")]) == 0
    assert build_catalogue.main([*common, "--out", str(tmp_path / "second")]) == 0
    first = (tmp_path / "first" / "tiny.json.gz").read_bytes()
    assert first == (tmp_path / "second" / "tiny.json.gz").read_bytes()
    assert read_meta(first) == {"package": "tiny", "version": "1.0", "python": platform.python_version(), "top": "tiny"}
    assert answers(loads(first))["send"] == {}


def test_writing_replaces_what_changed_and_removes_what_is_no_longer_built(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.json.gz").write_bytes(b"same")
    (out / "stale.json.gz").write_bytes(b"old")
    (out / "overlay.toml").write_text("", encoding="utf-8")
    files = {"kept.json.gz": b"same", "new.json.gz": b"new"}
    assert build_catalogue.write(files, out, check=True) == ["new.json.gz", "stale.json.gz"]
    assert sorted(p.name for p in out.iterdir()) == ["kept.json.gz", "overlay.toml", "stale.json.gz"]
    assert build_catalogue.write(files, out, check=False) == ["new.json.gz", "stale.json.gz"]
    assert sorted(p.name for p in out.iterdir()) == ["kept.json.gz", "new.json.gz", "overlay.toml"]
    assert build_catalogue.write(files, out, check=True) == []
