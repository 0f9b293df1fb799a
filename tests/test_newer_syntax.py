"""Syntax newer than the running Python: a notice (not checked, exit code unaffected), unless it
is newer than the project's target version or the file has a real error, which are FF001."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ffscan.cli import main
from ffscan.config import ConfigError, Settings, load_settings, minimum_python
from ffscan.engine.newer_syntax import downgrade
from helpers import FIXTURES, MISSING_COLON, ROOT, check_text

RUNNING = sys.version_info[:2]
MODULE = ROOT / "ffscan" / "engine" / "newer_syntax.py"

# name: (source, the oldest Python that parses it or None for a real error, what is reported,
#        the versions of all its newer constructs)
SNIPPETS = {
    "match": ("match command.split():\n    case [action, *rest] if rest:\n        pass\n    case {'k': v, **kw}:\n        pass\n    case Point(x=0) | None:\n        pass\n", (3, 10), "a `match` statement", ((3, 10),)),
    "match_tuple_subject": ("match x,:\n    case y,:\n        z = 0\n", (3, 10), "a `match` statement", ((3, 10),)),
    "match_multiline_pattern": ("match p.kind:\n    case (\n        Kind.A\n        | Kind.B\n    ):\n        pass\n", (3, 10), "a `match` statement", ((3, 10),)),
    "walrus_in_index": ("a[b:=0]\n", (3, 10), "an unparenthesized `:=` in an index", ((3, 10),)),
    "except_star": ("try:\n    pass\nexcept* ValueError as e:\n    pass\n", (3, 11), "`except*`", ((3, 11),)),
    "star_index": ("a[*b]\n", (3, 11), "a star expression in an index", ((3, 11),)),
    "star_annotation": ("def f(*args: *Ts): pass\n", (3, 11), "a star annotation", ((3, 11),)),
    "type_alias": ("type X[T] = list[T]\n", (3, 12), "a `type` alias statement", ((3, 12),)),
    "type_alias_in_class": ("class A:\n    type X = int\n", (3, 12), "a `type` alias statement", ((3, 12),)),
    "generic_def": ("def f[T: int, *Ts, **P](x: T) -> T:\n    return x\n", (3, 12), "a type parameter list", ((3, 12),)),
    "generic_multiline": ("def g[T, *Ts, **P](\n    x: T, *y: *Ts, z: P.args\n) -> None: ...\n", (3, 12), "a type parameter list", ((3, 12), (3, 11))),
    "generic_class": ("class C[T](Base):\n    pass\n", (3, 12), "a type parameter list", ((3, 12),)),
    "fstring_quote": ('x = f"{d["k"]}"\n', (3, 12), "an f-string that reuses its quotes inside a replacement field", ((3, 12),)),
    "fstring_backslash": ("x = f\"{'\\n'.join(a)}\"\n", (3, 12), "an f-string that holds a backslash in a replacement field", ((3, 12),)),
    "fstring_comment": ("x = f'''{a # why\n}'''\n", (3, 12), "an f-string that holds a comment", ((3, 12),)),
    "fstring_nested": ('x = f"{f"{f"{1}"}"}"\n', (3, 12), "an f-string that reuses its quotes inside a replacement field", ((3, 12),)),
    "fstring_conversion_blank": ('x = f"{3!s  }"\n', (3, 12), "an f-string that has blanks after its `!` conversion", ((3, 12),)),
    "fstring_spec_depth": ("x = f'{a:{b:{c}}}'\n", (3, 12), "an f-string that nests format specs more than two deep", ((3, 12),)),
    "old_strings_then_alias": ("x = fr'\\{a}'\ny = f\"\\N{EM DASH}{b}\"\nz = f'{a:{b}}'\ntype X = int\n", (3, 12), "a `type` alias statement", ((3, 12),)),
    "type_default": ("def f[T = int](): pass\n", (3, 13), "a type parameter default", ((3, 13),)),
    "except_unparenthesized": ("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", (3, 14), "exception types without parentheses", ((3, 14),)),
    "t_string": ('x = t"hi {name}"\n', (3, 14), "a t-string", ((3, 14),)),
    "lazy_import": ("lazy import json\nlazy from os import path\n", (3, 15), "a `lazy` import", ((3, 15), (3, 15))),
    "comprehension_unpacking": ("flat = [*row for row in rows]\n", (3, 15), "unpacking in a comprehension", ((3, 15),)),
    "newest_wins": ("type X = int\nx = t'{X}'\n", (3, 14), "a t-string", ((3, 12), (3, 14))),
    "real_error": ("def f(:\n    pass\n", None, None, ()),
    "real_error_below_newer_syntax": ("type X = int\n\n\ndef handler(request)\n    return request\n", None, None, ()),
    "python2": ("print 'x'\n", None, None, ()),
}

_PROBE = r"""
import ast, importlib.util, json, sys, warnings
warnings.simplefilter("ignore")
spec = importlib.util.spec_from_file_location("newer_syntax", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["newer_syntax"] = module
spec.loader.exec_module(module)
def parses(text):
    try:
        ast.parse(text)
        return True
    except SyntaxError:
        return False
out = {}
for name, text in json.load(sys.stdin).items():
    found = module.downgrade(text)
    out[name] = {"parses": parses(text), "downgrade": None if found is None else {
        "version": list(found.version), "what": found.newest().what, "count": len(found.constructs),
        "parses": parses(found.text), "same_shape": len(found.text) == len(text)
            and [i for i, c in enumerate(found.text) if c in "\r\n"] == [i for i, c in enumerate(text) if c in "\r\n"],
    }}
print(json.dumps({"version": list(sys.version_info[:2]), "results": out}))
"""


def _interpreters():
    """Every CPython 3.9+ on this machine, one per minor version (this one first)."""
    found = {RUNNING: sys.executable}
    candidates = [shutil.which(f"python3.{minor}") for minor in range(9, 16)]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.*" / "bin" / "python3")))
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run([candidate, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue  # a shim that names no installed interpreter: not one of ours
        if done.returncode == 0:
            version = tuple(int(part) for part in done.stdout.split())
            if version >= (3, 9):
                found.setdefault(version, candidate)
    return sorted(found.items())


@pytest.mark.parametrize("version, interpreter", _interpreters(), ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else "")
def test_downgrade_agrees_with_each_installed_python(version, interpreter):
    snippets = {name: source for name, (source, *_rest) in SNIPPETS.items()}
    done = subprocess.run([interpreter, "-c", _PROBE, str(MODULE)], input=json.dumps(snippets), capture_output=True, text=True, timeout=120, check=True)
    results = json.loads(done.stdout)["results"]
    for name, (_source, needs, what, versions) in SNIPPETS.items():
        count = sum(1 for v in versions if v > version)
        result = results[name]
        if needs is None:
            assert not result["parses"], name
            assert result["downgrade"] is None or not result["downgrade"]["parses"], f"{name}: a real error must stay one"
        elif version >= needs:
            assert result["parses"], f"{name} should parse on {version} (the table says it needs {needs})"
        else:
            assert not result["parses"], f"{name} should not parse on {version}"
            found = result["downgrade"]
            assert found is not None, name
            assert (tuple(found["version"]), found["what"], found["count"]) == (needs, what, count), name
            assert found["parses"] and found["same_shape"], name


def test_the_real_error_below_newer_syntax_keeps_its_position():
    if RUNNING >= (3, 12):
        pytest.skip("this Python parses `type` statements")
    result = check_text(SNIPPETS["real_error_below_newer_syntax"][0], codes={"FF001"})
    assert [(f.code, f.start.line, f.start.column, f.message) for f in result.findings] == [
        ("FF001", 4, 21, f"File does not parse: {MISSING_COLON}")
    ]
    assert result.notices == []


# -- which Python parses it, against the target version -------------------------------------------

NEWER = [(needs, name) for name, (_s, needs, _w, versions) in SNIPPETS.items() if needs and needs > RUNNING and versions == (needs,)]


def _newer_snippet():
    if not NEWER:
        pytest.skip("no snippet needs a Python newer than this one")
    needs, name = min(NEWER)
    return needs, SNIPPETS[name][0], SNIPPETS[name][2]


def _dotted(version):
    return f"{version[0]}.{version[1]}"


def test_without_a_target_newer_syntax_is_a_notice_not_a_finding():
    needs, source, what = _newer_snippet()
    result = check_text(source, path="app/new.py")
    assert result.findings == []
    (notice,) = result.notices
    assert (notice.path, notice.kind, notice.requires) == ("app/new.py", "newer-syntax", _dotted(needs))
    assert notice.message == (
        f"not checked: {what} needs Python {_dotted(needs)} and ffscan runs on {_dotted(RUNNING)}; "
        f"run ffscan on Python {_dotted(needs)} or newer to check this file"
    )


def test_newer_syntax_within_the_target_is_a_notice():
    needs, source, _what = _newer_snippet()
    result = check_text(source, settings=Settings(root=ROOT, target_version=needs, target_source="`target-version` in x"))
    assert (result.findings, [n.requires for n in result.notices]) == ([], [_dotted(needs)])


def test_syntax_newer_than_the_target_is_ff001():
    needs, source, what = _newer_snippet()
    target = (needs[0], needs[1] - 1)
    settings = Settings(root=ROOT, target_version=target, target_source="`requires-python` in pyproject.toml")
    result = check_text(source, settings=settings, codes={"FF001"})
    assert result.notices == []
    assert [f.message for f in result.findings] == [
        f"File does not parse: {what} needs Python {_dotted(needs)}; "
        f"the target is Python {_dotted(target)} (`requires-python` in pyproject.toml)"
    ]


def test_syntax_this_python_parses_but_the_target_does_not_is_ff001():
    if RUNNING < (3, 10):
        pytest.skip("needs a Python that parses `match`")
    source = "match x:\n    case 1:\n        pass\n"
    settings = Settings(root=ROOT, target_version=(3, 9), target_source="`target-version` in ffscan.toml")
    result = check_text(source, settings=settings, codes={"FF001"})
    assert [(f.start.line, f.message) for f in result.findings] == [
        (3, "File does not parse: Pattern matching is only supported in Python 3.10 and greater; "
            "the target is Python 3.9 (`target-version` in ffscan.toml)")
    ]
    assert check_text(source, settings=Settings(root=ROOT, target_version=(3, 10)), codes={"FF001"}).findings == []


def test_soft_keywords_as_names_stay_fine_with_an_old_target():
    source = "match = re.match(p, s)\ncase = type = _ = 1\nprint(match, case, type)\n"
    result = check_text(source, settings=Settings(root=ROOT, target_version=(3, 7)))
    assert (result.findings, result.notices) == ([], [])


def test_downgrade_ignores_constructs_this_python_parses():
    assert downgrade("x = t'{y}'\n", running=(3, 14)) is None
    found = downgrade("type X = int\nx = t'{y}'\n", running=(3, 12))
    assert [(c.version, c.line, c.column) for c in found.constructs] == [((3, 14), 2, 5)]


# -- target-version and requires-python, as Ruff reads them ---------------------------------------


@pytest.mark.parametrize(
    "requires, minimum",
    [
        (">=3.12", (3, 12)),
        (">=3.9.2", (3, 9)),
        (">3.9", (3, 9)),
        ("~=3.10.1", (3, 10)),
        ("==3.11.*", (3, 11)),
        (">=3.10, <4", (3, 10)),
        ("<4,>=3.8", (3, 8)),
        (">=3.13,>=3.11", (3, 11)),
        ("<3.12", None),
        ("!=3.9.*", None),
        (">=2.7", None),
        (">=3", None),
        ("anything", None),
    ],
)
def test_minimum_python_of_requires_python(requires, minimum):
    assert minimum_python(requires) == minimum


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_target_version_wins_over_requires_python(tmp_path):
    config = _write(tmp_path / "pyproject.toml", '[project]\nrequires-python = ">=3.9"\n[tool.ffscan]\ntarget-version = "py312"\n')
    settings = load_settings(config, tmp_path)
    assert (settings.target_version, settings.target_source) == ((3, 12), f"`target-version` in {config}")


def test_requires_python_of_the_configuration_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "pyproject.toml", '[project]\nrequires-python = ">=3.12"\n[tool.ffscan]\n')
    settings = load_settings(Path("pyproject.toml"), tmp_path)
    assert (settings.target_version, settings.target_source) == ((3, 12), "`requires-python` in pyproject.toml")


def test_ffscan_toml_takes_requires_python_from_the_pyproject_beside_or_above(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "pyproject.toml", '[project]\nrequires-python = ">=3.11"\n')
    config = _write(tmp_path / "service" / "ffscan.toml", "select = ['FF2']\n")
    settings = load_settings(config, tmp_path)
    assert (settings.target_version, settings.target_source) == ((3, 11), "`requires-python` in pyproject.toml")


def test_without_configuration_the_nearest_requires_python_above_the_checked_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "pyproject.toml", '[project]\nrequires-python = ">=3.13"\n')
    _write(tmp_path / "lib" / "pyproject.toml", "[project\nnot toml")  # passed over, as Ruff does
    settings = load_settings(None, tmp_path, search_from=tmp_path / "lib" / "pkg")
    assert settings.target_version == (3, 13)
    bare = tmp_path / "elsewhere"
    bare.mkdir()
    assert load_settings(None, bare, search_from=Path("/")).target_version is None


@pytest.mark.parametrize(
    "value, message",
    [
        ('"3.12"', 'must be one of "py37" to "py315", got \'3.12\'; did you mean `py312`?'),
        ('"py36"', 'must be one of "py37" to "py315", got \'py36\''),
        ("312", 'must be one of "py37" to "py315", got 312'),
    ],
)
def test_a_bad_target_version_is_a_config_error(tmp_path, value, message):
    config = _write(tmp_path / "ffscan.toml", f"target-version = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config, tmp_path)
    assert str(error.value).startswith(f"{config}: `target-version` {message}")


def test_requires_python_must_be_a_string(tmp_path):
    config = _write(tmp_path / "pyproject.toml", "[project]\nrequires-python = 3.12\n[tool.ffscan]\n")
    with pytest.raises(ConfigError, match="`project.requires-python` must be a string, got 3.12"):
        load_settings(config, tmp_path)


# -- what each report shows, on a project for Python 3.12 -----------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES / "newer_syntax", tmp_path / "project")
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path / "project"


NOT_CHECKED = [
    ("app/aliases.py", 3, 1, "a `type` alias statement"),
    ("app/decorators.py", 5, 11, "a type parameter list"),
    ("app/messages.py", 2, 12, "an f-string that reuses its quotes inside a replacement field"),
]


def _needs_an_older_python():
    if RUNNING >= (3, 12):
        pytest.skip("this Python parses the project's 3.12 syntax")


def test_text_report_prints_notices_on_stderr_and_exits_on_findings_only(project, capsys):
    _needs_an_older_python()
    code = main(["check", "--format", "concise"])
    out, err = capsys.readouterr()
    assert code == 1  # broken.py (FF001) and jobs.py (FF201); the notices do not count
    assert out.splitlines() == [
        f"app/broken.py:4:21: FF001 File does not parse: {MISSING_COLON}",
        "app/jobs.py:5:5: FF201 Task from `asyncio.create_task` is dropped; it can be garbage-collected mid-flight, and its error is never handled (the loop only logs it when the task is freed)",
        "Found 2 findings in 2 files: 1 fixable with `ffscan fix`. 3 files not checked: newer Python syntax (see the notices).",
    ]
    running = _dotted(RUNNING)
    assert err.splitlines() == [
        f"ffscan: notice: {path}:{line}:{column}: not checked: {what} needs Python 3.12 and ffscan runs on {running}; "
        "run ffscan on Python 3.12 or newer to check this file"
        for path, line, column, what in NOT_CHECKED
    ]
    assert main(["check", "--format", "concise", "-q"]) == 1
    assert capsys.readouterr().err == ""


def test_notices_alone_leave_the_exit_code_at_zero(project, capsys):
    _needs_an_older_python()
    assert main(["check", "app/aliases.py", "app/decorators.py", "app/messages.py"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "All checks passed! 3 files not checked: newer Python syntax (see the notices)."


def test_json_report_has_a_notices_array(project, capsys):
    _needs_an_older_python()
    main(["check", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["notices"] == 3
    assert [(n["path"], n["line"], n["column"], n["kind"], n["requires"]) for n in document["notices"]] == [
        (path, line, column, "newer-syntax", "3.12") for path, line, column, _what in NOT_CHECKED
    ]


def test_sarif_reports_notices_as_notifications(project, capsys):
    _needs_an_older_python()
    main(["check", "--format", "sarif"])
    log = json.loads(capsys.readouterr().out)
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(log, schema)
    invocation = log["runs"][0]["invocations"][0]
    notes = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "note"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == [p for p, *_ in NOT_CHECKED]
    assert {n["descriptor"]["id"] for n in notes} == {"newer-syntax"}
    assert invocation["executionSuccessful"] is True
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"FF001", "FF201"}


def test_github_annotations_show_notices(project, capsys):
    _needs_an_older_python()
    main(["check", "--format", "github"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::notice")]
    assert [line.split("::")[1] for line in lines] == [
        f"notice file={path},line={line},col={column},title=ffscan notice" for path, line, column, _ in NOT_CHECKED
    ]


# -- the real-world corpus ------------------------------------------------------------------------

CORPUS = ROOT.parent / "eval-corpus" / "mitmproxy__mitmproxy"


def test_the_five_pep_695_files_of_the_corpus_are_notices(monkeypatch, capsys):
    _needs_an_older_python()
    if not (CORPUS / "pyproject.toml").is_file():
        pytest.skip(f"the real-world corpus is not checked out at {CORPUS} (../shared/realworld/materialize.sh)")
    monkeypatch.chdir(CORPUS)
    code = main(["check", "--format", "json", "--select", "FF0"])
    document = json.loads(capsys.readouterr().out)
    assert (code, document["findings"]) == (0, [])
    notices = [(n["path"], n["requires"]) for n in document["notices"]]
    # Below 3.10 the corpus's `match` statements are newer syntax too.
    assert all(tuple(int(part) for part in requires.split(".")) > RUNNING for _, requires in notices)
    assert [notice for notice in notices if notice[1] == "3.12"] == [
        ("mitmproxy/contentviews/_api.py", "3.12"),
        ("mitmproxy/contentviews/_utils.py", "3.12"),
        ("mitmproxy/contentviews/_view_image/image_parser.py", "3.12"),
        ("mitmproxy/net/dns/https_records.py", "3.12"),
        ("mitmproxy/tools/web/app.py", "3.12"),
    ]


def test_fix_runs_print_the_notices_too(project, capsys):
    _needs_an_older_python()
    assert main(["fix", "--diff"]) == 1
    notices = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ffscan: notice: ")]
    assert len(notices) == len(NOT_CHECKED)
    assert main(["check", "--fix", "--diff"]) == 1
    assert len([line for line in capsys.readouterr().err.splitlines() if line.startswith("ffscan: notice: ")]) == len(NOT_CHECKED)
