"""What an `except` handler does with the failure it caught: which log lines it writes, and
whether it hands the exception to something that reports it.

A project says how a failure should be reported by how it handles it where it cares: the
daemon's handler that logs "taskgroup died." and calls `send_exception_to_crash_reporter(e)`
tells that another handler logging "taskgroup died." and nothing else dropped that call.
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, List, Optional, Tuple

from ffscan.semantic.names import iter_own_nodes
from ffscan.semantic.spelling import last_name, spelled
from ffscan.semantic.stdlib import LOG_METHODS

_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|\{[^{}]*\}")
_WORD = re.compile(r"[a-z]{2,}")
_NAME_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def is_log_call(call: ast.Call) -> bool:
    """A call that writes a line to a console or a log, as the code spells it: `log.error(...)`,
    `print(...)`, `self._log(...)`, `log_failure(...)`, `traceback.print_exc()`,
    `sys.stderr.write(...)`; not `show_error_dialog(...)`, which tells the user."""
    name = last_name(call.func)
    if name in LOG_METHODS or name.startswith("print"):
        return True
    if name == "write" and isinstance(call.func, ast.Attribute):
        return spelled(call.func.value) in ("sys.stderr", "sys.stdout")
    words = _NAME_WORD.findall(_CAMEL.sub(r"\1_\2", name).lower())
    return any(word in ("log", "logger", "logging") for word in words)


def logged_messages(handler: ast.ExceptHandler) -> Tuple[str, ...]:
    """The text of each line the handler logs, placeholders blanked and case folded
    ("taskgroup died ({})."): what identifies the failure it handles across the project.
    Messages of fewer than two words ("Error: %s") name no failure in particular."""
    found: List[str] = []
    for call in _own_calls(handler):
        if is_log_call(call) and call.args:
            text = _message_text(call.args[0])
            if text is not None and len(_WORD.findall(text)) >= 2 and text not in found:
                found.append(text)
    return tuple(found)


def reporter_call(handler: ast.ExceptHandler) -> Optional[ast.Call]:
    """The first statement of the handler that hands the caught exception to a call that is
    not logging (`send_exception_to_crash_reporter(e)`, `self.failed.emit(repr(e))`,
    `future.set_exception(exc)`); None when it binds no name or hands it to nothing else."""
    if handler.name is None:
        return None
    for statement in _own_statements(handler.body):
        value = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call) or is_log_call(value):
            continue
        arguments = [*value.args, *(k.value for k in value.keywords)]
        if any(isinstance(n, ast.Name) and n.id == handler.name for a in arguments for n in ast.walk(a)):
            return value
    return None


def sibling_reporter(try_node: ast.AST, handler: ast.ExceptHandler) -> Optional[Tuple[ast.ExceptHandler, ast.Call]]:
    """Another handler of the same `try` and its reporter call (`except BroadcastError as e:
    self.failed.emit(e)` above a broad `except` that only logs): how this `try` reports the
    failures it expects."""
    for other in getattr(try_node, "handlers", ()):
        if other is not handler:
            found = reporter_call(other)
            if found is not None:
                return other, found
    return None


def spelled_reporter(call: ast.Call) -> str:
    return spelled(call, limit=60)


def _message_text(arg: ast.expr) -> Optional[str]:
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod):
        arg = arg.left  # "failed: %s" % err
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
        arg = arg.func.value  # "failed: {}".format(err)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        text = arg.value
    elif isinstance(arg, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in arg.values)
    else:
        return None
    return " ".join(_PLACEHOLDER.sub("{}", text).lower().split()) or None


def _own_statements(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of `body` and of the `if`/`else` branches inside it, in order."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from _own_statements(statement.body)
            yield from _own_statements(statement.orelse)


def _own_calls(handler: ast.ExceptHandler) -> List[ast.Call]:
    """The calls of the handler's body in source order, not inside nested defs or lambdas."""
    found = [n for n in iter_own_nodes(ast.Module(body=handler.body, type_ignores=[])) if isinstance(n, ast.Call)]
    return sorted(found, key=lambda c: (c.lineno, c.col_offset))
