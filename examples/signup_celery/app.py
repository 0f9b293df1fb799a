"""The signup service on the durable engine: the same handler, its jobs on Celery.

    celery -A jobs worker -Q emails,recommendations --pool=solo -l info   # in this folder
    python app.py --demo 20   # send 20 signups, wait for the workers' results, print them

Set SIGNUP_ENGINE=local to run the same jobs in this process instead (no Redis needed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # jobs.py beside this file

from ffscan.runtime import queue  # noqa: E402  (after the docstring's instructions)

from jobs import ENGINE, app, refresh_recommendations, send_welcome_email  # noqa: E402

SENT_JOBS: list = []


async def handle_signup(user_id: int) -> dict:
    """The request handler: answer at once; the jobs go to the queues, off the event loop."""
    SENT_JOBS.append(send_welcome_email.spawn(user_id))
    SENT_JOBS.append(refresh_recommendations.spawn(user_id))
    return {"status": "created", "user": user_id}


async def serve_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request_line = (await reader.readline()).decode()
    while (await reader.readline()).strip():
        pass  # headers: not needed here
    path = request_line.split()[1] if len(request_line.split()) > 1 else "/"
    if path.startswith("/signup/") and path.rsplit("/", 1)[1].isdigit():
        status, body = "201 Created", await handle_signup(int(path.rsplit("/", 1)[1]))
    else:
        status, body = "404 Not Found", {"error": "try POST /signup/<user id>"}
    payload = json.dumps(body).encode()
    writer.write(f"HTTP/1.1 {status}\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
    await writer.drain()
    writer.close()


async def post(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    response = (await reader.read()).decode()
    writer.close()
    return response.split("\r\n", 1)[0]


async def main(port: int, demo: int) -> None:
    server = await asyncio.start_server(serve_http, "127.0.0.1", port)
    port = server.sockets[0].getsockname()[1]
    if not demo:
        print(f"serving on http://127.0.0.1:{port}/signup/<user id> (Ctrl-C stops)")
        async with server:
            await server.serve_forever()
    async with server:
        answers = [await post(port, f"/signup/{user}") for user in range(demo)]
    print(f"{answers.count('HTTP/1.1 201 Created')} signups answered")
    for name in ("emails", "recommendations"):
        await queue(name).drain(timeout=60)  # locally: the jobs themselves; on Celery: the sends
    outcomes = await asyncio.get_running_loop().run_in_executor(None, collect, SENT_JOBS)
    print(f"{outcomes.count('ok')} jobs done, {outcomes.count('failed')} failed, of {len(SENT_JOBS)} ({ENGINE} engine)")


def collect(jobs: list) -> list[str]:
    """Each job's outcome: the job itself locally, the worker's result on Celery."""
    outcomes = []
    for job in jobs:
        if ENGINE == "celery":
            result = app.AsyncResult(job.result(timeout=60))  # the send's value is the task id
            result.get(timeout=60, propagate=False)
            outcomes.append("ok" if result.successful() else "failed")
        else:
            outcomes.append("ok" if job.exception(timeout=60) is None else "failed")
    return outcomes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--demo", type=int, default=0, metavar="N", help="send N signups to itself, report, exit")
    options = parser.parse_args()
    asyncio.run(main(0 if options.demo else options.port, options.demo))
