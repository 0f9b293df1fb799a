"""action.yml, the composite GitHub Action: its shape, and its shell steps run for real.

GitHub's runner cannot run here, so the steps' `run` scripts are run with bash the way the
runner does (`bash -e {0}` semantics aside: each script sets its own options), with the
environment their `env:` blocks give them, and `GITHUB_OUTPUT` pointing at a file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ffscan

yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit (the `test` extra)")

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {step.get("id") or step["name"]: step for step in ACTION["runs"]["steps"]}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def expand(value: str, inputs: dict, outputs: dict) -> str:
    """Evaluate the two expression forms the action uses in `env:`; anything else fails the test."""

    def one(match):
        expression = match.group(1)
        kind, _, rest = expression.partition(".")
        if kind == "inputs":
            return inputs[rest]
        step, _, name = rest.partition(".outputs.")
        if kind == "steps" and name:
            return outputs[step][name]
        raise AssertionError(f"unexpected expression {expression!r}")

    return EXPRESSION.sub(one, value)


def inputs_with(**overrides) -> dict:
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return values


def run_step(step_id: str, inputs: dict, outputs: dict, tmp_path: Path, path_prefix: str = "", cwd: Path = ROOT):
    """Run one `run:` step in bash; return (exit code, stdout, the outputs it wrote)."""
    step = STEPS[step_id]
    output_file = tmp_path / f"{step_id}.output"
    output_file.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FFSCAN"))}
    env.update({key: expand(value, inputs, outputs) for key, value in step.get("env", {}).items()})
    env.update(GITHUB_OUTPUT=str(output_file), RUNNER_TEMP=str(tmp_path))
    env["FFSCAN_NO_CACHE"] = "1"  # no `.ffscan_cache` in the checkout's fixtures
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env["PATH"]
    done = subprocess.run(["bash", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    written = dict(line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if line)
    return done.returncode, done.stdout + done.stderr, written


# -- the shape ------------------------------------------------------------------------------


def test_action_is_composite_with_the_documented_inputs_and_outputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {name: spec.get("default") for name, spec in ACTION["inputs"].items()} == {
        "version": ffscan.__version__,  # the current release
        "args": "check",
        "python-version": "3.13",
        "sarif-file": "ffscan.sarif",
        "upload": "true",
        "category": "ffscan",
        "fail-on-findings": "true",
    }
    assert all(spec.get("description") and spec.get("required") is False for spec in ACTION["inputs"].values())
    assert ACTION["outputs"] == {
        "exit-code": {"description": ACTION["outputs"]["exit-code"]["description"], "value": "${{ steps.run.outputs.exit-code }}"},
        "sarif-file": {"description": ACTION["outputs"]["sarif-file"]["description"], "value": "${{ steps.run.outputs.sarif-file }}"},
    }


def test_steps_in_order_and_shell_steps_take_inputs_only_through_env():
    assert list(STEPS) == ["Set up Python", "install", "run", "Upload SARIF to code scanning", "Fail on ffscan's exit code"]
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash", step["name"]
            # An expression inside a script is pasted into it before bash runs (script injection).
            assert "${{" not in step["run"], step["name"]
    assert STEPS["Set up Python"]["uses"] == "actions/setup-python@v5"
    assert STEPS["Set up Python"]["if"] == "${{ inputs.python-version != '' }}"


def test_upload_step_sends_the_sarif_file_to_code_scanning_even_when_ffscan_failed():
    upload = STEPS["Upload SARIF to code scanning"]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert upload["with"] == {"sarif_file": "${{ inputs.sarif-file }}", "category": "${{ inputs.category }}"}
    assert upload["if"] == "${{ always() && inputs.upload == 'true' && hashFiles(inputs.sarif-file) != '' }}"
    assert STEPS["Fail on ffscan's exit code"]["if"] == "${{ steps.run.outputs.exit-code != '0' }}"


# -- the install step -----------------------------------------------------------------------

FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for python3: `-m venv DIR` makes DIR/bin/python, which logs what pip is asked.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/usr/bin/env bash\\necho "$@" >> "%s/pip.log"\\n' "$3" > "$3/bin/python"
  printf '#!/usr/bin/env bash\\necho "ffscan fake"\\n' > "$3/bin/ffscan"
  chmod +x "$3/bin/python" "$3/bin/ffscan"
  exit 0
fi
exit 3
"""


@pytest.mark.parametrize(
    "version, requirement",
    [("0.1.0", "ffscan==0.1.0"), ("latest", "ffscan"), ("git+https://example.invalid/ffscan@main", "git+https://example.invalid/ffscan@main"), ("/src/ffscan", "/src/ffscan")],
)
def test_install_step_installs_the_requested_ffscan_into_its_own_venv(tmp_path, version, requirement):
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "python3").write_text(FAKE_PYTHON, encoding="utf-8")
    (fake / "python3").chmod(0o755)
    code, log, written = run_step("install", inputs_with(version=version), {}, tmp_path, path_prefix=str(fake))
    assert code == 0, log
    venv = tmp_path / "ffscan-venv"
    assert (venv / "pip.log").read_text(encoding="utf-8") == f"-m pip install --quiet --disable-pip-version-check {requirement}\n"
    assert written == {"ffscan": f"{venv}/bin/ffscan"}
    assert "ffscan fake" in log


@pytest.mark.slow
def test_install_step_really_installs_ffscan_from_a_checkout(tmp_path):
    source = tmp_path / "source"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        origin = ROOT / name
        if origin.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    python_dir = str(Path(sys.executable).parent)  # python3 of the test run, as setup-python would put one
    code, log, written = run_step("install", inputs_with(version=str(source)), {}, tmp_path, path_prefix=python_dir)
    assert code == 0, log
    assert f"ffscan {ffscan.__version__}" in log
    done = subprocess.run([written["ffscan"], "check", "fixtures/demo", "--format", "concise"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout.splitlines()[-1].startswith("Found 12 findings")


# -- the run and fail steps, on fixtures/demo -------------------------------------------------


def test_run_step_writes_sarif_and_records_the_exit_code(tmp_path):
    sarif_file = tmp_path / "out" / "ffscan.sarif"
    installed = {"install": {"ffscan": str(Path(sys.executable).with_name("ffscan"))}}
    inputs = inputs_with(args="check fixtures/demo --no-color", sarif_file=str(sarif_file))
    code, log, written = run_step("run", inputs, installed, tmp_path)
    assert code == 0, log  # the step itself succeeds; the last step decides
    assert written == {"exit-code": "1", "sarif-file": str(sarif_file)}
    assert f"ffscan exited 1; SARIF report: {sarif_file}" in log
    results = json.loads(sarif_file.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert len(results) == 12
    assert sorted({r["ruleId"] for r in results}) == ["FF101", "FF103", "FF201", "FF301", "FF302", "FF401", "FF501", "FF502"]
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(sarif_file.read_text(encoding="utf-8")), schema)


def test_run_step_on_a_clean_tree_records_zero(tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "ok.py").write_text("async def f():\n    return 1\n", encoding="utf-8")
    installed = {"install": {"ffscan": str(Path(sys.executable).with_name("ffscan"))}}
    inputs = inputs_with(args="check ok.py", sarif_file="ffscan.sarif")
    code, log, written = run_step("run", inputs, installed, tmp_path, cwd=clean)
    assert (code, written["exit-code"]) == (0, "0"), log
    assert json.loads((clean / "ffscan.sarif").read_text(encoding="utf-8"))["runs"][0]["results"] == []


@pytest.mark.parametrize(
    "exit_code, fail_on_findings, expected, message",
    [
        ("1", "true", 1, "::error title=ffscan::ffscan reported findings (see code scanning, or the SARIF report)"),
        ("1", "false", 0, "ffscan reported findings; the job goes on (fail-on-findings: false)"),
        ("2", "false", 2, "::error title=ffscan::ffscan failed with exit code 2 (see the log above)"),
        ("2", "true", 2, "::error title=ffscan::ffscan failed with exit code 2 (see the log above)"),
    ],
)
def test_fail_step_follows_ffscans_exit_code(tmp_path, exit_code, fail_on_findings, expected, message):
    outputs = {"run": {"exit-code": exit_code}}
    code, log, _ = run_step("Fail on ffscan's exit code", inputs_with(fail_on_findings=fail_on_findings), outputs, tmp_path)
    assert (code, log.strip()) == (expected, message)
