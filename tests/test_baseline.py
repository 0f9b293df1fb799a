"""`ffscan check --baseline PATH`: write it once, then report (and fail on) only new findings."""

from __future__ import annotations

import json

import pytest

from ffscan.cli import main

HANDLERS = """\
import asyncio


async def on_order(order):
    asyncio.create_task(send_receipt(order))


async def on_refund(refund):
    asyncio.create_task(notify(refund))
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(HANDLERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def check(capsys, *args):
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def reported(document):
    return [(f["start"]["line"], f["code"]) for f in document["findings"]]


def test_first_run_writes_the_baseline_and_passes(project, capsys):
    code, document, err = check(capsys, "--baseline", "ffscan-baseline.json")
    assert code == 0
    assert reported(document) == []
    assert (document["summary"]["baselined"], document["summary"]["baseline_stale"]) == (2, 0)
    assert err == "ffscan: wrote ffscan-baseline.json with 2 findings; commit it: later runs report only findings not in it\n"
    written = json.loads((project / "ffscan-baseline.json").read_text(encoding="utf-8"))
    assert (written["version"], written["fingerprint"], written["tool"]["name"]) == (1, "ffscan/v1", "ffscan")
    assert [(e["code"], e["path"], e["line"]) for e in written["findings"]] == [("FF201", "app.py", 5), ("FF201", "app.py", 9)]


def test_the_baseline_holds_the_same_fingerprints_as_sarif(project, capsys):
    check(capsys, "--baseline", "b.json")
    main(["check", "--format", "sarif", "--output-file", "out.sarif"])
    capsys.readouterr()
    sarif = json.loads((project / "out.sarif").read_text(encoding="utf-8"))
    sarif_prints = [r["partialFingerprints"]["ffscan/v1"] for r in sarif["runs"][0]["results"]]
    baseline = json.loads((project / "b.json").read_text(encoding="utf-8"))
    assert [e["fingerprint"] for e in baseline["findings"]] == sarif_prints


def test_code_moved_down_still_matches_the_baseline(project, capsys):
    check(capsys, "--baseline", "b.json")
    moved = '"""Order handlers."""\n# a comment\n\n' + HANDLERS.replace("async def on_refund", "\n\n\nasync def on_refund")
    (project / "app.py").write_text(moved, encoding="utf-8")
    code, document, err = check(capsys, "--baseline", "b.json")
    assert (code, reported(document), err) == (0, [], "")
    assert document["summary"]["baselined"] == 2
    code, document, _ = check(capsys)  # without the baseline the findings are still there, moved
    assert (code, reported(document)) == (1, [(8, "FF201"), (15, "FF201")])


def test_a_changed_line_is_a_new_finding_and_fails(project, capsys):
    check(capsys, "--baseline", "b.json")
    (project / "app.py").write_text(HANDLERS.replace("notify(refund)", "notify(refund, urgent=True)"), encoding="utf-8")
    code, document, _ = check(capsys, "--baseline", "b.json")
    assert code == 1
    assert reported(document) == [(9, "FF201")]
    assert (document["summary"]["baselined"], document["summary"]["baseline_stale"]) == (1, 1)
    code = main(["check", "--format", "concise", "--baseline", "b.json"])
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Found 1 finding in 1 file: 1 fixable with `ffscan fix`. 1 finding in the baseline not shown. "
        "1 baseline entry no longer found (`--update-baseline` drops them)."
    )


def test_a_second_identical_line_is_new_and_keeps_its_own_fingerprint(project, capsys):
    check(capsys, "--baseline", "b.json")
    twice = HANDLERS.replace(
        "    asyncio.create_task(send_receipt(order))\n",
        "    asyncio.create_task(send_receipt(order))\n    asyncio.create_task(send_receipt(order))\n",
    )
    (project / "app.py").write_text(twice, encoding="utf-8")
    code, document, _ = check(capsys, "--baseline", "b.json")
    assert (code, reported(document)) == (1, [(6, "FF201")])
    main(["check", "--format", "sarif", "--baseline", "b.json", "-o", "new.sarif"])
    main(["check", "--format", "sarif", "-o", "all.sarif"])
    capsys.readouterr()
    prints = lambda name: [r["partialFingerprints"]["ffscan/v1"] for r in json.loads((project / name).read_text())["runs"][0]["results"]]
    baselined = {e["fingerprint"] for e in json.loads((project / "b.json").read_text())["findings"]}
    # The SARIF of the filtered run names the new finding as an unfiltered run does, not as
    # the first of the identical lines (which is in the baseline).
    assert prints("new.sarif") == [prints("all.sarif")[1]]
    assert not set(prints("new.sarif")) & baselined


def test_update_baseline_rewrites_it(project, capsys):
    check(capsys, "--baseline", "b.json")
    (project / "app.py").write_text(HANDLERS.replace("notify(refund)", "notify(refund, urgent=True)"), encoding="utf-8")
    code, document, err = check(capsys, "--baseline", "b.json", "--update-baseline")
    assert (code, reported(document), document["summary"]["baseline_stale"]) == (0, [], 0)
    assert err.startswith("ffscan: wrote b.json with 2 findings")
    code, document, _ = check(capsys, "--baseline", "b.json")
    assert (code, reported(document)) == (0, [])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--update-baseline"], "ffscan: error: --update-baseline needs --baseline PATH\n"),
        (["--fix", "--baseline", "b.json"], "ffscan: error: --baseline applies to `ffscan check` without --fix\n"),
    ],
)
def test_flags_that_do_nothing_together_are_usage_errors(project, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", *args])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(message)
    assert not (project / "b.json").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not an ffscan baseline (invalid JSON: "),
        ('{"findings": []}', 'not an ffscan baseline (no "version"); see docs/baseline.md'),
        ('{"version": 2, "fingerprint": "ffscan/v2", "findings": []}', "written by a newer ffscan (baseline version 2); this one reads version 1"),
        ('{"version": 1, "fingerprint": "other", "findings": []}', "holds 'other' fingerprints, this ffscan computes 'ffscan/v1': rewrite it with --update-baseline"),
        ('{"version": 1, "fingerprint": "ffscan/v1", "findings": [{"fingerprint": "abc"}]}', 'findings[0] has no valid "fingerprint" (64 hex digits)'),
    ],
)
def test_a_bad_baseline_is_an_error_and_is_left_as_it_was(project, capsys, content, message):
    (project / "b.json").write_text(content, encoding="utf-8")
    code = main(["check", "--baseline", "b.json"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ffscan: error: --baseline b.json: " + message), err
    assert (project / "b.json").read_text(encoding="utf-8") == content


def test_an_incomplete_run_writes_no_baseline(project, capsys):
    code = main(["check", "app.py", "missing.py", "--baseline", "b.json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "b.json: not written: the run was incomplete" in err
    assert not (project / "b.json").exists()


def test_a_baseline_in_a_missing_folder_is_an_error(project, capsys):
    code = main(["check", "--baseline", "nowhere/b.json"])
    assert code == 2
    assert "cannot write: no such directory nowhere" in capsys.readouterr().err
