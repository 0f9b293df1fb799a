"""What a handler does with the failure it caught (semantic/reporting.py)."""

from __future__ import annotations

import ast

import pytest

from ffscan.semantic.reporting import is_log_call, logged_messages, reporter_call, sibling_reporter


def handler(body: str, clause: str = "except Exception as error:") -> ast.ExceptHandler:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return ast.parse(f"try:\n    work()\n{clause}\n{indented}\n").body[0].handlers[0]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "call, logs",
    [
        ("log.error(x)", True),
        ("self._log('debug', x)", True),
        ("self.log_failure(x)", True),
        ("logException(x)", True),
        ("traceback.print_exc()", True),
        ("print(x)", True),
        ("sys.stderr.write(x)", True),
        ("show_error_dialog(x)", False),  # tells the user
        ("catalog.add(x)", False),
        ("send_exception_to_crash_reporter(x)", False),
        ("out.write(x)", False),
    ],
)
def test_what_counts_as_logging(call, logs):
    assert is_log_call(ast.parse(call).body[0].value) is logs  # type: ignore[attr-defined]


def test_messages_match_across_spellings_of_their_placeholders():
    assert logged_messages(handler('log.error(f"Sync of {name} failed: {error}")')) == ("sync of {} failed: {}",)
    assert logged_messages(handler('log.error("sync of %s failed: %r", name, error)')) == ("sync of {} failed: {}",)
    assert logged_messages(handler('log.error("sync of {} failed: {}".format(name, error))')) == ("sync of {} failed: {}",)
    assert logged_messages(handler('log.error("sync of %s failed: %s" % (name, error))')) == ("sync of {} failed: {}",)


def test_a_message_of_one_word_names_no_failure():
    assert logged_messages(handler('log.error("Error: %s", error)\nlog.exception(error)')) == ()


def test_messages_come_in_the_order_they_are_logged_and_once():
    body = 'log.warning("first thing failed")\nif retry:\n    log.error("second thing failed")\nlog.warning("first thing failed")'
    assert logged_messages(handler(body)) == ("first thing failed", "second thing failed")


def test_a_reporter_is_a_statement_that_hands_on_the_caught_exception():
    found = reporter_call(handler('log.exception("died")\nif crash_reports:\n    util.send_to_reporter(error)'))
    assert found is not None and ast.unparse(found) == "util.send_to_reporter(error)"
    assert reporter_call(handler('log.exception("died")\nawait self.alerts.put(repr(error))')) is not None


@pytest.mark.parametrize(
    "body, clause",
    [
        ('log.exception("died")\nself.restart()', "except Exception as error:"),  # not handed on
        ('log.exception("died", exc_info=error)', "except Exception as error:"),  # logging
        ('if any(code in str(error) for code in CODES):\n    return', "except Exception as error:"),  # a test
        ('util.send_to_reporter(sys.exc_info())', "except Exception:"),  # binds no name
    ],
)
def test_what_is_not_a_reporter(body, clause):
    assert reporter_call(handler(body, clause)) is None


def test_a_sibling_handler_of_the_same_try_reports_what_it_expects():
    tree = ast.parse(
        "try:\n    send()\nexcept TimeoutError:\n    return\n"
        "except ConnectionError as e:\n    ui.failed.emit(repr(e))\nexcept Exception:\n    log.exception('send failed')\n"
    )
    try_node = tree.body[0]
    broad = try_node.handlers[2]  # type: ignore[attr-defined]
    other, call = sibling_reporter(try_node, broad)
    assert other.lineno == 5 and ast.unparse(call) == "ui.failed.emit(repr(e))"
    assert sibling_reporter(try_node, try_node.handlers[1]) is None  # type: ignore[attr-defined]
