"""One source file in, findings out: parse once with `ast`, one batched pass for all rules."""

from __future__ import annotations

import ast
import hashlib
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Tuple, Type

from ffscan.config import Settings, suggest_code
from ffscan.engine import suppress
from ffscan.engine.discovery import matches_any
from ffscan.engine.sources import (
    NeedsNewerPython,
    SourceFile,
    Unanalysable,
    content_digest,
    decode_source,
    parse_source,
    read_bytes,
)
from ffscan.model import Finding, Fix, Location, Notice, RunError, RunWarning
from ffscan.rules import all_rules, rule_names
from ffscan.rules.base import Fixes, Rule, make_file_finding, partial_message
from ffscan.semantic.environment import libraries_for
from ffscan.semantic.index import DEFERRED_ANSWER, ProjectIndex
from ffscan.semantic.model import SemanticModel
from ffscan.semantic.summary import Deferred, ModuleSummary, summarize_module


@dataclass
class FileResult:
    path: str
    findings: List[Finding] = field(default_factory=list)
    errors: List[RunError] = field(default_factory=list)
    suppressed: int = 0
    summary: Optional[ModuleSummary] = None  # for the whole-program index
    deferred: List[Deferred] = field(default_factory=list)  # settled by the index
    digest: str = ""  # of the text checked: a fix applies only to that text
    content: str = ""  # digest of the bytes checked (sources.content_digest), for the cache
    # What the whole program must answer before this file's undecided candidates become
    # findings, when they were kept as questions only (see check_file).
    questions: Tuple[tuple, ...] = ()
    notices: List[Notice] = field(default_factory=list)
    warnings: List[RunWarning] = field(default_factory=list)  # suppression comments naming no rule


class FileContext:
    """One file being checked: its semantic model, and the findings its rules report."""

    def __init__(self, source: SourceFile, tree: ast.Module, settings: Settings, module_name: str):
        self.source = source
        self.semantic = SemanticModel(tree, source.text, settings, module_name, is_package=is_package(source.path))
        self.findings: List[Finding] = []
        # For each finding (same index): the first and last line of its statement, where a
        # suppression comment may also stand.
        self.statement_spans: List[Tuple[int, int]] = []
        # Findings that stand only if the semantic model says yes (see ffscan.semantic.index),
        # kept as what makes them: most are ruled out by this module's own answer.
        self.candidates: List[_Candidate] = []

    def add_finding(
        self,
        rule: Rule,
        node: ast.AST,
        end_node: ast.AST,
        message: str,
        fixes: Sequence[Fix] = (),
    ) -> None:
        finding, span = self.located(type(rule), node, end_node, message, fixes)
        self.findings.append(finding)
        self.statement_spans.append(span)

    def add_candidate(
        self, rule: Rule, node: ast.AST, end_node: ast.AST, query: tuple, fixes: Fixes, fields: Dict[str, Any]
    ) -> None:
        # The rule's class, not the rule: the rule holds this context (a reference cycle).
        self.candidates.append(_Candidate(type(rule), node, end_node, query, fixes, fields))

    def candidate_finding(self, candidate: "_Candidate") -> Tuple[Finding, str, Tuple[int, int]]:
        """The finding a candidate stands for, its message template and its statement span."""
        template = partial_message(candidate.rule.message, candidate.fields)
        fixes = candidate.fixes() if callable(candidate.fixes) else candidate.fixes
        finding, span = self.located(candidate.rule, candidate.node, candidate.end_node, template, fixes)
        return finding, template, span

    def located(
        self, rule: Type[Rule], node: ast.AST, end_node: ast.AST, message: str, fixes: Sequence[Fix]
    ) -> Tuple[Finding, Tuple[int, int]]:
        """The finding at `node`, and the first and last line of its statement, where a
        suppression comment may also stand."""
        start = self.location(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = getattr(end_node, "end_lineno", None) or start.line
        end_col = getattr(end_node, "end_col_offset", None)
        end = self.location(end_line, end_col) if end_col is not None else start
        statement = self.semantic.statement_of(node)
        finding = Finding(
            code=rule.code,
            name=rule.name,
            message=message,
            path=self.source.path,
            start=start,
            end=end,
            severity=rule.severity,
            impacts=rule.impacts,
            risk=rule.risk,
            fix_title=rule.fix_title,
            fixes=tuple(fixes),
            source_lines=tuple(self.source.line(n) for n in range(start.line, end.line + 1)),
            enclosing=self.enclosing_name(node),
        )
        return finding, _header_span(statement, start.line)

    def location(self, line: int, byte_column: int) -> Location:
        return self.semantic.location(line, byte_column)

    def enclosing_name(self, node: ast.AST) -> str:
        """The `__qualname__` of the function or class `node` is in (lambdas skipped), or ""."""
        names: List[str] = []
        scope = self.semantic.names.scope_of(node)
        while scope is not None:
            inner = scope.node
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if names and names[-1] != "<locals>" and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.append("<locals>")  # what is defined in a function is local to it
                names.append(inner.name)
            scope = scope.parent
        return ".".join(reversed(names))


class _Candidate(NamedTuple):
    """A finding to make if the semantic model answers `query` with yes."""

    rule: Type[Rule]
    node: ast.AST
    end_node: ast.AST
    query: tuple
    fixes: Fixes
    fields: Dict[str, Any]


def is_package(path: str) -> bool:
    return path.endswith(("__init__.py", "__init__.pyi"))


def _header_span(statement: ast.AST, fallback: int) -> Tuple[int, int]:
    """First and last line of a statement, or of its header for a compound statement."""
    first = getattr(statement, "lineno", fallback)
    body = getattr(statement, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.AST):
        decorators = getattr(statement, "decorator_list", [])
        first = min([first] + [d.lineno for d in decorators])
        return first, max(first, body[0].lineno - 1)
    return first, getattr(statement, "end_lineno", None) or fallback


# What the whole program almost never says yes to: whether a call makes a coroutine (6 yes
# of 23,740 such questions on 24 real projects, --select ALL). A large run keeps these
# candidates as questions; the others (whether a call makes a task: 1 in 20 in Red-DiscordBot;
# whether background work can suspend or raise, whether a callee is the project's own) are
# yes often enough that their findings are made as before.
_RARELY_YES = frozenset({"coroutine", "coroutine-function", "plain-param"})


def kept_as_question(query: tuple) -> bool:
    if query[0] == "all":
        return all(kept_as_question(part) for part in query[1:])
    return query[0] in _RARELY_YES


def check_file(
    fs_path: str,
    display_path: str,
    settings: Settings,
    codes: FrozenSet[str],
    module_name: str,
    questions_only: bool = False,
) -> FileResult:
    """Read, decode, parse and check one file. Never raises for a bad file.

    With `questions_only`, a candidate this module cannot decide, of a kind the whole program
    almost always says no to (see kept_as_question), is kept as its question
    (`FileResult.questions`), not as a finding waiting for the answer: the file is checked
    again, in full, only when one is yes.
    """
    try:
        data = read_bytes(fs_path, settings.max_file_size)
    except Unanalysable as problem:
        return _unanalysable(display_path, problem, None, codes)
    try:
        result = check_source(decode_source(data, display_path), settings, codes, module_name, questions_only)
        result.content = content_digest(data)
        return result
    except Exception as error:  # a bug outside the rules (resolver, suppression) stays per file
        detail = traceback.extract_tb(error.__traceback__)[-1]
        message = (
            f"internal error: {type(error).__name__}: {error} "
            f"(at {detail.filename.rsplit('/', 1)[-1]}:{detail.lineno}); the file was not checked"
        )
        return FileResult(display_path, errors=[RunError(path=display_path, message=message)])


def check_data(data: bytes, display_path: str, settings: Settings, codes: FrozenSet[str], module_name: str) -> FileResult:
    """Decode and check bytes that come from no file (stdin). Never raises for bad code."""
    if len(data) > settings.max_file_size:
        detail = f"{len(data):,} bytes is over the {settings.max_file_size:,}-byte limit (`max-file-size`)"
        return _unanalysable(display_path, Unanalysable("FF003", detail), None, codes)
    source = decode_source(data, display_path)
    try:
        return check_source(source, settings, codes, module_name)
    except Exception as error:  # a bug outside the rules (resolver, suppression): reported, as for a file
        detail = traceback.extract_tb(error.__traceback__)[-1]
        message = (
            f"internal error: {type(error).__name__}: {error} "
            f"(at {detail.filename.rsplit('/', 1)[-1]}:{detail.lineno}); the input was not checked"
        )
        return FileResult(display_path, errors=[RunError(path=display_path, message=message)])


def check_source(
    source: SourceFile, settings: Settings, codes: FrozenSet[str], module_name: str, questions_only: bool = False
) -> FileResult:
    if suppress.skips_file(source.text):
        return FileResult(source.path)
    if len(source.text) > settings.max_file_size:  # text that did not come through read_bytes
        detail = f"{len(source.text):,} characters is over the {settings.max_file_size:,}-byte limit (`max-file-size`)"
        return _unanalysable(source.path, Unanalysable("FF003", detail), source, codes)
    try:
        tree = parse_source(source, settings.target_version, settings.target_source)
    except Unanalysable as problem:
        return _unanalysable(source.path, problem, source, codes)
    except NeedsNewerPython as newer:
        notice = Notice(source.path, str(newer), newer.line, newer.column, requires=newer.required)
        return FileResult(source.path, notices=[notice])
    present: Dict[str, bool] = {}  # trigger word -> in the text: many rules share their words
    in_tests = matches_any(source.path, settings.test_paths)
    rule_classes = [
        cls
        for code, cls in all_rules().items()
        if code in codes
        and any(_handlers(cls))
        and ((in_tests and cls.every_test_file) or _may_fire(cls, settings, source.text, present))
    ]
    ctx = FileContext(source, tree, settings, module_name)
    result = FileResult(source.path, digest=text_digest(source.text))
    # Rules that follow background work across modules need every module traversed, so that
    # its summary holds the work it starts and the calls it makes, even where no rule fires.
    follows = _follows_background(codes)
    deep = bool(rule_classes) or follows
    try:
        if deep:
            _Pass(ctx, rule_classes, result.errors).run(tree)
        result.summary = summarize_module(ctx.semantic, deep=deep, path=source.path, starts=follows)
    except RecursionError:
        problem = Unanalysable("FF004", "ffscan's analysis recursed past Python's limit")
        return _unanalysable(source.path, problem, source, codes)
    index: Optional[ProjectIndex] = None
    if ctx.candidates:
        # What this module alone can decide is decided here; the rest waits for the others.
        # The question first: a candidate it rules out never has its finding made.
        index = ProjectIndex([result.summary], final=False, libraries=libraries_for(settings))
        answered = [(c, fields) for c in ctx.candidates for fields in (index.answer(c.query),) if fields is not None]
        if questions_only:
            asked: List[tuple] = []
            made_here = []
            for candidate, fields in answered:
                if fields is DEFERRED_ANSWER and kept_as_question(candidate.query):
                    asked.append(candidate.query)
                else:
                    made_here.append((candidate, fields))
            result.questions = tuple(dict.fromkeys(asked))
            answered = made_here
        made = [ctx.candidate_finding(c) for c, _ in answered]
        kept_pending, _ = suppress.apply([f for f, _, _ in made], [span for _, _, span in made], source.text)
        still = {id(finding) for finding in kept_pending}
        confirmed: List[Finding] = []
        for (candidate, fields), (finding, template, _) in zip(answered, made):
            if id(finding) not in still:
                continue
            item = Deferred(finding, candidate.query, template)
            if fields is DEFERRED_ANSWER:
                result.deferred.append(item)
            else:
                confirmed.append(index.confirmed(item, fields))
        ctx.findings.extend(confirmed)
        ctx.statement_spans.extend((0, 0) for _ in confirmed)  # suppression was applied already
    if any(fix.requires is not None for f in (*ctx.findings, *(d.finding for d in result.deferred)) for fix in f.fixes):
        # Fixes that need to know what another name is: settled here where this module tells.
        index = index or ProjectIndex([result.summary], final=False, libraries=libraries_for(settings))
        ctx.findings = [index.settle_fixes(f) for f in ctx.findings]
        result.deferred = [d._replace(finding=index.settle_fixes(d.finding)) for d in result.deferred]
    kept, suppressed = suppress.apply(ctx.findings, ctx.statement_spans, source.text)
    result.warnings = suppression_warnings(source)
    result.findings = sorted(kept, key=Finding.sort_key)
    result.suppressed = suppressed
    return result




def link_parents(semantic: SemanticModel) -> None:
    """Link every node to its parent, as the pass does, for a file no rule traversed."""
    parents = semantic.parents
    stack = [semantic.tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            parents[child] = node
            stack.append(child)


def suppression_warnings(source: SourceFile) -> List[RunWarning]:
    """A warning for each code a suppression comment names that is no rule (Ruff warns of a
    `# noqa` it cannot read; such a code silences nothing)."""
    names = rule_names()
    return [
        RunWarning(source.path, line, f"`{kind}` names `{code}`, which is no rule{suggest_code(code, names)} (it suppresses nothing)")
        for line, code, kind in suppress.unknown_codes(source.text, names)
    ]


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _follows_background(codes: FrozenSet[str]) -> bool:
    rules = all_rules()
    return any(rules[code].follows_background for code in codes if code in rules)


def _may_fire(rule_cls: Type[Rule], settings: Settings, text: str, present: Dict[str, bool]) -> bool:
    words = rule_cls.triggers_for(settings)
    if words is None:
        return True
    for word in words:
        found = present.get(word)
        if found is None:
            found = present[word] = word in text
        if found:
            return True
    return False


def _unanalysable(path: str, problem: Unanalysable, source: Optional[SourceFile], codes: FrozenSet[str]) -> FileResult:
    if problem.code not in codes:
        return FileResult(path)
    rule_cls = all_rules()[problem.code]
    line_text = source.line(problem.line) if source is not None else ""
    finding = make_file_finding(rule_cls, path, problem.detail, problem.line, problem.column, line_text)
    return FileResult(path, findings=[finding])


_HANDLERS: Dict[type, Tuple[Dict[str, str], Dict[str, str]]] = {}


def _handlers(cls: Type[Rule]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """Map node type names to the rule's visit_/leave_ method names (cached per class)."""
    cached = _HANDLERS.get(cls)
    if cached is None:
        # A method set to None is one a subclass does not want dispatched (it inherits the rest).
        visits = {name[6:]: name for name in dir(cls) if name.startswith("visit_") and getattr(cls, name) is not None}
        leaves = {name[6:]: name for name in dir(cls) if name.startswith("leave_") and getattr(cls, name) is not None}
        cached = _HANDLERS[cls] = (visits, leaves)
    return cached


# Fields that can hold nodes worth visiting: `ctx` (Load/Store) and operator singletons are
# skipped, which removes about a fifth of all visits.
_SKIPPED_FIELDS = frozenset(
    {"ctx", "op", "ops", "kind", "type_comment", "id", "arg", "attr", "module", "level", "is_async", "conversion", "simple"}
)
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}
_FUNCTION_LIKE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# The nodes that may make a function's work wait on others (see semantic/lifetime.py).
_WAITS = frozenset({ast.While, ast.AsyncFor, ast.AsyncWith, ast.Await})
_CALL, _WAIT, _FUNCTION, _HANDLER = 1, 2, 3, 4  # what the pass records of a node, besides its parent
_NAME, _LOAD, _CONSTANT = ast.Name, ast.Load, ast.Constant


def _child_fields(node_type: type) -> Tuple[str, ...]:
    fields = tuple(f for f in node_type._fields if f not in _SKIPPED_FIELDS)
    if node_type is ast.Constant:
        fields = ()
    _CHILD_FIELDS[node_type] = fields
    return fields


class _Pass:
    """The batched traversal: each node type dispatches to the rules that asked for it."""

    def __init__(self, ctx: FileContext, rule_classes, errors: List[RunError]):
        self.ctx = ctx
        self.errors = errors
        self.enter: Dict[type, List[Tuple[Rule, Callable]]] = {}
        self.leave: Dict[type, List[Tuple[Rule, Callable]]] = {}
        self.failed: set = set()
        self.plans: Dict[type, tuple] = {}  # node type -> what visiting it does (see _plan)
        self.functions: List[Optional[ast.AST]] = [None]  # the def or lambda whose code is being visited
        semantic = ctx.semantic
        self.stack, self.parents = semantic.stack, semantic.parents
        self.calls, self.loads = semantic.calls_by_function, semantic.loads_by_function
        self.waits = semantic.waits_by_function
        for cls in rule_classes:
            rule = cls(ctx.semantic, ctx)
            visits, leaves = _handlers(cls)
            for type_name, method in visits.items():
                node_type = getattr(ast, type_name, None)
                if node_type is not None:
                    self.enter.setdefault(node_type, []).append((rule, getattr(rule, method)))
            for type_name, method in leaves.items():
                node_type = getattr(ast, type_name, None)
                if node_type is not None:
                    self.leave.setdefault(node_type, []).append((rule, getattr(rule, method)))
        # No rule visits these: they are recorded by their parent's visit (see visit).
        self.bare_names = ast.Name not in self.enter and ast.Name not in self.leave
        self.bare_constants = ast.Constant not in self.enter and ast.Constant not in self.leave

    def run(self, tree: ast.Module) -> None:
        self.visit(tree)

    def _plan(self, node_type: type) -> tuple:
        """What visiting a node of `node_type` does, looked up once per type: its child
        fields, the rules' enter and leave handlers, and what the pass records of it."""
        fields = _CHILD_FIELDS.get(node_type)
        if fields is None:
            fields = _child_fields(node_type)
        role = (
            _CALL if node_type is ast.Call else _WAIT if node_type in _WAITS
            else _FUNCTION if node_type in _FUNCTION_LIKE else _HANDLER if node_type is ast.ExceptHandler else 0
        )
        plan = self.plans[node_type] = (fields, self.enter.get(node_type), self.leave.get(node_type), role)
        return plan

    def visit(self, node: ast.AST) -> None:
        node_type = node.__class__
        plan = self.plans.get(node_type) or self._plan(node_type)
        if node_type is ast.Name:  # a leaf, and the most common node: recorded, not descended
            if node.ctx.__class__ is ast.Load:  # type: ignore[attr-defined]
                self.loads.setdefault(self.functions[-1], []).append(node)  # type: ignore[arg-type]
            handlers = plan[1]
            if handlers:
                self.stack.append(node)
                self.dispatch(handlers, node)
                self.stack.pop()
            return
        fields, enter, leave, role = plan
        stack = self.stack
        parents = self.parents
        stack.append(node)
        # Children know their parent before the node's handlers run, so a rule looking at a
        # node can ask where its direct children sit.
        children = []
        for name in fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        parents[item] = node
                        children.append(item)
            elif value is not None and isinstance(value, ast.AST):
                parents[value] = node
                children.append(value)
        if role == _CALL:
            self.calls.setdefault(self.functions[-1], []).append(node)
        elif role == _WAIT:
            self.waits.setdefault(self.functions[-1], []).append(node)
        elif role == _HANDLER:
            self.ctx.semantic.except_handlers.append(node)  # type: ignore[arg-type]
        if enter:
            self.dispatch(enter, node)
        if role == _FUNCTION:
            self.ctx.semantic.function_parents[node] = self.functions[-1]
            self.functions.append(node)
        # Names and constants no rule asked for are leaves: recorded here, in the order a
        # visit would record them, without a visit each (a third of all nodes).
        visit = self.visit
        bare_names, bare_constants = self.bare_names, self.bare_constants
        loads = None
        for child in children:
            kind = child.__class__
            if kind is _NAME and bare_names:
                if child.ctx.__class__ is _LOAD:  # type: ignore[attr-defined]
                    if loads is None:
                        loads = self.loads.setdefault(self.functions[-1], [])
                    loads.append(child)
            elif kind is not _CONSTANT or not bare_constants:
                visit(child)
        if role == _FUNCTION:
            self.functions.pop()
            self.ctx.semantic.visited_functions.add(node)
        if leave:
            self.dispatch(leave, node)
        stack.pop()

    def dispatch(self, handlers, node: ast.AST) -> None:
        for rule, method in handlers:
            if rule in self.failed:
                continue
            try:
                method(node)
            except RecursionError:
                raise  # the whole file is too deep: becomes FF004
            except Exception as error:  # one rule failing on one file must not stop the run
                self.failed.add(rule)
                frame = traceback.extract_tb(error.__traceback__)[-1]
                self.errors.append(
                    RunError(
                        path=self.ctx.source.path,
                        code=rule.code,
                        line=getattr(node, "lineno", None),
                        message=(
                            f"{rule.code} crashed: {type(error).__name__}: {error} "
                            f"(at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}); "
                            "its findings for this file are incomplete"
                        ),
                    )
                )
