"""A signup service: each signup fires a welcome e-mail and a recommendation refresh.

    python app.py            # serve on 127.0.0.1:8080 until Ctrl-C
    python app.py --demo 20  # send 20 signups to itself, print what got done, exit

examples/signup_bug/ has it with the fire-and-forget bug (asyncio.create_task dropped);
examples/signup_fixed/ is the same file after `ffscan fix --unsafe-fixes`. See
examples/README.md for what each prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from ffscan.runtime import background

SENT: list[int] = []
RECOMMENDED: list[int] = []
ATTEMPTS: dict[int, int] = {}


async def send_welcome_email(user_id: int) -> None:
    await asyncio.sleep(0.01)
    ATTEMPTS[user_id] = ATTEMPTS.get(user_id, 0) + 1
    if user_id % 3 == 0 and ATTEMPTS[user_id] == 1:  # the SMTP server drops every third first try
        raise ConnectionError(f"SMTP server reset the connection (user {user_id})")
    SENT.append(user_id)


async def refresh_recommendations(user_id: int) -> None:
    await asyncio.sleep(0.2)  # a slow model call
    RECOMMENDED.append(user_id)


async def handle_signup(user_id: int) -> dict:
    """The request handler: answer at once, do the slow work in the background."""
    background.spawn(send_welcome_email, user_id)
    background.spawn(refresh_recommendations, user_id)
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
        await asyncio.sleep(0.05)  # the server shuts down soon after the last request
    print(f"{answers.count('HTTP/1.1 201 Created')} signups answered")
    print(f"{len(SENT)} welcome e-mails sent, {len(RECOMMENDED)} recommendations refreshed, of {demo} each")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--demo", type=int, default=0, metavar="N", help="send N signups to itself, report, exit")
    options = parser.parse_args()
    asyncio.run(main(0 if options.demo else options.port, options.demo))
