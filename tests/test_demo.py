"""The bundled demo service (the README's quick start) shows every rule family."""

from __future__ import annotations

import json

from ffscan.cli import main
from helpers import ROOT


def test_demo_reports_one_finding_per_bug_it_was_written_with(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["check", "fixtures/demo", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    found = sorted((f["path"], f["start"]["line"], f["code"]) for f in report["findings"])
    assert code == 1
    assert found == [
        ("fixtures/demo/shop/orders.py", 33, "FF201"),  # the receipt email
        ("fixtures/demo/shop/orders.py", 34, "FF201"),  # the recommendations job
        ("fixtures/demo/shop/orders.py", 38, "FF201"),
        ("fixtures/demo/shop/orders.py", 38, "FF501"),  # one reservation per line item, no bound
        ("fixtures/demo/shop/orders.py", 40, "FF101"),
        ("fixtures/demo/shop/orders.py", 47, "FF103"),
        ("fixtures/demo/shop/orders.py", 49, "FF101"),  # `db.audit`, an async def in db.py
        ("fixtures/demo/shop/orders.py", 54, "FF502"),
        ("fixtures/demo/shop/recommendations.py", 22, "FF401"),  # errors go to the console only
        ("fixtures/demo/shop/recommendations.py", 28, "FF201"),
        ("fixtures/demo/shop/reports.py", 23, "FF301"),
        ("fixtures/demo/shop/reports.py", 25, "FF302"),
    ]
    families = {c[2][:3] for c in found}
    assert families == {"FF1", "FF2", "FF3", "FF4", "FF5"}
