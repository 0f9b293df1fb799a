"""Fixes that import `ffscan.runtime` only where the project depends on ffscan to run.

The project's own metadata decides (pyproject.toml, setup.cfg, setup.py, runtime requirements
files), not the Python that runs `ffscan fix`: a library fixed in a developer's venv would
otherwise ship `from ffscan.runtime import ...` to users who never installed ffscan.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ffscan.cli import main
from ffscan.fix.dependency import declared_dependency

DROPPED_AND_UNAWAITED = '''import asyncio


async def send(user_id):
    await asyncio.sleep(0)


async def handler(user_id):
    asyncio.create_task(send(user_id))
    asyncio.sleep(1)
'''


@pytest.mark.parametrize(
    "files, declared, read",
    [
        ({"pyproject.toml": '[project]\nname = "app"\ndependencies = ["ffscan>=0.1"]\n'}, True, ("pyproject.toml",)),
        ({"pyproject.toml": '[project]\nname = "app"\ndependencies = ["ffscan[celery] ; python_version > \'3.8\'"]\n'}, True, ("pyproject.toml",)),
        ({"pyproject.toml": '[project]\nname = "app"\ndependencies = ["ffscan-extra", "requests"]\n'}, False, ("pyproject.toml",)),
        ({"pyproject.toml": '[project]\nname = "app"\n[project.optional-dependencies]\ndev = ["ffscan"]\n'}, False, ("pyproject.toml",)),
        ({"pyproject.toml": '[project]\nname = "FFScan"\n'}, True, ("pyproject.toml",)),
        ({"pyproject.toml": '[tool.poetry]\nname = "app"\n[tool.poetry.dependencies]\npython = "^3.9"\nffscan = "*"\n'}, True, ("pyproject.toml",)),
        ({"pyproject.toml": '[tool.poetry.group.dev.dependencies]\nffscan = "*"\n[tool.poetry.dependencies]\npython = "^3.9"\n'}, False, ("pyproject.toml",)),
        ({"setup.cfg": "[metadata]\nname = app\n[options]\ninstall_requires =\n    requests\n    FFScan==1.0\n"}, True, ("setup.cfg",)),
        ({"setup.cfg": "[metadata]\nname = app\n[options.extras_require]\ndev = ffscan\n"}, False, ("setup.cfg",)),
        ({"setup.py": 'from setuptools import setup\nsetup(name="app", install_requires=["requests", "ffscan"])\n'}, True, ("setup.py",)),
        ({"setup.py": 'from setuptools import setup\nsetup(name="app", tests_require=["ffscan"])\n'}, False, ("setup.py",)),
        ({"requirements.txt": "-r requirements/base.txt\n", "requirements/base.txt": "ffscan==1.0  # tracked jobs\n"}, True, ("requirements.txt", "requirements/base.txt")),
        ({"requirements.txt": "requests\n# ffscan\n", "requirements-dev.txt": "ffscan\n"}, False, ("requirements.txt",)),
    ],
)
def test_the_project_metadata_says_whether_ffscan_is_a_runtime_dependency(tmp_path, files, declared, read):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = declared_dependency(tmp_path)
    assert (found.declared, found.read) == (declared, read)


@pytest.mark.parametrize(
    "files",
    [{}, {"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, {"requirements-dev.txt": "ffscan\n"}, {"pyproject.toml": "[project\n"}],
)
def test_a_project_without_dependency_metadata_says_nothing(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert declared_dependency(tmp_path) is None


@pytest.fixture
def library(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mylib"\ndependencies = ["requests"]\n\n[tool.ffscan]\n')
    (tmp_path / "mylib").mkdir()
    (tmp_path / "mylib" / "__init__.py").write_text("")
    (tmp_path / "mylib" / "jobs.py").write_text(DROPPED_AND_UNAWAITED)
    return tmp_path


def test_runtime_fixes_are_refused_in_a_project_that_does_not_depend_on_ffscan(library, capsys):
    assert main(["fix", "--unsafe-fixes", "mylib"]) == 2
    text = (library / "mylib" / "jobs.py").read_text()
    assert "ffscan" not in text
    assert "    await asyncio.sleep(1)\n" in text  # a fix that imports nothing still applies
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "ffscan: not applied: fixes would import `ffscan.runtime`, but ffscan is not a runtime dependency of this "
        "project (pyproject.toml does not list it), so the fixed code would fail to import where it runs; add "
        "ffscan to its dependencies, or copy the runtime into the project with `ffscan fix --vendor mylib/_tracked` "
        "(or `ffscan vendor-runtime mylib/_tracked` and `[tool.ffscan.fix] runtime-module`)"
    )
    assert err[1] == (
        "mylib/jobs.py:9:5: FF201 not fixed: its fix imports `ffscan.runtime`, which the fixed code could not import where it runs (see above)"
    )
    assert err[2] == "Fixed 1 finding in 1 file; 1 left (see above)."


def test_vendor_copies_the_runtime_and_fixes_import_the_copy(library, capsys):
    assert main(["fix", "--unsafe-fixes", "--vendor", "mylib/_tracked", "mylib"]) == 0
    text = (library / "mylib" / "jobs.py").read_text()
    assert "from mylib._tracked import background\n" in text
    assert "    background.spawn(send, user_id)\n" in text
    assert (library / "mylib" / "_tracked" / "queue.py").is_file()
    err = capsys.readouterr().err
    assert err == (
        "Fixed 2 findings in 1 file, which adds `from mylib._tracked import background` to 1 file; copied the tracked "
        "runtime to mylib/_tracked/, which the fixes import as `mylib._tracked` (set `runtime-module = \"mylib._tracked\"` "
        "in [tool.ffscan.fix] so that later runs use it).\n"
    )
    # The fixed library runs where ffscan is not installed: only its own copy is imported.
    program = (
        "import sys; sys.modules['ffscan'] = None\n"
        "import asyncio, mylib.jobs\n"
        "asyncio.run(mylib.jobs.handler(1))\n"
        "print(sorted(name for name in sys.modules if name.startswith('mylib')))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=library, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "mylib._tracked" in done.stdout


def test_vendor_with_diff_writes_nothing(library, capsys):
    assert main(["fix", "--unsafe-fixes", "--diff", "--vendor", "mylib/_tracked", "mylib"]) == 1
    assert not (library / "mylib" / "_tracked").exists()
    out, err = capsys.readouterr()
    assert "+from mylib._tracked import background\n" in out
    assert "would copy the tracked runtime to mylib/_tracked/" in err


def test_vendor_refuses_to_replace_a_folder_that_is_not_a_copy(library, capsys):
    (library / "mylib" / "_tracked").mkdir()
    (library / "mylib" / "_tracked" / "__init__.py").write_text("# mine\n")
    assert main(["fix", "--unsafe-fixes", "--vendor", "mylib/_tracked", "mylib"]) == 2
    assert (library / "mylib" / "jobs.py").read_text() == DROPPED_AND_UNAWAITED
    assert (library / "mylib" / "_tracked" / "__init__.py").read_text() == "# mine\n"
    assert capsys.readouterr().err.splitlines()[0] == (
        "ffscan: not applied: mylib/_tracked exists and is not a copy of this ffscan's runtime; remove it, or replace it "
        "with `ffscan vendor-runtime mylib/_tracked --force`"
    )


def test_a_second_vendored_run_reuses_the_copy(library, capsys):
    assert main(["fix", "--vendor", "mylib/_tracked", "mylib"]) == 1  # the unawaited sleep needs --unsafe-fixes
    assert "    track(asyncio.create_task(send(user_id)))\n" in (library / "mylib" / "jobs.py").read_text()
    assert main(["fix", "--unsafe-fixes", "--vendor", "mylib/_tracked", "mylib"]) == 0
    text = (library / "mylib" / "jobs.py").read_text()
    assert "from mylib._tracked import background\n" in text and "track(" not in text


def test_a_configured_vendored_runtime_needs_no_ffscan_dependency(library):
    (library / "pyproject.toml").write_text(
        '[project]\nname = "mylib"\ndependencies = ["requests"]\n\n[tool.ffscan]\n\n[tool.ffscan.fix]\nruntime-module = "mylib._tracked"\n'
    )
    assert main(["vendor-runtime", "mylib/_tracked"]) == 0
    assert main(["fix", "--unsafe-fixes", "mylib"]) == 0
    assert "from mylib._tracked import background\n" in (library / "mylib" / "jobs.py").read_text()


def test_a_project_that_lists_ffscan_is_fixed(library):
    (library / "pyproject.toml").write_text('[project]\nname = "mylib"\ndependencies = ["ffscan"]\n\n[tool.ffscan]\n')
    assert main(["fix", "--unsafe-fixes", "mylib"]) == 0
    assert "from ffscan.runtime import background\n" in (library / "mylib" / "jobs.py").read_text()
