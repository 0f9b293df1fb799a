"""The ticket report: one ticket per function, priority from evidence, the code's own fixes,
ids that survive reruns, `--split`, and the JSON grouping a tracker sync reads.

`docs/ticket-example.md` is the demo's ticket report; `pytest --update-fixtures` rewrites it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ffscan.cli import main
from ffscan.model import Edit, Location, RunResult
from ffscan.report import ReportContext, render
from ffscan.report import sarif
from ffscan.report.ticket import render_split, write_split
from ffscan.report.ticket.edits import apply_edits
from ffscan.report.ticket.frames import Sources, code_rows, render_rows
from ffscan.report.ticket.grouping import group_tickets
from ffscan.report.ticket.options import options
from ffscan.rules import all_rule_infos
from helpers import ROOT, check_text

EXAMPLE = ROOT / "docs" / "ticket-example.md"
EXAMPLE_HEADER = (
    "<!-- `ffscan check fixtures/demo --format ticket`, run from the repository root. "
    "tests/test_ticket.py keeps this file equal to it: `pytest --update-fixtures` rewrites it. -->\n\n"
)

ORDERS = """\
import asyncio

from app import db


async def send_receipt(order_id):
    await asyncio.open_connection(db.MAIL_HOST, 25)


async def record_audit(event, order_id):
    await asyncio.sleep(0)


async def create_order(request):
    order = {"id": request["id"]}
    asyncio.create_task(send_receipt(order["id"]))
    for item in request["items"]:
        asyncio.create_task(send_receipt(item["id"]))
    record_audit("order-created", order["id"])
    return order


async def cancel_order(order_id):
    refund = record_audit("cancelled", order_id)
    return order_id


asyncio.ensure_future(send_receipt(0))
"""
ORDER_CODES = {"FF101", "FF103", "FF201", "FF501"}


def context(root: Path = ROOT, version: str = "9.9.9") -> ReportContext:
    return ReportContext(rules=all_rule_infos(), root=root, version=version)


def result_of(text: str, path: str = "app/orders.py", codes=ORDER_CODES) -> RunResult:
    found = check_text(text, path=path, codes=codes, module="app.orders").findings
    return RunResult(findings=list(found), files_checked=1, selected=frozenset(codes))


def tickets_of(text: str, **kwargs):
    return group_tickets(result_of(text, **kwargs).findings, all_rule_infos())


def project(tmp_path: Path, text: str = ORDERS) -> Path:
    (tmp_path / "app").mkdir(parents=True, exist_ok=True)
    (tmp_path / "app" / "orders.py").write_text(text, encoding="utf-8")
    return tmp_path


# -- the demo, as a lead would paste it --------------------------------------------------------


def test_the_demo_ticket_report_is_docs_ticket_example(capsys, monkeypatch, request):
    monkeypatch.chdir(ROOT)
    code = main(["check", "fixtures/demo", "--format", "ticket"])
    out = capsys.readouterr().out
    assert code == 1
    if request.config.getoption("--update-fixtures"):
        EXAMPLE.write_text(EXAMPLE_HEADER + out, encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8") == EXAMPLE_HEADER + out, "run pytest --update-fixtures and read the diff"
    assert len(out.splitlines()) == 238  # 12 findings; the report this replaced took 740 lines


def test_the_demo_is_six_tickets_one_per_function_with_priorities_from_evidence(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    main(["check", "fixtures/demo", "--format", "json"])
    tickets = json.loads(capsys.readouterr().out)["tickets"]
    assert [(t["enclosing"], t["priority"], t["codes"], len(t["findings"])) for t in tickets] == [
        ("create_order", 1, ["FF101", "FF201", "FF501"], 5),
        ("cancel_order", 1, ["FF101", "FF103"], 2),
        ("start_refresh", 1, ["FF201"], 1),
        ("nightly_export", 1, ["FF301", "FF302"], 2),  # FF302 is on by default: its loss is certain
        ("refresh_recommendations", 2, ["FF401"], 1),  # loses the error, but FF401 is off by default
        ("restock_all", 3, ["FF502"], 1),  # nothing is lost for certain
    ]


def test_each_found_by_command_shows_its_ticket_again_as_it_is(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    main(["check", "fixtures/demo", "--format", "ticket"])
    report = capsys.readouterr().out
    sections = _sections(report)
    for ticket_id, section in sections.items():
        command = re.search(r"`(ffscan check [^`]+)` shows this ticket again", section).group(1)
        assert main(command.split()[1:]) == 1
        again = _sections(capsys.readouterr().out)
        assert again[ticket_id] == section, command


def _sections(report: str):
    """Ticket id -> its Markdown, from its heading to the next ticket's."""
    parts = re.split(r"^(?=## FFSCAN-)", report, flags=re.MULTILINE)
    return {re.match(r"## (FFSCAN-[0-9a-f]{8})", p).group(1): p.rstrip("\n") for p in parts[1:]}


# -- grouping and priority ----------------------------------------------------------------------


def test_findings_of_one_function_are_one_ticket_across_rules_with_issues_in_line_order():
    tickets = tickets_of(ORDERS)
    assert [(t.enclosing, [(i.number, i.line, i.finding.code) for i in t.issues]) for t in tickets] == [
        ("create_order", [(1, 16, "FF201"), (2, 18, "FF201"), (3, 18, "FF501"), (4, 19, "FF101")]),
        ("cancel_order", [(1, 24, "FF103")]),
        ("", [(1, 28, "FF201")]),  # the module level of the file is a ticket of its own
    ]
    assert [t.title for t in tickets] == [
        "`create_order`: 2 dropped tasks, unbounded task fan-out, unawaited coroutine",
        "`cancel_order`: coroutine bound but never awaited",
        "module level of `orders.py`: dropped task",
    ]


def test_priority_is_p1_only_for_certain_loss_by_a_rule_on_by_default():
    tickets = {t.enclosing: t for t in tickets_of(ORDERS)}
    assert (tickets["create_order"].priority, tickets["create_order"].reason) == (
        1,
        "task failures are never handled and coroutine work never runs, for certain; FF101 and FF201 are precise (on by default).",
    )
    fan_out_only = tickets_of(ORDERS, codes={"FF501"})
    assert [(t.priority, t.reason) for t in fan_out_only] == [
        (3, "nothing is lost for certain (FF501: unbounded task fan-out)."),
    ]
    swallowed = """\
import asyncio


async def job():
    try:
        await asyncio.sleep(1)
    except Exception:
        pass


def start():
    asyncio.ensure_future(job())
"""
    off = tickets_of(swallowed, codes={"FF401"})
    assert [(t.enclosing, t.priority, t.reason) for t in off] == [
        (
            "job",
            2,
            "background failures are swallowed, if the finding is right: FF401 is off by default (less precise), "
            "so confirm before scheduling.",
        ),
    ]


def test_ids_survive_lines_inserted_above_and_a_partial_fix():
    def ids(text):
        return [(t.id, [i.fingerprint for i in t.issues]) for t in tickets_of(text)]

    before = ids(ORDERS)
    shifted = ORDERS.replace("import asyncio\n", "import asyncio\nimport logging\n\nlog = logging.getLogger()\n")
    assert [t.issues[0].line for t in tickets_of(shifted)] == [19, 27, 31]
    assert ids(shifted) == before
    # The dropped receipt task is fixed: create_order keeps its id, and its other issues theirs.
    fixed = ORDERS.replace('    asyncio.create_task(send_receipt(order["id"]))', '    await send_receipt(order["id"])')
    (create_id, create_prints), *others = before
    assert ids(fixed) == [(create_id, create_prints[1:]), *others]
    assert re.fullmatch(r"FFSCAN-[0-9a-f]{8}", create_id) and len({i for i, _ in before}) == 3


def test_issue_ids_are_the_sarif_fingerprints():
    result = result_of(ORDERS)
    log = sarif.build(result, context())
    prints = {r["partialFingerprints"]["ffscan/v1"] for r in log["runs"][0]["results"]}
    assert {i.fingerprint for t in tickets_of(ORDERS) for i in t.issues} == prints


# -- the code shown, and the code rewritten -----------------------------------------------------


def test_problematic_code_is_the_function_as_in_the_file_with_issues_marked_in_the_gutter(tmp_path):
    ticket = next(t for t in tickets_of(ORDERS) if t.enclosing == "create_order")
    assert render_rows(code_rows(ticket, Sources(project(tmp_path)))) == [
        " 14       | async def create_order(request):",
        " 15       |     order = {\"id\": request[\"id\"]}",
        " 16 [1]   |     asyncio.create_task(send_receipt(order[\"id\"]))",
        " 17       |     for item in request[\"items\"]:",
        " 18 [2,3] |         asyncio.create_task(send_receipt(item[\"id\"]))",
        " 19 [4]   |     record_audit(\"order-created\", order[\"id\"])",
        " 20       |     return order",
    ]


def test_a_long_function_shows_its_header_and_each_issue_under_the_blocks_around_it(tmp_path):
    filler = "".join(f"    step_{n} = {n}\n" for n in range(20))
    text = (
        "import asyncio\n\n\n@route('/orders')\nasync def handler(items):\n"
        + filler
        + "    for item in items:\n        if item:\n            pass\n        else:\n"
        + "            asyncio.create_task(send(item))\n"
        + filler
    )
    ticket = tickets_of(text, codes={"FF201"})[0]
    assert render_rows(code_rows(ticket, Sources(project(tmp_path, text)))) == [
        "  4     | @route('/orders')",
        "  5     | async def handler(items):",
        "...     |",
        " 26     |     for item in items:",
        " 27     |         if item:",  # the statement an `else:` belongs to
        " 28     |             pass",  # a one-line gap is shown, not elided
        " 29     |         else:",
        " 30 [1] |             asyncio.create_task(send(item))",
    ]


def test_without_the_file_the_code_is_the_findings_own_lines(tmp_path):
    ticket = next(t for t in tickets_of(ORDERS) if t.enclosing == "create_order")
    expected = [
        " 16 [1]   |     asyncio.create_task(send_receipt(order[\"id\"]))",
        "...       |",
        " 18 [2,3] |         asyncio.create_task(send_receipt(item[\"id\"]))",
        " 19 [4]   |     record_audit(\"order-created\", order[\"id\"])",
    ]
    assert render_rows(code_rows(ticket, Sources(tmp_path))) == expected  # no file there
    changed = project(tmp_path, ORDERS.replace("    order = {", "    # a new comment\n    order = {"))
    assert render_rows(code_rows(ticket, Sources(changed))) == expected  # the file moved on since


def test_apply_edits_rewrites_exact_ranges_and_refuses_edits_outside_the_lines():
    lines = ["    refund = issue_refund(order_id)", "    log.info(refund)"]
    edits = [Edit.insertion(Location(10, 14), "await "), Edit.replacement(Location(11, 5), Location(11, 13), "print")]
    assert apply_edits(lines, 10, edits) == ["    refund = await issue_refund(order_id)", "    print(refund)"]
    track = [Edit.insertion(Location(10, 14), "track("), Edit.insertion(Location(10, 36), ")")]
    assert apply_edits(lines, 10, track) == ["    refund = track(issue_refund(order_id))", "    log.info(refund)"]
    assert apply_edits(lines, 10, [Edit.insertion(Location(11, 21), "\n    return")]) == [lines[0], lines[1], "    return"]
    with pytest.raises(ValueError):
        apply_edits(lines, 10, [Edit.insertion(Location(12, 1), "x")])
    with pytest.raises(ValueError):
        apply_edits(lines, 10, [Edit.insertion(Location(10, 37), "x")])


def test_the_options_rewrite_this_call_site_with_its_own_names():
    ticket = next(t for t in tickets_of(ORDERS) if t.enclosing == "create_order")
    option_a, option_b, minimum = options(ticket)
    rows = lambda option: [(row.line, row.text) for row in option.rows]
    assert rows(option_a) == [
        (16, '    background.spawn(send_receipt, order["id"])'),
        (18, '        background.spawn(send_receipt, item["id"])'),  # FF201 and FF501 agree on it
        (19, '    await record_audit("order-created", order["id"])'),
    ]
    assert (option_a.command, option_a.imports, option_a.uncovered) == ("ffscan fix --unsafe-fixes", [("ffscan.runtime", "background")], [])
    # on the event loop, the broker call goes through `enqueue`: `.delay()` would block it
    assert rows(option_b) == [(16, '    enqueue(send_receipt_task, order["id"])'), (18, '        enqueue(send_receipt_task, item["id"])')]
    assert option_b.imports == [("ffscan.runtime", "enqueue")]
    assert option_b.declarations == ["send_receipt_task = durable(send_receipt)"]
    assert [i.number for i in option_b.same_as_a] == [4]
    assert rows(minimum) == [
        (16, '    track(asyncio.create_task(send_receipt(order["id"])))'),
        (18, '        track(asyncio.create_task(send_receipt(item["id"])))'),
        (19, '    await record_audit("order-created", order["id"])'),
    ]
    assert ([i.number for i in minimum.uncovered], minimum.command) == ([3], "")  # track() does not bound the fan-out


def test_a_bound_coroutine_gets_its_await_and_no_queue_is_offered():
    ticket = next(t for t in tickets_of(ORDERS) if t.enclosing == "cancel_order")
    [only] = options(ticket)
    assert (only.title, [(r.line, r.text) for r in only.rows]) == ("", [(24, '    refund = await record_audit("cancelled", order_id)')])


def test_an_issue_without_a_fix_is_said_in_words_with_its_own_code(tmp_path):
    text = (
        "import asyncio\n\n\nasync def reserve(sku):\n    await asyncio.open_connection(sku, 5432)\n\n\n"
        "async def restock(skus):\n    await asyncio.gather(*[reserve(s) for s in skus])\n"
    )
    out = render("ticket", result_of(text, codes={"FF502"}), context(project(tmp_path, text)))
    assert (
        "- Issue 1 (line 9, `await asyncio.gather(*[reserve(s) for s in skus])`): bound the concurrency with a "
        "semaphore around each job ([FF502](https://github.com/ffscan/ffscan/blob/main/rules/FF502.md#fix))."
    ) in out.splitlines()


def test_shared_remedies_are_printed_once_at_the_top(tmp_path):
    out = render("ticket", result_of(ORDERS), context(project(tmp_path)))
    assert out.count("def durable(fn):") == 1 and out.count("**Option A, the tracked queue**") == 1
    assert out.index("## Remedies") < out.index("## FFSCAN-")
    assert 'send_receipt_task = durable(send_receipt)  # then: enqueue(send_receipt_task, order["id"])' in out


def test_no_findings_is_one_line():
    assert render("ticket", RunResult(files_checked=3), context()) == (
        "No fire-and-forget findings: ffscan 9.9.9 checked 3 files and found nothing to file.\n"
    )


def test_a_file_that_does_not_parse_is_a_p3_tooling_ticket_named_by_its_file(tmp_path):
    [finding] = check_text("def f(:\n    pass\n", path="legacy/old.py").findings
    [ticket] = group_tickets([finding], all_rule_infos())
    assert (ticket.title, ticket.priority, ticket.category) == ("`old.py`: file that does not parse", 3, "Tooling")
    out = render("ticket", RunResult(findings=[finding], files_checked=1), context(tmp_path))
    assert f"**Summary:** {finding.message} (`legacy/old.py`, line 1)." in out.splitlines()
    assert "- Issue 1 (line 1, `def f(:`): see [FF001](https://github.com/ffscan/ffscan/blob/main/rules/FF001.md#fix)." in out.splitlines()


# -- one file per ticket, and JSON -----------------------------------------------------------


def test_split_writes_one_file_per_ticket_and_an_index_and_drops_tickets_that_are_gone(tmp_path):
    root = project(tmp_path / "repo")
    files = render_split(result_of(ORDERS), context(root))
    ids = [t.id for t in tickets_of(ORDERS)]
    assert sorted(files) == sorted([f"{i}.md" for i in ids] + ["index.md"])
    for ticket in tickets_of(ORDERS):
        assert files[f"{ticket.id}.md"].startswith(f"# {ticket.id}: {ticket.title}\n")
        assert f"[{ticket.id}]({ticket.id}.md)" in files["index.md"]
    assert "## Remedies" in files["index.md"] and "durable` is under *Remedies* in [index.md](index.md#remedies)" in files[f"{ids[0]}.md"]
    out = tmp_path / "tickets"
    out.mkdir()
    (out / "FFSCAN-0000beef.md").write_text("an old ticket", encoding="utf-8")
    (out / "notes.md").write_text("not ours", encoding="utf-8")
    assert write_split(out, files) == (3, ["FFSCAN-0000beef.md"])
    assert sorted(p.name for p in out.iterdir()) == sorted([*files, "notes.md"])
    assert (out / "index.md").read_text(encoding="utf-8") == files["index.md"]


def test_cli_split_writes_the_files_and_refuses_other_formats(tmp_path, monkeypatch, capsys):
    root = project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.ffscan]\nextend-select = ['FF5']\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["check", "app", "--split", "tickets"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "ffscan: wrote 3 tickets and index.md to tickets\n"
    assert len(list((root / "tickets").glob("FFSCAN-*.md"))) == 3
    for flags, clash in ((["--format", "json"], "--format json"), (["-o", "report.md"], "-o")):
        assert main(["check", "app", "--split", "tickets", *flags]) == 2
        assert capsys.readouterr().err == (
            f"ffscan: error: --split writes the ticket report, one file per ticket; it does not go with {clash}\n"
        )
    assert not (root / "report.md").exists()


def test_json_carries_the_same_tickets_ids_and_fingerprints():
    result = result_of(ORDERS)
    document = json.loads(render("json", result, context()))
    tickets = tickets_of(ORDERS)
    assert [(t["id"], t["enclosing"], t["priority"], t["findings"]) for t in document["tickets"]] == [
        (t.id, t.enclosing, t.priority, [i.fingerprint for i in t.issues]) for t in tickets
    ]
    by_print = {f["fingerprint"]: f for f in document["findings"]}
    for ticket in document["tickets"]:
        assert {by_print[p]["ticket"] for p in ticket["findings"]} == {ticket["id"]}
        assert {by_print[p]["enclosing"] for p in ticket["findings"]} == {ticket["enclosing"]}
    assert document["tickets"][0]["found_by"] == "ffscan check --select FF101,FF201,FF501 app/orders.py --format ticket"
    assert len(by_print) == len(document["findings"]) == 6
