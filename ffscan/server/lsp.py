"""The language server over pygls: diagnostics as the document changes, code actions for the
fixes findings carry, hover with the rule's doc.

Checks run one at a time on a worker thread, so requests are answered while one runs. A change
is checked once the document has been quiet for `debounce` seconds; opening and saving check
at once. A result is published only while it is the document's current version: an older one
is dropped, since a newer check is already due.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from ffscan import __version__
from ffscan.engine.suppress import comments
from ffscan.model import LINE_BREAK, Applicability, Finding, Fix, Location, RuleInfo, Severity
from ffscan.rules import all_rule_infos
from ffscan.server.checking import NoEdit, SettingsCache, Snapshot, check_document, fixed_text, noqa_text
from ffscan.server.documents import UTF16, Document

logger = logging.getLogger("ffscan.server")

SOURCE = "ffscan"
DEBOUNCE = 0.3  # seconds of quiet after a change before it is checked

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.NOTE: types.DiagnosticSeverity.Information,
}
_LABEL = {Applicability.SAFE: "safe fix", Applicability.UNSAFE: "unsafe fix: may change behaviour"}
_CODE = re.compile(r"\b[A-Z]+[0-9][A-Z0-9]*\b", re.IGNORECASE)


class _Protocol(LanguageServerProtocol):
    """pygls's protocol, less its own copy of changed documents: it splits lines where
    `str.splitlines` does (form feeds, U+2028), which the protocol does not, and clamps the
    positions it is given in place. ffscan keeps its own (ffscan.server.documents)."""

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        handler = self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)
        if handler is not None:
            yield handler, (params,), None


class FfscanServer:
    """The server's state: open documents, their latest checks, the checks due."""

    def __init__(self, debounce: float = DEBOUNCE) -> None:
        self.debounce = debounce
        self.ls = LanguageServer(
            "ffscan", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental, protocol_cls=_Protocol
        )
        self.documents: Dict[str, Document] = {}
        self.snapshots: Dict[str, Snapshot] = {}
        self.settings = SettingsCache()
        self.rules: Dict[str, RuleInfo] = all_rule_infos()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ffscan-check")
        self._due: Dict[str, asyncio.TimerHandle] = {}
        self._running: Set["asyncio.Future[None]"] = set()  # held until done: the loop keeps tasks weakly
        self._shown_problems: Set[str] = set()
        self.shut_down = False  # a shutdown request came before exit (the exit code says so)
        ls = self.ls
        ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(_handler(self.did_open))
        ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(_handler(self.did_change))
        ls.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(_handler(self.did_save))
        ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(_handler(self.did_close))
        ls.feature(
            types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
        )(_handler(self.code_action))
        ls.feature(types.TEXT_DOCUMENT_HOVER)(_handler(self.hover))
        ls.feature(types.SHUTDOWN)(_handler(self.on_shutdown))

    # ---- the protocol's view ------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The position encoding agreed at initialisation (UTF-16 unless the client offered another)."""
        try:
            chosen = self.ls.workspace.position_encoding
        except RuntimeError:  # not initialised yet: the protocol's default
            return UTF16
        return str(getattr(chosen, "value", chosen) or UTF16)

    def _root(self, path: Optional[str]) -> Path:
        """Where a document without a configuration is rooted: its workspace folder, else its folder."""
        folders = []
        try:
            workspace = self.ls.workspace
            folders = [to_fs_path(folder.uri) for folder in workspace.folders.values()]
            if workspace.root_path:
                folders.append(workspace.root_path)
        except RuntimeError:
            pass  # not initialised: no folders
        if path is not None:
            resolved = Path(path).resolve()
            for folder in folders:
                if folder and resolved.is_relative_to(Path(folder).resolve()):
                    return Path(folder)
            return Path(path).parent
        return Path(folders[0]) if folders and folders[0] else Path.cwd()

    # ---- documents ----------------------------------------------------------------------------

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = to_fs_path(item.uri) if item.uri.startswith("file:") else None
        if not _is_python(item.language_id, path):
            return
        self.documents[item.uri] = Document(item.uri, path, item.text, item.version, item.language_id)
        self._check_soon(item.uri, delay=0)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        document = self.documents.get(params.text_document.uri)
        if document is None:
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                document.apply_change((start.line, start.character), (end.line, end.character), change.text, self.encoding)
            else:
                document.replace(change.text, document.version)
        document.version = params.text_document.version
        self._check_soon(document.uri, delay=self.debounce)

    def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri in self.documents:
            self._check_soon(params.text_document.uri, delay=0)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        due = self._due.pop(uri, None)
        if due is not None:
            due.cancel()
        self.snapshots.pop(uri, None)
        if self.documents.pop(uri, None) is not None:
            self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def on_shutdown(self, params: None) -> None:
        self.shut_down = True
        for due in self._due.values():
            due.cancel()
        self._due.clear()
        # Checks still queued are dropped; the one running finishes and logs its own failure.
        self._worker.shutdown(wait=False, cancel_futures=True)

    # ---- checks -------------------------------------------------------------------------------

    def _check_soon(self, uri: str, delay: float) -> None:
        due = self._due.pop(uri, None)
        if due is not None:
            due.cancel()
        loop = asyncio.get_running_loop()
        self._due[uri] = loop.call_later(delay, self._start_check, uri)

    def _start_check(self, uri: str) -> None:
        self._due.pop(uri, None)
        future = asyncio.ensure_future(self._check_and_publish(uri))
        self._running.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: "asyncio.Future[None]") -> None:
        self._running.discard(future)
        if not future.cancelled() and future.exception() is not None:
            error = future.exception()
            self._log(types.MessageType.Error, f"ffscan: a check failed: {type(error).__name__}: {error}")

    async def _check_and_publish(self, uri: str) -> None:
        snapshot = await self.current_snapshot(uri)
        if snapshot is not None:
            self._publish(uri, snapshot)

    async def current_snapshot(self, uri: str) -> Optional[Snapshot]:
        """The check of the document's current text: the latest one if the text is unchanged
        since, else a new one; None when the document closed or changed while it ran."""
        document = self.documents.get(uri)
        if document is None:
            return None
        known = self.snapshots.get(uri)
        if known is not None and known.version == document.version and known.text == document.text:
            return known
        text, version, path = document.text, document.version, document.path
        root = self._root(path)
        loop = asyncio.get_running_loop()
        snapshot = await loop.run_in_executor(self._worker, self._check, text, version, path, root)
        document = self.documents.get(uri)
        if document is None or document.version != version or document.text != text:
            return None  # a newer text is due to be checked
        self.snapshots[uri] = snapshot
        return snapshot

    def _check(self, text: str, version: Optional[int], path: Optional[str], root: Path) -> Snapshot:
        try:
            return check_document(text, version, path, self.settings, root)
        except Exception as error:  # a bug in ffscan: said in the editor's log, the server goes on
            self._log(types.MessageType.Error, f"ffscan: internal error checking {path or 'a buffer'}: {traceback.format_exc()}")
            return Snapshot(version, text, problem=f"internal error: {type(error).__name__}: {error} (the log has the traceback)")

    def _publish(self, uri: str, snapshot: Snapshot) -> None:
        document = self.documents[uri]
        if snapshot.problem is not None and snapshot.problem not in self._shown_problems:
            self._shown_problems.add(snapshot.problem)
            self.ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=f"ffscan: {snapshot.problem}")
            )
        self.ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=self.diagnostics(document, snapshot), version=snapshot.version)
        )

    def diagnostics(self, document: Document, snapshot: Snapshot) -> List[types.Diagnostic]:
        result = snapshot.result
        found = [self._finding_diagnostic(document, finding) for finding in snapshot.findings]
        for notice in result.notices:
            found.append(
                types.Diagnostic(
                    range=self._line_range(document, notice.line, notice.column),
                    message=notice.message,
                    severity=types.DiagnosticSeverity.Information,
                    code=notice.kind,
                    source=SOURCE,
                )
            )
        for warning in result.warnings:
            found.append(
                types.Diagnostic(
                    range=self._line_range(document, warning.line, 1),
                    message=warning.message,
                    severity=types.DiagnosticSeverity.Warning,
                    source=SOURCE,
                )
            )
        for error in result.errors:
            found.append(
                types.Diagnostic(
                    range=self._line_range(document, error.line or 1, 1),
                    message=error.message,
                    severity=types.DiagnosticSeverity.Error,
                    source=SOURCE,
                )
            )
        return found

    def _finding_diagnostic(self, document: Document, finding: Finding) -> types.Diagnostic:
        info = self.rules.get(finding.code)
        return types.Diagnostic(
            range=self._range(document, finding.start, finding.end),
            message=finding.message,
            severity=_SEVERITY[finding.severity],
            code=finding.code,
            code_description=types.CodeDescription(href=info.help_uri) if info is not None else None,
            source=SOURCE,
        )

    def _range(self, document: Document, start: Location, end: Location) -> types.Range:
        encoding = self.encoding
        return types.Range(start=_position(document.position_of(start, encoding)), end=_position(document.position_of(end, encoding)))

    def _line_range(self, document: Document, line: int, column: int) -> types.Range:
        """From a position to the end of its line (a notice or a warning has no end of its own)."""
        encoding = self.encoding
        start = document.position_of(Location(line, column), encoding)
        end = document.position_at(document.line_end(line), encoding)
        return types.Range(start=_position(start), end=_position(end))

    # ---- code actions -------------------------------------------------------------------------

    async def code_action(self, params: types.CodeActionParams) -> Optional[List[types.CodeAction]]:
        only = params.context.only
        if only is not None and not any(kind in ("", types.CodeActionKind.QuickFix) for kind in only):
            return None
        uri = params.text_document.uri
        snapshot = await self.current_snapshot(uri)
        document = self.documents.get(uri)
        if snapshot is None or document is None:
            return None
        low = document.location_at((params.range.start.line, params.range.start.character), self.encoding)
        high = document.location_at((params.range.end.line, params.range.end.character), self.encoding)
        actions: List[types.CodeAction] = []
        for finding in snapshot.findings:
            if finding.start > high or finding.end < low:
                continue
            diagnostic = self._finding_diagnostic(document, finding)
            preferred = True
            for fix in finding.fixes:
                action = self._fix_action(document, snapshot, finding, fix, diagnostic, preferred)
                if action is not None:
                    preferred = preferred and not action.is_preferred
                    actions.append(action)
            action = self._noqa_action(document, snapshot, finding, diagnostic)
            if action is not None:
                actions.append(action)
        return actions

    def _fix_action(
        self, document: Document, snapshot: Snapshot, finding: Finding, fix: Fix, diagnostic: types.Diagnostic, preferred: bool
    ) -> Optional[types.CodeAction]:
        if fix.applicability is Applicability.DISPLAY_ONLY:
            return None  # shown in the hover, never applied
        try:
            text = fixed_text(snapshot, fix)
        except NoEdit as why:
            self._log(types.MessageType.Info, f"ffscan: {finding.code} at {finding.start.line}:{finding.start.column}: fix not offered: {why}")
            return None
        return types.CodeAction(
            title=f"{finding.code}: {fix.title} ({_LABEL[fix.applicability]})",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            is_preferred=preferred and fix.applicability is Applicability.SAFE,
            edit=self._workspace_edit(document, snapshot, text),
        )

    def _noqa_action(self, document: Document, snapshot: Snapshot, finding: Finding, diagnostic: types.Diagnostic) -> Optional[types.CodeAction]:
        try:
            text = noqa_text(snapshot, [finding])
        except NoEdit:
            return None  # no comment can silence it (a file that does not parse)
        return types.CodeAction(
            title=f"{finding.code}: Suppress with `# noqa: {finding.code}`",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=self._workspace_edit(document, snapshot, text),
        )

    def _workspace_edit(self, document: Document, snapshot: Snapshot, new_text: str) -> types.WorkspaceEdit:
        checked = Document(document.uri, document.path, snapshot.text, snapshot.version)
        edits = [
            types.TextEdit(
                range=types.Range(
                    start=_position(checked.position_at(low, self.encoding)), end=_position(checked.position_at(high, self.encoding))
                ),
                new_text=content,
            )
            for low, high, content in text_edits(snapshot.text, new_text)
        ]
        capabilities = self.ls.client_capabilities.workspace
        versioned = bool(capabilities and capabilities.workspace_edit and capabilities.workspace_edit.document_changes)
        if versioned:
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=snapshot.version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=edits)])
        return types.WorkspaceEdit(changes={document.uri: edits})

    # ---- hover --------------------------------------------------------------------------------

    async def hover(self, params: types.HoverParams) -> Optional[types.Hover]:
        uri = params.text_document.uri
        snapshot = await self.current_snapshot(uri)
        document = self.documents.get(uri)
        if snapshot is None or document is None:
            return None
        at = document.location_at((params.position.line, params.position.character), self.encoding)
        parts = [self._describe(finding) for finding in snapshot.findings if finding.start <= at <= finding.end]
        if not parts:
            code = _code_in_comment(snapshot.text, at)
            info = self.rules.get(code) if code is not None else None
            if info is None:
                return None
            parts = [f"**{info.code}** `{info.name}`\n\n{info.summary}\n\n[{info.code} documentation]({info.help_uri})"]
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))

    def _describe(self, finding: Finding) -> str:
        info = self.rules.get(finding.code) or RuleInfo.from_finding(finding)
        lines = [f"**{finding.code}** `{finding.name}`: {finding.message}", "", info.summary]
        fixes = [f"- {fix.title} ({_LABEL.get(fix.applicability, 'shown only, never applied')})" for fix in finding.fixes]
        if fixes:
            lines += ["", "Fixes:", *fixes]
        lines += ["", f"[{finding.code} documentation]({info.help_uri})"]
        return "\n".join(lines)

    # ---- output -------------------------------------------------------------------------------

    def _log(self, kind: types.MessageType, message: str) -> None:
        logger.info(message)
        try:
            self.ls.window_log_message(types.LogMessageParams(type=kind, message=message))
        except RuntimeError as error:  # no client connected (the server is stopping): stderr has it
            logger.warning("cannot send a log message: %s", error)


def _handler(method):
    """A plain function calling `method`: pygls marks the functions it registers, which a bound
    method does not allow."""
    if asyncio.iscoroutinefunction(method):

        async def handle_async(params):
            return await method(params)

        return handle_async

    def handle(params):
        return method(params)

    return handle


def text_edits(old: str, new: str) -> List[Tuple[int, int, str]]:
    """Non-overlapping edits (start, end offsets in `old`, new content) that turn `old` into
    `new`: the lines that differ, trimmed to the characters that differ."""
    old_lines = _lines(old)
    new_lines = _lines(new)
    old_starts = [0]
    for line in old_lines:
        old_starts.append(old_starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        low, high = old_starts[i1], old_starts[i2]
        before, after = old[low:high], "".join(new_lines[j1:j2])
        prefix = 0
        while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
            suffix += 1
        edits.append((low + prefix, high - suffix, after[prefix : len(after) - suffix]))
    return edits


def _lines(text: str) -> List[str]:
    """Lines with their line breaks (only \\n, \\r\\n and \\r end one)."""
    pieces, position = [], 0
    for match in LINE_BREAK.finditer(text):
        pieces.append(text[position : match.end()])
        position = match.end()
    if position < len(text):
        pieces.append(text[position:])
    return pieces


def _position(position: Tuple[int, int]) -> types.Position:
    return types.Position(line=position[0], character=position[1])


def _is_python(language_id: str, path: Optional[str]) -> bool:
    return language_id == "python" or (path is not None and path.endswith((".py", ".pyi")))


def _code_in_comment(text: str, at: Location) -> Optional[str]:
    """The rule code under `at` inside a comment (`# noqa: FF201`), if there is one."""
    comment = comments(text).get(at.line)
    if comment is None:
        return None
    line = LINE_BREAK.split(text)[at.line - 1]
    start = line.rfind(comment)
    if start < 0:
        return None
    for match in _CODE.finditer(comment):
        if start + match.start() + 1 <= at.column <= start + match.end() + 1:
            return match.group(0).upper()
    return None


def serve(debounce: float = DEBOUNCE) -> bool:
    """Run the server over stdin and stdout until the client says exit (or the pipe closes);
    whether a shutdown request came first, as the protocol's exit code reports."""
    server = FfscanServer(debounce)
    server.ls.start_io()
    return server.shut_down
