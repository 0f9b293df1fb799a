"""What work does, across modules: the index's "io-work", "may-fail" and "writes" answers
(ffscan/semantic/effects.py), and the overlay's `[io]` table they read."""

from __future__ import annotations

import textwrap

import pytest

from ffscan.config import Settings
from ffscan.engine.runner import check_source
from ffscan.engine.sources import decode_source
from ffscan.semantic.catalogue import OverlayError, io_kind, parse_overlay
from ffscan.semantic.index import DEFERRED_ANSWER, ProjectIndex


def summary(module: str, text: str):
    """The module's summary after the engine's pass, with the facts the FF3/FF5 rules need."""
    source = decode_source(textwrap.dedent(text).encode("utf-8"), f"{module.replace('.', '/')}.py")
    return check_source(source, Settings(), frozenset({"FF501"}), module).summary


def index_of(*modules, final: bool = True) -> ProjectIndex:
    return ProjectIndex([summary(name, text) for name, text in modules], final=final)


CLIENTS = (
    "app.clients",
    """
    import asyncio
    import socket
    import sqlite3

    import aiohttp
    import discord

    LIMIT = asyncio.Semaphore(10)


    class Store(sqlite3.Connection):
        pass


    class Push:
        def __init__(self, session: aiohttp.ClientSession):
            self.session = session

        async def send(self, user_id):
            await self.session.post("https://push.example", json={"user": user_id})

        async def send_limited(self, user_id):
            async with LIMIT:
                await self.send(user_id)


    async def mention(channel: discord.abc.GuildChannel, member):
        return channel.permissions_for(member)


    async def announce(channel: discord.TextChannel, text):
        await channel.send(text)


    def save(store: Store, rows):
        store.cursor().executemany("INSERT INTO t VALUES (?)", rows)


    def ping(sock: socket.socket):
        sock.sendall(b"ping")


    def careful(store: Store, rows):
        try:
            save(store, rows)
        except sqlite3.Error:
            return None


    def validated(rows):
        try:
            for row in rows:
                with row.lock:
                    if not row.ok:
                        raise ValueError("bad row")
        except ValueError:
            return None


    async def strict(rows):
        async for row in rows:
            while row.pending:
                await row.wait()
            else:
                raise ValueError("bad row")


    def check(rows):
        if not rows:
            raise ValueError("no rows")


    def stub(rows):
        raise NotImplementedError
    """,
)

JOBS = (
    "app.jobs",
    """
    from app.clients import Push, check, save


    async def notify(push: Push, user_id):
        await push.send(user_id)


    async def notify_limited(push: Push, user_id):
        await push.send_limited(user_id)


    def export(store, rows):
        check(rows)
        save(store, rows)
    """,
)


def ask(index: ProjectIndex, *query):
    return index.answer(query)


def test_io_work_follows_calls_into_other_modules_to_the_library_call():
    index = index_of(CLIENTS, JOBS)
    assert ask(index, "io-work", ("global", "app.jobs.notify"), "running") == {
        "effect": "`notify` -> `Push.send` calls `Push.session.post` (network)"
    }


def test_a_semaphore_in_the_work_bounds_a_finite_fan_out_but_not_a_stream():
    index = index_of(CLIENTS, JOBS)
    limited = ("global", "app.jobs.notify_limited")
    assert ask(index, "io-work", limited, "running") is None
    assert ask(index, "io-work", limited, "created") == {
        "effect": "`notify_limited` -> `Push.send_limited` -> `Push.send` calls `Push.session.post` (network); "
        "the limiter in `Push.send_limited` bounds how many run, not how many are made"
    }


def test_only_coroutines_of_an_awaited_io_package_are_io():
    index = index_of(CLIENTS)
    assert ask(index, "io-work", ("global", "app.clients.mention"), "running") is None  # a cache lookup
    assert ask(index, "io-work", ("global", "app.clients.announce"), "running") == {
        "effect": "`announce` calls `discord.TextChannel.send` (network)"
    }


def test_a_method_a_library_base_class_defines_is_that_librarys():
    index = index_of(CLIENTS)
    assert ask(index, "writes", ("global", "app.clients.save")) == {
        "effect": "`save` calls `Store.cursor().executemany` (database)"
    }


def test_a_socket_send_is_io_but_not_a_write():
    index = index_of(CLIENTS)
    assert ask(index, "io-work", ("global", "app.clients.ping"), "running") == {
        "effect": "`ping` calls `socket.socket.sendall` (network)"
    }
    assert ask(index, "writes", ("global", "app.clients.ping")) is None


def test_may_raise_names_the_raise_or_the_call_no_try_guards():
    index = index_of(CLIENTS, JOBS)
    assert ask(index, "may-fail", ("global", "app.jobs.export")) == {"effect": "`export` -> `check` raises"}
    assert ask(index, "may-fail", ("global", "app.clients.save")) == {
        "effect": "`save` calls `Store.cursor().executemany` (database) outside any `try`"
    }
    assert ask(index, "may-fail", ("global", "app.clients.careful")) is None
    assert ask(index, "may-fail", ("global", "app.clients.validated")) is None  # raised inside the `try`
    assert ask(index, "may-fail", ("global", "app.clients.strict")) == {"effect": "`strict` raises"}
    assert ask(index, "may-fail", ("global", "app.clients.stub")) is None  # a method to override


def test_not_may_raise_is_yes_for_work_nothing_is_known_of():
    index = index_of(CLIENTS, JOBS)
    assert ask(index, "not", ("may-fail", ("global", "app.clients.careful"))) == {}
    assert ask(index, "not", ("may-fail", ("global", "app.jobs.export"))) is None


def test_one_module_alone_defers_and_the_whole_program_decides():
    alone = index_of(JOBS, final=False)
    assert ask(alone, "io-work", ("global", "app.jobs.notify"), "running") is DEFERRED_ANSWER
    assert ask(alone, "may-fail", ("global", "app.jobs.export")) is DEFERRED_ANSWER
    whole = index_of(JOBS, final=True)  # the clients module is not part of the program
    assert ask(whole, "io-work", ("global", "app.jobs.notify"), "running") is None


def test_a_method_of_a_class_the_index_cannot_order_is_its_own_body():
    index = index_of(
        (
            "app.cog",
            """
            import aiohttp

            from app.base import Mixin


            class Meta(type):
                pass


            class Cog(Mixin, metaclass=Meta):
                def __init__(self, session: aiohttp.ClientSession):
                    self.session = session

                async def unmute(self, channel):
                    await self.session.post(f"/channels/{channel}")

                async def unmute_all(self, channels):
                    return [self.unmute(c) for c in channels]
            """,
        )
    )
    assert ask(index, "io-work", ("attr", ("instance", ("def", "app.cog.Cog")), "unmute"), "running") == {
        "effect": "`Cog.unmute` calls `Cog.session.post` (network)"
    }


def test_io_kind_takes_the_longest_prefix_and_awaited_kinds_need_a_coroutine():
    assert io_kind("aiohttp.client.ClientSession.get") == "network"
    assert io_kind("aiohttp.web.json_response") is None  # "none": building a reply
    assert io_kind("discord.abc.GuildChannel.send") is None
    assert io_kind("discord.abc.GuildChannel.send", coroutine=True) == "network"
    assert io_kind("pathlib.Path.write_text") == "file"
    assert io_kind("os.path.join") is None


@pytest.mark.parametrize(
    "kind, message",
    [
        ("web", "io.'pkg' = 'web': a kind is one of network"),
        ("sometimes network", "io.'pkg' = 'sometimes network'"),
        ("awaited awaited network", "io.'pkg' = 'awaited awaited network'"),
    ],
)
def test_a_bad_io_kind_is_named(kind, message):
    with pytest.raises(OverlayError) as raised:
        parse_overlay({"io": {"pkg": kind}}, "overlay.toml")
    assert message in str(raised.value)


def test_an_awaited_kind_parses():
    assert parse_overlay({"io": {"pkg": "awaited database"}}).io == {"pkg": "awaited database"}


def test_a_package_the_io_table_names_is_external_in_one_module_unless_it_is_the_project():
    user = index_of(("bot.main", "import requests\n\ndef get(url):\n    requests.get(url)\n"), final=False)
    assert ask(user, "io-work", ("global", "bot.main.get"), "running") == {"effect": "`get` calls `requests.get` (network)"}
    own = index_of(("requests.sessions", "from requests import api\n\ndef get(url):\n    api.request(url)\n"), final=False)
    assert ask(own, "io-work", ("global", "requests.sessions.get"), "running") is DEFERRED_ANSWER


def test_the_per_item_spawn_of_a_call_is_judged_once_for_both_fan_out_rules(monkeypatch):
    from ffscan.semantic import fanout
    from helpers import found

    judged = []
    real = fanout._per_item_spawn
    monkeypatch.setattr(fanout, "_per_item_spawn", lambda semantic, node, loop: judged.append(node) or real(semantic, node, loop))
    text = textwrap.dedent("""\
        import asyncio
        import httpx

        async def fetch(client: httpx.AsyncClient, url):
            await client.get(url)

        async def crawl(client: httpx.AsyncClient, urls):
            for url in urls:
                asyncio.create_task(fetch(client, url))
    """)
    assert found(text, codes={"FF501", "FF503"}) == found(text, codes={"FF501"})
    judged.clear()
    found(text, codes={"FF501", "FF503"})
    assert len(judged) == len(set(map(id, judged))) == 2  # `create_task(...)` and `fetch(...)`, once each
