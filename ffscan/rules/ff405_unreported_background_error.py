"""FF405 unreported-background-error: a background handler only logs a failure that the project
reports where it handles the same failure elsewhere."""

from __future__ import annotations

import ast

from ffscan.rules.ff401_swallowed_background_error import SwallowedBackgroundError
from ffscan.semantic.names import FunctionNode
from ffscan.semantic.reporting import logged_messages, sibling_reporter, spelled_reporter
from ffscan.semantic.stdlib import COROUTINE_WORDS


class UnreportedBackgroundError(SwallowedBackgroundError):
    """## What it does
    Finds a broad `except` (bare, `Exception`, `BaseException`) in work that runs in the
    background whose handler only logs, where the project itself shows how that failure is
    reported: another broad handler of the project logs the same message and also hands the
    exception to a call that is not logging (`send_exception_to_crash_reporter(e)`,
    `sentry_sdk.capture_exception(e)`, `self.failed.emit(repr(e))`), or another handler of the
    same `try` hands what it catches to such a call. The message names that call and where it
    is.

    It is the part of FF401 (swallowed-background-error, off by default) where the handler
    departs from the project's own way of reporting the failure: background work and "only
    logs" are judged as FF401 judges them, with the same exceptions (a framework's last resort
    around callbacks, clean-up, loops that retry each round, documented drops, debug-level
    logging). FF401 leaves these handlers to this rule.

    ## Why is this bad?
    Nobody waits for background work, so its handler is the only place its failure can go.
    Where the project reports a failure, to a crash reporter, an error tracker or the user, a
    copy of that handler that only logs sends the same failure to the console: the daemon's
    task group reports its crash, the wallet's identical task group dies with a log line, and
    nobody hears of it.

    ## Example
    ```python
    class Daemon:
        async def run(self):
            try:
                async with self.taskgroup as group:
                    await group.spawn(self.serve())
            except Exception as e:
                log.exception("taskgroup died.")
                send_exception_to_crash_reporter(e)

    class Watcher:
        async def main_loop(self):
            try:
                async with self.taskgroup as group:
                    await group.spawn(self.watch())
            except Exception as e:
                log.exception("taskgroup died.")

        def start(self, loop):
            asyncio.run_coroutine_threadsafe(self.main_loop(), loop)
    ```

    ## Fix
    ```python
            except Exception as e:
                log.exception("taskgroup died.")
                send_exception_to_crash_reporter(e)
    ```

    ## Fix safety
    No automatic fix: the reporter the project uses elsewhere may not suit this failure, and
    re-raising instead changes what the caller of a thread or task sees.

    ## Known limits
    Messages match after their placeholders (`%s`, `{name}`) are blanked and case is folded; a
    message of fewer than two words ("Error: %s") names no failure and is not matched. Only
    modules that use `async`, threads or executors are read for handlers, so a reporting
    handler in a module with none of them is not seen (checking every module that catches
    exceptions would parse every file of a project). A reporter that reads the exception from
    `sys.exc_info()` rather than from the name the handler binds is not recognised.
    """

    code = "FF405"
    name = "unreported-background-error"
    subject = ("unreported background error", "unreported background errors")
    loss = "background failures the project reports elsewhere are only logged"
    triggers = (*COROUTINE_WORDS, "Thread", "Timer", "submit", "run_in_executor", "add_done_callback")
    message = (
        "Broad `{construct}` in background function `{function}` only {action}, where {reported_at} "
        "reports with `{reporter}`; this failure reaches no alert ({how})"
    )
    fix_title = "Report the exception as the project does elsewhere"
    default_on = True
    checks_suppressors = False  # `suppress(...)` logs nothing to match
    visit_withitem = None  # so the pass does not dispatch every `with` to this rule

    def _may_report(self, handler: ast.ExceptHandler) -> bool:
        # Only a handler that logs a message, or has a reporting sibling, can depart from how
        # the project reports: the rest is never judged (most of the cost of FF401's shapes).
        return bool(logged_messages(handler)) or sibling_reporter(self.semantic.parent(handler), handler) is not None

    def _report_handler(
        self, handler: ast.ExceptHandler, function: FunctionNode, background, entry_only: bool, **fields
    ) -> None:
        sibling = sibling_reporter(self.semantic.parent(handler), handler)
        asked: tuple = ()
        if sibling is not None:
            other, call = sibling
            fields.update(reporter=spelled_reporter(call), reported_at=f"the `except` at line {other.lineno} of the same `try`")
        else:
            messages = logged_messages(handler)
            if not messages:
                return
            asked = (("reported-elsewhere", messages),)  # the answer gives `reporter` and `reported_at`
        self._report_in_background(handler, handler.type or handler, function, background, entry_only=entry_only,
                                   asked=asked, own_loggers=self._own_logger_queries(), **fields)
