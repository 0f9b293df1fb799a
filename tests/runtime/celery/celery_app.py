"""The Celery app the engine tests run: workers import it, and so does the asyncio client.

Two queues use the same registered jobs' machinery: "emails" runs on Celery (this app),
"greetings" is chosen by the pyproject.toml that $FFSCAN_PYPROJECT names.
"""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

from ffscan.runtime import Backoff, SkipRetry, configure, job
from ffscan.runtime.backends.celery import install

URL = os.environ["FFSCAN_TEST_REDIS_URL"]
events = redis.Redis.from_url(URL)

app = Celery("ffscan-tests", broker=URL, backend=URL)
# A killed worker's job is handed out again once it has been unacknowledged for 3 s, and
# workers look for such jobs every second (by default: an hour, and every 100 s).
app.conf.broker_transport_options = {"visibility_timeout": 3, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
app.conf.worker_prefetch_multiplier = 1
app.conf.broker_connection_retry_on_startup = True
app.conf.worker_hijack_root_logger = False


@job("slow-receipt", queue="emails")
async def slow_receipt(order_id: int) -> str:
    events.rpush("events", f"started:{order_id}:{os.getpid()}")
    if events.incr(f"deliveries:{order_id}") == 1:
        time.sleep(120)  # the first worker to get it is killed here
    events.rpush("events", f"finished:{order_id}:{os.getpid()}")
    return f"receipt {order_id}"


@job("flaky-webhook", queue="emails")
def flaky_webhook(hook_id: int) -> str:
    attempt = events.incr(f"attempts:{hook_id}")
    if attempt < 3:
        raise ConnectionError(f"peer reset on attempt {attempt}")
    return f"delivered {hook_id} on attempt {attempt}"


@job("bad-input", queue="emails")
def bad_input(user_id: int) -> None:
    events.incr(f"attempts:bad:{user_id}")
    raise SkipRetry(f"no user {user_id}")


@job("greet", queue="greetings")
def greet(name: str) -> str:
    events.rpush("events", f"greeted:{name}:{os.getpid()}")
    return f"hello {name}"


configure("emails", engine="celery", app=app, retries=3, backoff=Backoff(initial=0.2, factor=2.0, jitter=0.0))
install(app)
