"""What ffscan knows about the standard library's concurrency APIs, shared by the rules."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, Optional, Tuple

from ffscan.semantic.spelling import last_name, spelled

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

# Calls that schedule a coroutine as a task the loop holds only weakly.
TASK_SPAWNERS = frozenset(
    {
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.tasks.create_task",
        "asyncio.tasks.ensure_future",
        "asyncio.async",
    }
)

LOOP_FACTORIES = frozenset(
    {
        "asyncio.get_event_loop",
        "asyncio.get_running_loop",
        "asyncio.new_event_loop",
        "asyncio.events.get_event_loop",
        "asyncio.events.get_running_loop",
        "asyncio.events.new_event_loop",
    }
)

LOOP_CLASSES = frozenset(
    {
        "asyncio.AbstractEventLoop",
        "asyncio.BaseEventLoop",
        "asyncio.SelectorEventLoop",
        "asyncio.ProactorEventLoop",
        "uvloop.Loop",
    }
)

# Functions of the standard library that are coroutine functions (calling one makes a
# coroutine object that does nothing until awaited).
STDLIB_COROUTINE_FUNCTIONS = frozenset(
    {
        "asyncio.sleep",
        "asyncio.wait",
        "asyncio.wait_for",
        "asyncio.to_thread",
        "asyncio.open_connection",
        "asyncio.open_unix_connection",
        "asyncio.start_server",
        "asyncio.start_unix_server",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "asyncio.staggered.staggered_race",
        "asyncio.timeout",
    }
) - {"asyncio.timeout"}  # a context manager, not a coroutine function

# Event-loop methods that are coroutine functions, recognised on a receiver that is a loop.
LOOP_COROUTINE_METHODS = frozenset(
    {
        "sock_recv",
        "sock_recv_into",
        "sock_recvfrom",
        "sock_recvfrom_into",
        "sock_sendall",
        "sock_sendto",
        "sock_connect",
        "sock_accept",
        "sock_sendfile",
        "getaddrinfo",
        "getnameinfo",
        "create_connection",
        "create_server",
        "create_unix_connection",
        "create_unix_server",
        "create_datagram_endpoint",
        "connect_read_pipe",
        "connect_write_pipe",
        "subprocess_exec",
        "subprocess_shell",
        "sendfile",
        "start_tls",
        "shutdown_asyncgens",
        "shutdown_default_executor",
        "connect_accepted_socket",
    }
)

# Futures that aggregate or wrap others: dropping one loses every inner exception.
FUTURE_COMBINATORS = frozenset({"asyncio.gather", "asyncio.shield"})

THREAD_CLASSES = frozenset({"threading.Thread", "threading.Timer"})
PROCESS_CLASSES = frozenset({"multiprocessing.Process", "multiprocessing.context.Process"})
EXECUTOR_CLASSES = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.ProcessPoolExecutor",
        "concurrent.futures.thread.ThreadPoolExecutor",
        "concurrent.futures.process.ProcessPoolExecutor",
    }
)

# Structured-concurrency owners: tasks they create are awaited by the group.
TASK_GROUP_CLASSES = frozenset({"asyncio.TaskGroup", "asyncio.taskgroups.TaskGroup"})

# Bases that define no application method: an attribute not found before them is not there.
INERT_BASES = frozenset(
    {
        "builtins.object", "abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Protocol",
        "typing.NamedTuple", "enum.Enum", "builtins.Exception", "builtins.BaseException",
    }
)

# What a call into the standard library does outside the process, by qualified name or the
# module it lives in (the longest prefix decides): "network", "database", "file" or
# "subprocess". Third-party packages are in the catalogue's overlay (`[io]`).
STDLIB_IO: Dict[str, str] = {
    **{name: "network" for name in (
        "socket", "ssl", "http.client", "urllib.request", "ftplib", "smtplib", "poplib", "imaplib",
        "xmlrpc.client", "asyncio.open_connection", "asyncio.open_unix_connection",
        "asyncio.streams.open_connection", "asyncio.StreamReader", "asyncio.StreamWriter",
        "asyncio.streams.StreamReader", "asyncio.streams.StreamWriter",
    )},
    **{f"{loop}.{method}": "network" for loop in (*LOOP_CLASSES, "asyncio.events.AbstractEventLoop", "asyncio.base_events.BaseEventLoop")
        for method in (
        # (`getaddrinfo` runs in the loop's default executor, whose size bounds it)
        "sock_recv", "sock_recv_into", "sock_recvfrom", "sock_sendall", "sock_sendto", "sock_connect",
        "sock_accept", "sock_sendfile", "create_connection",
        "create_unix_connection", "create_datagram_endpoint", "sendfile", "start_tls",
    )},
    **{name: "subprocess" for name in (
        "subprocess", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
        "asyncio.subprocess", "os.system", "os.popen",
    )},
    **{name: "database" for name in ("sqlite3", "dbm", "shelve")},
    **{name: "file" for name in (
        "builtins.open", "io.open", "shutil", "os.open", "os.remove", "os.unlink", "os.rename",
        "os.replace", "os.makedirs", "os.mkdir", "os.rmdir", "os.listdir", "os.scandir", "os.walk",
        "os.stat", "os.path.getsize", "gzip.open", "zipfile.ZipFile", "tarfile.open",
        *(f"pathlib.Path.{method}" for method in (
            "read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink", "mkdir",
            "rmdir", "iterdir", "glob", "rglob", "touch", "rename", "replace", "stat",
        )),
    )},
}

# Classes whose instances bound how much work runs at once: acquiring one before the work
# (`async with semaphore:`) waits while the bound is reached.
LIMITER_CLASSES = frozenset(
    {
        *(f"{module}.{name}" for module in ("asyncio", "asyncio.locks") for name in ("Semaphore", "BoundedSemaphore", "Lock")),
        *(f"threading.{name}" for name in ("Semaphore", "BoundedSemaphore", "Lock", "RLock")),
        *(f"anyio.{name}" for name in ("Semaphore", "CapacityLimiter", "Lock")),
        *(f"trio.{name}" for name in ("Semaphore", "CapacityLimiter", "Lock")),
        "aiolimiter.AsyncLimiter", "aiolimiter.leakybucket.AsyncLimiter", "asyncio_throttle.Throttler",
    }
)
# The last part of a class name that is a limiter wherever it is defined (a project's own
# `RateLimiter`, anyio's `_core._synchronization.CapacityLimiter`).
LIMITER_CLASS_NAMES = frozenset({"Semaphore", "BoundedSemaphore", "CapacityLimiter", "AsyncLimiter", "RateLimiter", "Limiter", "Throttler"})

# Methods of a logger that write a record.
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "trace", "msg"}
)


def is_logger(semantic: "SemanticModel", expr: ast.expr) -> bool:
    """Whether `expr` is a logger: `logging`, `logging.getLogger(...)`, a `logging.Logger`, or
    a name spelled like one (`log`, `logger`, `self._log`, `access_logger`, `LOG`), not a
    `catalog` or a `dialog`."""
    names = semantic.names
    if isinstance(expr, ast.Call):
        return isinstance(expr.func, (ast.Attribute, ast.Name)) and (
            (expr.func.attr if isinstance(expr.func, ast.Attribute) else expr.func.id) == "getLogger"
        )
    if isinstance(expr, ast.Name) and names.qualified(expr) in ("logging", "loguru.logger", "structlog"):
        return True
    if isinstance(expr, (ast.Name, ast.Attribute)) and names.instance_type(expr) in ("logging.Logger", "logging.getLogger"):
        return True
    spelled = last_name(expr)
    bare = spelled.lstrip("_").lower()
    return bare in ("log", "logger", "logging") or bare.endswith(("_log", "logger")) or bare.startswith("log_")


# Decorators that leave an `async def` returning a coroutine when called.
ASYNC_PRESERVING_DECORATORS = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "abc.abstractmethod",
        "typing.override",
        "typing_extensions.override",
        "typing.final",
        "typing_extensions.final",
        "functools.wraps",
        "tenacity.retry",
        "backoff.on_exception",
        "backoff.on_predicate",
        "async_timeout.timeout",
    }
)

# ---- what the standard library's names are, for the index ---------------------------------
#
# The project's own modules are summarised from their source; these are the names outside it
# that matter here. A function is "coroutine" (calling it makes a coroutine), "spawns-task"
# (it runs its first argument as a task the loop holds weakly and returns that task),
# "returns-loop" (an event loop), or "future" (an awaitable that already runs).

_ASYNCIO_MODULES = ("asyncio", "asyncio.tasks", "asyncio.events", "asyncio.queues", "asyncio.locks", "asyncio.streams")


def _in_asyncio(*names: str) -> Tuple[str, ...]:
    return tuple(f"{module}.{name}" for module in _ASYNCIO_MODULES for name in names)


EXTERNAL_FUNCTIONS: Dict[str, str] = {
    **{name: "coroutine" for name in STDLIB_COROUTINE_FUNCTIONS},
    **{name: "spawns-task" for name in TASK_SPAWNERS},
    **{name: "returns-loop" for name in LOOP_FACTORIES},
    **{name: "future" for name in _in_asyncio("gather", "shield", "run_coroutine_threadsafe", "wrap_future")},
}

# Classes of the standard library: method -> what calling it on an instance gives.
_QUEUE = {"put": "coroutine", "get": "coroutine", "join": "coroutine"}
EXTERNAL_CLASSES: Dict[str, Dict[str, str]] = {
    **{name: dict(_QUEUE) for name in _in_asyncio("Queue", "PriorityQueue", "LifoQueue")},
    **{name: {"acquire": "coroutine"} for name in _in_asyncio("Lock", "Semaphore", "BoundedSemaphore")},
    **{name: {"wait": "coroutine"} for name in _in_asyncio("Event")},
    **{name: {"acquire": "coroutine", "wait": "coroutine", "wait_for": "coroutine"} for name in _in_asyncio("Condition")},
    **{name: {"wait": "coroutine", "reset": "coroutine", "abort": "coroutine"} for name in _in_asyncio("Barrier")},
    **{
        name: {"drain": "coroutine", "wait_closed": "coroutine", "start_tls": "coroutine"}
        for name in _in_asyncio("StreamWriter")
    },
    **{
        name: {m: "coroutine" for m in ("read", "readline", "readexactly", "readuntil")}
        for name in _in_asyncio("StreamReader")
    },
    **{
        name: {**{m: "coroutine" for m in LOOP_COROUTINE_METHODS}, "create_task": "spawns-task"}
        for name in (*LOOP_CLASSES, "asyncio.events.AbstractEventLoop", "asyncio.base_events.BaseEventLoop")
    },
    **{name: {"create_task": "tracked-spawn"} for name in TASK_GROUP_CLASSES},
}


def is_loop_expression(semantic: "SemanticModel", expr: ast.expr) -> bool:
    """Whether `expr` is certainly an event loop: `asyncio.get_running_loop()`, a name bound to
    one, or a name or attribute spelled like one (`loop`, `self._loop`, `event_loop`)."""
    names = semantic.names
    if isinstance(expr, ast.Call):
        return names.qualified(expr.func) in LOOP_FACTORIES
    kind = names.instance_type(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
    if kind in LOOP_CLASSES:
        return True
    if isinstance(expr, ast.Name):
        found = names.binding(expr.id, expr)
        value = found.node if found is not None else None
        if isinstance(value, ast.Call) and names.qualified(value.func) in LOOP_FACTORIES:
            return True
        return _spelled_like_loop(expr.id)
    if isinstance(expr, ast.Attribute):
        return _spelled_like_loop(expr.attr)
    return False


def _spelled_like_loop(identifier: str) -> bool:
    bare = identifier.lstrip("_").lower()
    return bare in ("loop", "event_loop", "ioloop", "io_loop", "evloop") or bare.endswith("_loop")


def task_spawner(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """The spawning API `call` uses (`asyncio.create_task`, `loop.create_task`), or None.

    Configured tracked spawners are never spawners here: their callee keeps the task.
    """
    names = semantic.names
    settings = semantic.settings
    callee = names.qualified(call.func)
    if callee is not None:
        if callee in settings.tracked_spawners:
            return None
        if callee in TASK_SPAWNERS or callee in settings.spawn_apis:
            return callee
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in ("create_task", "ensure_future"):
        if is_loop_expression(semantic, func.value):
            return f"{spelled(func.value, too_long='loop', fallback='loop')}.{func.attr}"
    return None


def coroutine_callee(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """A readable name of what `call` calls when calling it certainly makes a coroutine."""
    names = semantic.names
    function = names.function_def(call.func)
    if function is not None:
        if names.is_coroutine_function(function):
            return spelled(call.func, too_long='loop', fallback='loop')
        return None
    callee = names.qualified(call.func)
    if callee is not None:
        if callee in STDLIB_COROUTINE_FUNCTIONS or callee in semantic.settings.coroutine_functions:
            return callee
        return None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in LOOP_COROUTINE_METHODS:
        if is_loop_expression(semantic, func.value):
            return spelled(func, too_long='loop', fallback='loop')
    return None


# Functions that run (await, or wrap in a task) an awaitable handed to them.
AWAITABLE_RUNNERS = frozenset(
    {
        *TASK_SPAWNERS,
        *(f"{module}.{name}" for module in ("asyncio", "asyncio.tasks") for name in (
            "gather", "wait", "wait_for", "shield", "as_completed", "run_coroutine_threadsafe",
        )),
        "asyncio.run",
        "asyncio.runners.run",
    }
)
# Methods that do the same on an event loop, a task group or an `asyncio.Runner`.
_AWAITABLE_RUNNING_METHODS = frozenset({"create_task", "ensure_future", "run_until_complete", "run", "start_soon"})


def runs_awaitable(semantic: "SemanticModel", call: ast.Call) -> bool:
    """Whether `call` runs the awaitables it is given: `asyncio.gather(...)`, `create_task(...)`,
    `loop.run_until_complete(...)`, `group.create_task(...)`, a configured spawn API."""
    callee = semantic.names.qualified(call.func)
    if callee is not None and (
        callee in AWAITABLE_RUNNERS or callee in semantic.settings.spawn_apis or callee in semantic.settings.tracked_spawners
    ):
        return True
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in _AWAITABLE_RUNNING_METHODS


# Trigger words (see Rule.triggers): a file with none of them cannot hold the rule's bug.
SPAWN_WORDS = (
    "create_task", "ensure_future", "run_coroutine_threadsafe", "Thread", "Timer", "submit",
    "run_in_executor", "add_done_callback", "call_soon", "call_later", "call_at", "start_new",
    "Process",
)

# A coroutine call needs an `async def` or an asyncio import in the file, or a loop method.
COROUTINE_WORDS = ("async", *sorted(LOOP_COROUTINE_METHODS))
