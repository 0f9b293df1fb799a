"""Which parameters a function may keep past the call (FunctionFacts.keeps), as callers ask."""

from __future__ import annotations

from helpers import check_text

TEXT = '''
import asyncio

pending = []


def log_only(value, label):
    print(label, value)


def stores(value, label):
    pending.append(value)
    print(label)


def later(value, label):
    def run():
        print(value)
    return run


def twice(value):
    pending.append(value)
    pending.append(value)
'''


def keeps(name: str):
    return check_text(TEXT).summary.functions[f"example.{name}"].keeps


def test_a_parameter_only_looked_at_is_not_kept():
    assert keeps("log_only") == ()


def test_a_parameter_stored_is_kept():
    assert keeps("stores") == ("value",)


def test_a_nested_def_may_keep_every_parameter():
    assert keeps("later") == ("label", "value")


def test_a_parameter_read_twice_is_kept_once():
    assert keeps("twice") == ("value",)
