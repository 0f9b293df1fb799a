"""`ffscan server` end to end: pygls's own client drives the real server process over stdio.

The client waits for what the server sends (diagnostics of a given document version); the
timeouts only stop a hung server from hanging the suite, they assert nothing about speed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from lsprotocol import types
from pygls.lsp import client as client_module

from ffscan.model import DOCS_URL, Location
from ffscan.server.documents import UTF8, UTF16, UTF32, Document
from ffscan.server.lsp import text_edits

WAIT = 120  # seconds: a guard against a hung server, not a measure

JOBS = "async def refresh(key):\n    return key\n"
MAIN = (
    "import asyncio\n"
    "\n"
    "from app.jobs import refresh\n"
    "\n"
    "\n"
    "async def work():\n"
    "    await asyncio.sleep(0)\n"
    "\n"
    "\n"
    "async def handler(key):\n"
    '    print("café 😀"); asyncio.create_task(work())\n'
    "    refresh(key)\n"
)
TASK_MESSAGE = (
    "Task from `asyncio.create_task` is dropped; it can be garbage-collected mid-flight, and its error is "
    "never handled (the loop only logs it when the task is freed)"
)
REFRESH_MESSAGE = "Coroutine from `refresh` is never awaited; its body never runs"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nrequires-python = ">=3.9"\n\n[tool.ffscan]\n', encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "jobs.py").write_text(JOBS, encoding="utf-8")
    (tmp_path / "app" / "main.py").write_text(MAIN, encoding="utf-8")
    return tmp_path


class Session:
    """A client connected to `python -m ffscan server`, recording what it publishes."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.client = client_module.LanguageClient("ffscan-tests", "1")
        self.published: Dict[str, List[object]] = {}
        self.messages: List[str] = []
        self.arrived = asyncio.Event()
        self.stderr = b""

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params):
            self.published.setdefault(params.uri, []).append(params)
            self.arrived.set()

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(params):
            self.messages.append(params.message)
            self.arrived.set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params):
            pass  # fix actions not offered are logged; the tests read what is published

    async def start(self, encodings=(types.PositionEncodingKind.Utf16,)) -> object:
        await self.client.start_io(sys.executable, "-m", "ffscan", "server", "--debounce", "0.05", cwd=str(self.project))
        self._drain = asyncio.ensure_future(self._read_stderr())
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=list(encodings)),
            workspace=types.WorkspaceClientCapabilities(workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
        )
        result = await self.client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=self.project.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=self.project.as_uri(), name="project")],
            )
        )
        self.client.initialized(types.InitializedParams())
        return result

    async def _read_stderr(self) -> None:
        server = self.client._server
        self.stderr = await server.stderr.read()  # kept for a failing test's message; the pipe never fills

    async def diagnostics(self, uri: str, version: int) -> list:
        """What the server publishes for `version` of the document (waiting for it)."""

        async def wait():
            while True:
                for params in self.published.get(uri, []):
                    if params.version == version:
                        return params.diagnostics
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(wait(), WAIT)

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text))
        )
        return uri

    def change(self, uri: str, version: int, edits) -> None:
        """Send edits (range, new text) as one incremental change notification."""
        changes = [types.TextDocumentContentChangePartial(range=edit_range, text=text) for edit_range, text in edits]
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=changes
            )
        )

    async def stop(self) -> int:
        await asyncio.wait_for(self.client.shutdown_async(None), WAIT)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), WAIT)
        await self._drain
        return self.client._server.returncode


def span(line: int, start: int, end_line: int, end: int):
    return types.Range(start=types.Position(line=line, character=start), end=types.Position(line=end_line, character=end))


def simple(diagnostics) -> List[Tuple]:
    return [
        (d.code, (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character), d.severity, d.message, d.source,
         d.code_description.href if d.code_description else None)
        for d in diagnostics
    ]


def apply_utf16(text: str, edits) -> str:
    """Apply LSP text edits the way a client does, counting UTF-16 code units (independent of
    the server's own position code)."""
    lines = text.splitlines(keepends=True)  # the texts here have no form feeds or U+2028

    def offset(position) -> int:
        before = sum(len(line) for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        encoded = line.encode("utf-16-le")[: 2 * position.character]
        return before + len(encoded.decode("utf-16-le"))

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
        lines = text.splitlines(keepends=True)
    return text


EXPECTED = [
    ("FF201", (10, 22, 10, 49), 1, TASK_MESSAGE, "ffscan", f"{DOCS_URL}/FF201.md"),
    ("FF101", (11, 4, 11, 16), 1, REFRESH_MESSAGE, "ffscan", f"{DOCS_URL}/FF101.md"),
]


def test_the_server_checks_fixes_hovers_and_follows_changes(project):
    async def scenario():
        session = Session(project)
        result = await session.start()
        assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf16
        assert result.capabilities.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        uri = session.open(project / "app" / "main.py", MAIN)

        # Opening checks at once: the dropped task, and the coroutine defined in app/jobs.py
        # (settled across modules); the 😀 before the task counts two UTF-16 units.
        assert simple(await session.diagnostics(uri, 1)) == EXPECTED

        # Code actions at the task: its fixes, best first (the safe one preferred), then the
        # noqa comment.
        actions = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=span(10, 30, 10, 30),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        assert [(a.title, a.kind, a.is_preferred) for a in actions] == [
            ("FF201: Run it on the tracked queue `background`: `work` is a short unit of work "
             "(it neither loops nor waits on what it did not make) (unsafe fix: may change behaviour)", types.CodeActionKind.QuickFix, False),
            ("FF201: Wrap the task in `track(...)` (safe fix)", types.CodeActionKind.QuickFix, True),
            ("FF201: Suppress with `# noqa: FF201`", types.CodeActionKind.QuickFix, None),
        ]
        assert [[d.code for d in a.diagnostics] for a in actions] == [["FF201"], ["FF201"], ["FF201"]]
        (document_edit,) = actions[1].edit.document_changes
        assert (document_edit.text_document.uri, document_edit.text_document.version) == (uri, 1)
        fixed = apply_utf16(MAIN, document_edit.edits)
        assert fixed == MAIN.replace(
            "from app.jobs import refresh\n", "from ffscan.runtime import track\n\nfrom app.jobs import refresh\n"
        ).replace("asyncio.create_task(work())", "track(asyncio.create_task(work()))")

        # Applying it as the editor does (the same edits, as an incremental change): the task's
        # diagnostic goes, the coroutine's stays (two lines lower, below the new import's section).
        # Changes in one notification apply one after another, so the last edit goes first.
        bottom_up = sorted(document_edit.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
        session.change(uri, 2, [(edit.range, edit.new_text) for edit in bottom_up])
        assert simple(await session.diagnostics(uri, 2)) == [
            ("FF101", (13, 4, 13, 16), 1, REFRESH_MESSAGE, "ffscan", f"{DOCS_URL}/FF101.md"),
        ]

        # The coroutine's unsafe fix is labelled so, and is not preferred.
        actions = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), range=span(13, 4, 13, 16), context=types.CodeActionContext(diagnostics=[])
            )
        )
        assert [(a.title, a.is_preferred) for a in actions] == [
            ("FF101: Await the coroutine (unsafe fix: may change behaviour)", False),
            ("FF101: Suppress with `# noqa: FF101`", None),
        ]
        noqa_edits = actions[1].edit.document_changes[0].edits
        assert [(e.range.start.line, e.range.start.character, e.range.end.character, e.new_text) for e in noqa_edits] == [
            (13, 16, 16, "  # noqa: FF101")
        ]

        # Hover over the call: the rule's name, the message, its fixes and the doc link.
        hover = await session.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=13, character=6))
        )
        assert hover.contents.kind == types.MarkupKind.Markdown
        assert hover.contents.value.splitlines()[0] == f"**FF101** `unawaited-coroutine`: {REFRESH_MESSAGE}"
        assert hover.contents.value.splitlines()[-1] == f"[FF101 documentation]({DOCS_URL}/FF101.md)"
        assert "- Await the coroutine (unsafe fix: may change behaviour)" in hover.contents.value.splitlines()

        # Typing a new dropped task after the coroutine brings a new diagnostic.
        session.change(uri, 3, [(span(13, 16, 13, 16), "; asyncio.ensure_future(work())")])
        diagnostics = simple(await session.diagnostics(uri, 3))
        assert [(code, where) for code, where, *_ in diagnostics] == [("FF101", (13, 4, 13, 16)), ("FF201", (13, 18, 13, 47))]

        # Nothing over the import line.
        hover = await session.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=3))
        )
        assert hover is None
        return await session.stop(), session.messages

    returncode, messages = asyncio.run(scenario())
    assert (returncode, messages) == (0, [])


def test_a_change_after_a_form_feed_lands_where_the_client_meant_it(project):
    # A form feed ends no line for the protocol (nor for Python); a line store that split there
    # would put this comment inside the call.
    text = "import asyncio\x0c\nasync def work():\n    await asyncio.sleep(0)\n\n\nasync def handler():\n    asyncio.create_task(work())\n"

    async def scenario():
        session = Session(project)
        await session.start()
        uri = session.open(project / "app" / "feed.py", text)
        before = [d.code for d in await session.diagnostics(uri, 1)]
        session.change(uri, 2, [(span(6, 31, 6, 31), "  # noqa: FF201")])
        after = list(await session.diagnostics(uri, 2))
        await session.stop()
        return before, after

    assert asyncio.run(scenario()) == (["FF201"], [])


def test_a_noqa_code_hovers_with_its_rule_and_utf8_positions_are_counted_in_bytes(project):
    text = MAIN.replace("    refresh(key)\n", "    refresh(key)  # noqa: FF101\n")

    async def scenario():
        session = Session(project)
        result = await session.start(encodings=(types.PositionEncodingKind.Utf8,))
        assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
        uri = session.open(project / "app" / "main.py", text)
        # In UTF-8 "café 😀" takes 10 bytes for its 6 characters: 4 more than in UTF-32.
        assert [(d.code, d.range.start.character, d.range.end.character) for d in await session.diagnostics(uri, 1)] == [
            ("FF201", 25, 52)
        ]
        hover = await session.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=11, character=28))
        )
        return hover.contents.value.splitlines(), await session.stop()

    lines, returncode = asyncio.run(scenario())
    assert lines[0] == "**FF101** `unawaited-coroutine`"
    assert lines[-1] == f"[FF101 documentation]({DOCS_URL}/FF101.md)"
    assert returncode == 0


def test_a_broken_configuration_is_shown_and_the_file_is_not_checked(project):
    (project / "pyproject.toml").write_text('[tool.ffscan]\nselect = "FF2"\n', encoding="utf-8")

    async def scenario():
        session = Session(project)
        await session.start()
        uri = session.open(project / "app" / "main.py", MAIN)
        diagnostics = await session.diagnostics(uri, 1)
        await session.stop()
        return diagnostics, session.messages

    diagnostics, messages = asyncio.run(scenario())
    assert list(diagnostics) == []
    assert messages == [
        f"ffscan: {project / 'pyproject.toml'}: `tool.ffscan.select` must be a list of strings, got 'FF2'; "
        "the files it configures are not checked until it is fixed"
    ]


def test_newer_syntax_is_an_information_diagnostic(project):
    # The project needs 3.12, whose generics the Python running ffscan may not parse.
    (project / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.12"\n\n[tool.ffscan]\n', encoding="utf-8")
    text = "def f[T](x: T) -> T:\n    return x\n"

    async def scenario():
        session = Session(project)
        await session.start()
        uri = session.open(project / "app" / "generic.py", text)
        diagnostics = await session.diagnostics(uri, 1)
        await session.stop()
        return diagnostics

    diagnostics = asyncio.run(scenario())
    if sys.version_info >= (3, 12):
        assert list(diagnostics) == []  # this Python parses it: nothing to say
    else:
        running = f"{sys.version_info[0]}.{sys.version_info[1]}"
        assert simple(diagnostics) == [
            (
                "newer-syntax",
                (0, 5, 0, 20),  # from the type parameters to the end of the line
                types.DiagnosticSeverity.Information,
                f"not checked: a type parameter list needs Python 3.12 and ffscan runs on {running}; "
                "run ffscan on Python 3.12 or newer to check this file",
                "ffscan",
                None,
            )
        ]


# ---- positions and edits, without a server ------------------------------------------------------


def test_positions_count_code_units_of_the_agreed_encoding():
    document = Document("file:///x.py", "/x.py", 'a = "é😀"; b\r\nc\rd\x0ce\n')
    at_b = Location(1, 11)  # the character columns findings use
    assert document.position_of(at_b, UTF32) == (0, 10)
    assert document.position_of(at_b, UTF16) == (0, 11)
    assert document.position_of(at_b, UTF8) == (0, 14)
    # \r ends a line, a form feed does not
    assert document.position_of(Location(3, 3), UTF16) == (2, 2)
    assert document.location_at((2, 2), UTF16) == Location(3, 3)
    # past the end of a line is its end, before the line break
    assert document.offset_at((0, 99), UTF16) == document.text.index("\r\n")


def test_incremental_changes_apply_at_utf16_positions():
    document = Document("file:///x.py", "/x.py", 'x = "😀"\ny = 1\n')
    document.apply_change((0, 7), (0, 7), "!", UTF16)  # after the emoji (two units)
    document.apply_change((1, 0), (2, 0), "", UTF16)  # drop the second line
    assert document.text == 'x = "😀!"\n'


def test_text_edits_are_the_differing_characters_only():
    old = "import a\n\nx = f()\n"
    new = "import a\nimport b\n\nx = track(f())\n"
    assert text_edits(old, new) == [(9, 9, "import b\n"), (14, 16, "track(f()")]


def test_without_the_server_extra_it_says_how_to_install_it(monkeypatch, capsys):
    from ffscan.cli import main

    monkeypatch.delitem(sys.modules, "ffscan.server.lsp", raising=False)
    monkeypatch.setitem(sys.modules, "lsprotocol", None)  # as if it were not installed
    assert main(["server"]) == 2
    assert capsys.readouterr().err == (
        "ffscan: error: the language server needs the `server` extra (import of lsprotocol halted; None in sys.modules); "
        "install it with: pip install 'ffscan[server]'\n"
    )


def test_a_negative_debounce_is_refused(capsys):
    from ffscan.cli import main

    assert main(["server", "--debounce", "-1"]) == 2
    assert capsys.readouterr().err == "ffscan: error: --debounce must be 0 or more seconds\n"
