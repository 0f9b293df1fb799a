"""What FF201 says becomes of a dropped task's error: the loop's log, or the coroutine's own
broad handler (semantic/index.py, `error-fate`)."""

from __future__ import annotations

from helpers import check_text

PRELUDE = '''
import asyncio
import logging

log = logging.getLogger(__name__)
'''

LOOP_LOGS = "its error is never handled (the loop only logs it when the task is freed)"


def messages(body: str):
    return [f.message.split("mid-flight, and ", 1)[1] for f in check_text(PRELUDE + body, codes={"FF201"}).findings]


def test_a_coroutine_whose_broad_handler_catches_everything_is_where_the_error_goes():
    assert messages('''
async def guarded(job):
    try:
        await job.run()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("job failed")


async def start(job):
    asyncio.create_task(guarded(job))
''') == ["its error reaches only the broad handler of `guarded`"]


def test_an_override_that_may_raise_leaves_the_loop_as_the_only_witness():
    assert messages('''
class Worker:
    async def run(self):
        try:
            await self.work()
        except Exception:
            log.exception("work failed")


class Eager(Worker):
    async def run(self):
        await self.work()


async def start(worker: Worker):
    asyncio.create_task(worker.run())
''') == [LOOP_LOGS]


def test_a_coroutine_that_cannot_fail_has_no_handler_to_name():
    # `await asyncio.sleep(...)` cannot raise for an ordinary value, but nothing catches either
    assert messages('''
async def pause():
    await asyncio.sleep(1)


async def start():
    asyncio.create_task(pause())
''') == [LOOP_LOGS]


def test_a_handler_that_re_raises_catches_nothing():
    assert messages('''
async def noted(job):
    try:
        await job.run()
    except Exception:
        log.exception("job failed")
        raise


async def start(job):
    asyncio.create_task(noted(job))
''') == [LOOP_LOGS]
