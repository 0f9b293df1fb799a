"""The signup service's background jobs, registered by name and run where the queues say.

    SIGNUP_ENGINE=celery (the default): the jobs run on Celery workers
        celery -A jobs worker -Q emails,recommendations --pool=solo -l info
    SIGNUP_ENGINE=local: the same jobs run in the web process, on TrackedQueues

The web process and the worker import this same module: the producer sends jobs by name,
and install(app) turns each @job into a Celery task for the worker.
"""

from __future__ import annotations

import asyncio
import os

from celery import Celery

from ffscan.runtime import Backoff, configure, job
from ffscan.runtime.backends.celery import install

BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ENGINE = os.environ.get("SIGNUP_ENGINE", "celery")
ATTEMPTS: dict[int, int] = {}  # per process: a retry runs on the same worker here (--pool=solo)

app = Celery("signup", broker=BROKER, backend=BROKER)
# Late acknowledgement (set by install) plus a visibility timeout: a job whose worker dies
# mid-way is handed to another worker after 60 s.
app.conf.broker_transport_options = {"visibility_timeout": 60}


@job("send-welcome-email", queue="emails")
async def send_welcome_email(user_id: int) -> str:
    await asyncio.sleep(0.01)
    ATTEMPTS[user_id] = ATTEMPTS.get(user_id, 0) + 1
    if user_id % 3 == 0 and ATTEMPTS[user_id] == 1:  # the SMTP server drops every third first try
        raise ConnectionError(f"SMTP server reset the connection (user {user_id})")
    return f"welcome e-mail sent to user {user_id} (attempt {ATTEMPTS[user_id]})"


@job("refresh-recommendations", queue="recommendations")
async def refresh_recommendations(user_id: int) -> str:
    await asyncio.sleep(0.2)  # a slow model call
    return f"recommendations refreshed for user {user_id}"


celery_only = {"app": app} if ENGINE == "celery" else {}
configure("emails", engine=ENGINE, retries=3, backoff=Backoff(initial=0.2, factor=2.0, max=5.0), rate_limit="50/s", **celery_only)
configure("recommendations", engine=ENGINE, max_concurrency=4, timeout=30, **celery_only)
install(app)
