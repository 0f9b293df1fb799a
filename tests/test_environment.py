"""The project's environment: installed packages are summarised on first use, cached, and
preferred over the shipped catalogue. A real venv is made (pip installs local wheels, no
network)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ffscan.config import ConfigError, Settings, load_settings
from ffscan.engine import run_check
from ffscan.rules import rule_names
from ffscan.semantic import environment
from helpers import make_wheel

TINYASYNC = {
    "tinyasync/__init__.py": "from ._client import Client\n",
    "tinyasync/_client.py": "class Client:\n    async def send(self, data):\n        pass\n\n    def close(self):\n        pass\n",
}
# An installed httpx whose AsyncClient.get is a plain method: the shipped catalogue says
# otherwise, so a finding on `get` shows which one was read.
FAKE_HTTPX = {
    "httpx/__init__.py": "class AsyncClient:\n    def get(self, url):\n        return None\n\n    async def aclose(self):\n        pass\n",
}
APP = textwrap.dedent(
    """
    import httpx
    import tinyasync


    async def main(url):
        tinyasync.Client().send(b"x")
        tinyasync.Client().close()
        httpx.AsyncClient().get(url)
        httpx.AsyncClient().aclose()
    """
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    where = tmp_path_factory.mktemp("env")
    wheels = where / "wheels"
    make_wheel(wheels, "tinyasync", "1.0", TINYASYNC)
    make_wheel(wheels, "httpx", "0.0.1", FAKE_HTTPX)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-index", "--no-deps", "--find-links", str(wheels), "tinyasync", "httpx"],
        check=True,
    )
    return venv


@pytest.fixture
def project(tmp_path, venv, monkeypatch):
    (tmp_path / "ffscan.toml").write_text(f'select = ["FF1"]\npython = "{venv}"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    environment._loader.cache_clear()  # a new run: nothing remembered in this process
    yield tmp_path
    environment._loader.cache_clear()


def findings(folder: Path):
    settings = load_settings(folder / "ffscan.toml", folder, rule_names())
    result = run_check(["."], settings, jobs=1)
    assert result.errors == []
    return sorted((f.start.line, f.code) for f in result.findings)


def cached(folder: Path):
    return sorted(p.name.split("-")[0] for p in (folder / ".ffscan_cache" / "libraries").glob("*.json.gz"))


def test_installed_packages_are_read_and_preferred_over_the_catalogue(project):
    # send (line 7) is a coroutine of the installed tinyasync; the installed httpx's get is
    # sync, aclose async (line 10)
    assert findings(project) == [(7, "FF101"), (10, "FF101")]
    assert cached(project) == ["httpx", "tinyasync"]


def test_without_an_environment_the_shipped_catalogue_answers(project):
    (project / "ffscan.toml").write_text('select = ["FF1"]\n', encoding="utf-8")
    assert findings(project) == [(9, "FF101"), (10, "FF101")]  # tinyasync is unknown, httpx shipped


def test_a_second_run_reads_the_cache(project, monkeypatch):
    findings(project)
    environment._loader.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("summarised again")

    monkeypatch.setattr(environment, "summarize_package", refuse)
    monkeypatch.setattr(environment.subprocess, "run", refuse)  # sys.path is remembered too
    assert findings(project) == [(7, "FF101"), (10, "FF101")]


def test_a_corrupt_cache_entry_is_rebuilt(project):
    findings(project)
    entry = next((project / ".ffscan_cache" / "libraries").glob("tinyasync-*.json.gz"))
    entry.write_bytes(b"not gzip")
    environment._loader.cache_clear()
    assert findings(project) == [(7, "FF101"), (10, "FF101")]
    assert environment.loads(entry.read_bytes())[0].module == "tinyasync"


def test_an_edited_package_gets_a_new_entry(project, venv):
    findings(project)
    site = next(venv.glob("lib/python*/site-packages"))
    client = site / "tinyasync" / "_client.py"
    client.write_text(TINYASYNC["tinyasync/_client.py"].replace("async def send", "def send"), encoding="utf-8")
    try:
        environment._loader.cache_clear()
        assert findings(project) == [(10, "FF101")]
        assert cached(project) == ["httpx", "tinyasync"]  # the old entry is replaced, not kept
    finally:
        client.write_text(TINYASYNC["tinyasync/_client.py"], encoding="utf-8")


def test_a_venv_beside_the_configuration_is_found(tmp_path, venv):
    (tmp_path / ".venv").symlink_to(venv)
    assert environment.find_interpreter(Settings(root=tmp_path)) == tmp_path / ".venv" / "bin" / "python"


def test_the_active_virtualenv_is_the_last_resort(tmp_path, venv, monkeypatch):
    assert environment.find_interpreter(Settings(root=tmp_path)) is None
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    assert environment.find_interpreter(Settings(root=tmp_path)) == venv / "bin" / "python"


def test_a_configured_interpreter_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as raised:
        environment.libraries_for(Settings(root=tmp_path, python=tmp_path / "nowhere"))
    assert str(raised.value) == f"`python`: {tmp_path / 'nowhere'} is neither a Python interpreter nor a virtual environment"


def test_an_interpreter_that_cannot_answer_leaves_the_catalogue(tmp_path, monkeypatch):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho broken >&2\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    environment._loader.cache_clear()
    libraries = environment.libraries_for(Settings(root=tmp_path, python=broken))
    with pytest.warns(UserWarning, match=r"did not report its sys.path \(broken\); using the shipped catalogue"):
        assert libraries("httpx") == environment.shipped("httpx")
    environment._loader.cache_clear()


def test_the_cli_takes_python(tmp_path, venv, monkeypatch, capsys):
    from ffscan.cli import main

    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    environment._loader.cache_clear()
    code = main(["check", ".", "--select", "FF101", "--python", str(venv), "--format", "concise", "-q"])
    environment._loader.cache_clear()
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert [line.split(" ", 2)[:2] for line in lines if "FF101" in line] == [["app.py:7:5:", "FF101"], ["app.py:10:5:", "FF101"]]


def test_two_runs_at_once_share_one_cache(project):
    command = [sys.executable, "-m", "ffscan", "check", ".", "--format", "concise", "-q"]
    runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [1, 1]
    assert outputs[0] == outputs[1]
    assert [line.split(":")[1] for line in outputs[0][0].splitlines() if "FF101" in line] == ["7", "10"]
    assert cached(project) == ["httpx", "tinyasync"]
    leftovers = [p.name for p in (project / ".ffscan_cache" / "libraries").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
