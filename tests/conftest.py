import sys
from pathlib import Path

# The helpers module sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser):
    parser.addoption(
        "--update-fixtures",
        action="store_true",
        help="rewrite snapshots (fixtures/FFnnn/fixed.py and report.txt, fixtures/fix_imports/*) from the current output",
    )
