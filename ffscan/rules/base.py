"""What every rule is: a class with a code, a doc, and `visit_<Node>` / `leave_<Node>` methods."""

from __future__ import annotations

import ast
import inspect
import string
from typing import Any, Callable, ClassVar, Dict, Optional, Protocol, Sequence, Tuple, Union

from ffscan.model import Applicability, Finding, Fix, Impact, Location, Severity
from ffscan.semantic.model import SemanticModel

# A rule's fixes, or a function of no arguments that makes them when they are wanted.
Fixes = Union[Sequence[Fix], Callable[[], Sequence[Fix]]]


class FindingSink(Protocol):
    """Where a rule's findings go: the engine turns nodes into located findings."""

    def add_finding(
        self,
        rule: "Rule",
        node: ast.AST,
        end_node: ast.AST,
        message: str,
        fixes: Sequence[Fix] = (),
    ) -> None: ...

    def add_candidate(
        self,
        rule: "Rule",
        node: ast.AST,
        end_node: ast.AST,
        query: tuple,
        fixes: Fixes,
        fields: Dict[str, Any],
    ) -> None: ...


class Rule:
    """Base class. Subclasses set the class attributes and define visitors.

    A rule instance lives for one file. The engine calls `visit_<NodeType>(node)` before a
    node's children and `leave_<NodeType>(node)` after them, in one pass shared by all rules.
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    message: ClassVar[str] = ""  # str.format template, one present-tense sentence
    fix_title: ClassVar[Optional[str]] = None
    fix_applicability: ClassVar[Optional[Applicability]] = None
    impacts: ClassVar[Tuple[Impact, ...]] = ()
    severity: ClassVar[Severity] = Severity.ERROR
    risk: ClassVar[str] = ""  # "Risk if not fixed", one or two sentences for reports
    # What one finding is, singular and plural, as a ticket's title and issues name it:
    # ("dropped task", "dropped tasks").
    subject: ClassVar[Tuple[str, str]] = ("", "")
    # What is lost for certain wherever the rule fires, as a clause ("coroutine work never
    # runs"); "" when nothing is (a bound missing, a file not analysed). Only a rule with a
    # loss that is on by default (precise) makes a ticket P1.
    loss: ClassVar[str] = ""
    default_on: ClassVar[bool] = True
    off_reason: ClassVar[str] = ""  # why a rule ships off by default (measured precision)
    # Comment `# ffscan: detached` marks work left running on purpose; rules about dropped
    # handles honour it, rules about work that can never run (FF1) or lost errors do not.
    honours_detached: ClassVar[bool] = False
    # Another tool's code for the same finding (`RUF006`, mypy's `unused-coroutine`): a line
    # its users already marked on purpose for that tool is silent here too. Upper case.
    peer_codes: ClassVar[Tuple[str, ...]] = ()
    # Words at least one of which must appear in a file's text for the rule to find anything
    # there; files without any are not traversed for this rule (most files, in most trees).
    # None: always run.
    triggers: ClassVar[Optional[Tuple[str, ...]]] = None
    # Runs on every test file even where no trigger word appears: a synchronous test that
    # calls a coroutine function of the code under test never says `async`.
    every_test_file: ClassVar[bool] = False
    # Whether the rule asks where background work runs across modules: then every module that
    # may start work is traversed for its summary, whether or not a rule fires there.
    follows_background: ClassVar[bool] = False

    @classmethod
    def triggers_for(cls, settings) -> Optional[Tuple[str, ...]]:
        """`triggers` plus the last part of every configured spawn API and coroutine function."""
        if cls.triggers is None:
            return None
        configured = (*settings.spawn_apis, *settings.coroutine_functions)
        return cls.triggers + tuple(name.rpartition(".")[2] for name in configured)

    def __init__(self, semantic: SemanticModel, sink: FindingSink) -> None:
        self.semantic = semantic
        self.names = semantic.names
        self.settings = semantic.settings
        self.sink = sink

    def report(
        self, node: ast.AST, end_node: Optional[ast.AST] = None, fixes: Sequence[Fix] = (), **fields: Any
    ) -> None:
        """Report `node` (the smallest node that shows the bug) with the message filled in and
        the ways to fix it, best first."""
        self.sink.add_finding(self, node, end_node or node, self.message.format(**fields), fixes=fixes)

    def report_if(
        self,
        node: ast.AST,
        query: tuple,
        fixes: Fixes = (),
        end_node: Optional[ast.AST] = None,
        **fields: Any,
    ) -> None:
        """Report `node` if the semantic model answers `query` with yes (see
        ffscan.semantic.index.ProjectIndex.answer): at the end of this file when the module
        alone can tell, after every file is checked when another module must.

        Message fields the rule does not give come from the answer (such as the path by
        which a function runs in the background). `fixes` may be a function of no arguments
        that makes them: most candidates are ruled out by their own module, and then neither
        their finding nor their fixes are made. Such a function must not hold the rule (the
        rule holds the sink that would hold the function: a reference cycle).
        """
        self.sink.add_candidate(self, node, end_node or node, query, fixes, fields)


def partial_message(message: str, fields: Dict[str, Any]) -> str:
    """`message` with the fields given filled in and `{name}` kept for the others."""
    return string.Formatter().vformat(message, (), _Partial(fields))


class _Partial(dict):
    """Format fields that are given; keep `{name}` for the others. Given values are escaped so
    that a second `format` with the answer's fields leaves them as they are."""

    def __init__(self, fields: dict) -> None:
        super().__init__({k: str(v).replace("{", "{{").replace("}", "}}") for k, v in fields.items()})

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def first_doc_sentence(rule_cls: type) -> str:
    """Return the first sentence of the rule's "What it does" section."""
    doc = inspect.cleandoc(rule_cls.__doc__ or "")
    section = doc.split("## What it does", 1)[-1].split("\n##", 1)[0]
    paragraph = " ".join(section.strip().split("\n\n", 1)[0].split())
    end = paragraph.find(". ")
    return paragraph if end == -1 else paragraph[: end + 1]


def rule_doc(rule_cls: type) -> str:
    """The rule's Markdown doc: a title line, then its docstring sections."""
    body = inspect.cleandoc(rule_cls.__doc__ or "")
    return f"# {rule_cls.code} {rule_cls.name}\n\n{body}\n"


def make_file_finding(rule_cls: type, path: str, detail: str, line: int, column: int, source_line: str) -> Finding:
    """An FF0xx finding: the whole file could not be analysed."""
    return Finding(
        code=rule_cls.code,
        name=rule_cls.name,
        message=rule_cls.message.format(detail=detail),
        path=path,
        start=Location(line, column),
        end=Location(line, column),
        severity=rule_cls.severity,
        impacts=rule_cls.impacts,
        risk=rule_cls.risk,
        source_lines=(source_line,) if source_line else (),
    )
