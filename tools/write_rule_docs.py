"""Write `rules/FFnnn.md` (one per rule) and `rules/README.md` from the rule docstrings.

    python tools/write_rule_docs.py          # rewrite the docs
    python tools/write_rule_docs.py --check  # exit 1 if any doc is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ffscan.report.rule_docs import rendered_docs
from ffscan.rules import all_rule_infos

DOCS_DIR = Path(__file__).resolve().parents[1] / "rules"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report docs that are out of date")
    args = parser.parse_args(argv)
    wanted = rendered_docs(all_rule_infos().values())
    stale = [name for name, text in wanted.items() if _read(DOCS_DIR / name) != text]
    extra = sorted(p.name for p in DOCS_DIR.glob("*.md") if p.name not in wanted)
    if args.check:
        for name in stale + extra:
            print(f"out of date: rules/{name}", file=sys.stderr)
        return 1 if stale or extra else 0
    DOCS_DIR.mkdir(exist_ok=True)
    for name in stale:
        (DOCS_DIR / name).write_text(wanted[name], encoding="utf-8")
    for name in extra:
        (DOCS_DIR / name).unlink()
    return 0


def _read(path: Path):
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())
