"""Shared test helpers: run ffscan on text or files without the CLI."""

from __future__ import annotations

import io
import re
import sys
import tokenize
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional

from ffscan.config import Settings
from ffscan.engine.runner import FileResult, check_source
from ffscan.engine.sources import decode_source
from ffscan.model import Finding
from ffscan.semantic.environment import libraries_for
from ffscan.semantic.index import ProjectIndex
from ffscan.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ALL_CODES = frozenset(all_rules())
# What the parser says of `def handler(job)` without its colon (Python 3.10 made it precise).
MISSING_COLON = "invalid syntax" if sys.version_info < (3, 10) else "expected ':'"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>FF\d{3}(?:\s*,\s*FF\d{3})*)")


def check_text(
    text: str,
    path: str = "example.py",
    codes: Iterable[str] = ALL_CODES,
    settings: Optional[Settings] = None,
    module: str = "example",
) -> FileResult:
    """Check one file as `ffscan check <file>` does: what the module alone cannot decide is
    settled by the whole-program index of that one module."""
    source = decode_source(text.encode("utf-8"), path)
    result = check_source(source, settings or Settings(root=ROOT), frozenset(codes), module)
    if result.deferred and result.summary is not None:
        confirmed, _ = ProjectIndex([result.summary], libraries=libraries_for(settings or Settings(root=ROOT))).settle(result.deferred)
        result.findings = sorted([*result.findings, *confirmed], key=Finding.sort_key)
        result.deferred = []
    return result


def found(text: str, **kwargs) -> Counter:
    """Multiset of (line, code) that ffscan reports for `text`."""
    return Counter((f.start.line, f.code) for f in check_text(text, **kwargs).findings)


def expected(text: str) -> Counter:
    """Multiset of (line, code) from `# expect: FFnnn, FFnnn` comments (real comments only).

    Where the tokenizer gives up (Python 3.12's refuses more than 200 nested brackets, as the
    parser does), the rest of the file is read line by line: the annotation after the last `#`.
    """
    result: Counter = Counter()

    def add(line: int, comment: str) -> None:
        match = _EXPECT.search(comment)
        if match:
            for code in match.group("codes").split(","):
                result[(line, code.strip())] += 1

    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                add(token.start[0], token.string)
    except tokenize.TokenError as error:
        stopped = error.args[1][0] if len(error.args) > 1 else 1
        for number, line in enumerate(text.splitlines()[stopped - 1 :], start=stopped):
            if "#" in line:
                add(number, line[line.rindex("#") :])
    return result


def describe_mismatch(expected_set: Counter, found_set: Counter) -> str:
    lines = [f"missing: {line} {code}" for (line, code) in sorted((expected_set - found_set).elements())]
    lines += [f"unexpected: {line} {code}" for (line, code) in sorted((found_set - expected_set).elements())]
    return "\n".join(lines)


def snapshot(request, path: Path, text: str) -> None:
    """Compare `text` with the file at `path` byte for byte, or rewrite it under --update-fixtures."""
    data = text.encode("utf-8")
    if request.config.getoption("--update-fixtures"):
        path.write_bytes(data)
        return
    assert path.exists(), f"{path.relative_to(ROOT)} is missing; run pytest --update-fixtures"
    assert path.read_bytes() == data, f"{path.relative_to(ROOT)} differs; run pytest --update-fixtures and review the diff"


def make_wheel(folder: Path, name: str, version: str, files: dict) -> Path:
    """A pure-Python wheel of `files` (path -> text) in `folder`, for pip to install offline."""
    import zipfile

    info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    contents[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: ffscan-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{path},,\n" for path in contents) + f"{info}/RECORD,,\n"
    contents[f"{info}/RECORD"] = record
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return wheel
