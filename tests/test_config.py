"""`[tool.ffscan]`: finding the file, reading every key, and clear errors for bad values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ffscan.cli import main
from ffscan.config import DEFAULT_EXCLUDE, ConfigError, Settings, find_config, load_settings
from ffscan.rules import rule_names

DROPPED = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n"
BROKEN = "def handler(job)\n    return job\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, body: str) -> Settings:
    return load_settings(write(tmp_path / "pyproject.toml", "[tool.ffscan]\n" + body), tmp_path, rule_names())


def error_of(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, body)
    return str(raised.value)


# Finding the configuration


def test_config_is_found_by_walking_up_from_the_first_path(tmp_path):
    config = write(tmp_path / "pyproject.toml", "[tool.ffscan]\n")
    write(tmp_path / "src" / "pkg" / "app.py", "")
    assert find_config(tmp_path / "src" / "pkg" / "app.py") == config.resolve()
    assert find_config(tmp_path / "src" / "pkg") == config.resolve()


def test_a_pyproject_without_our_table_is_passed_over(tmp_path):
    config = write(tmp_path / "pyproject.toml", "[tool.ffscan]\nselect = ['FF2']\n")
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'sub'\n")
    assert find_config(tmp_path / "sub") == config.resolve()


def test_ffscan_toml_is_found_before_pyproject_in_the_same_directory(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.ffscan]\n")
    own = write(tmp_path / "ffscan.toml", "select = ['FF2']\n")
    assert find_config(tmp_path) == own.resolve()
    assert load_settings(own, tmp_path).select == ("FF2",)


def test_no_config_gives_defaults_rooted_at_the_fallback(tmp_path):
    settings = load_settings(None, tmp_path)
    assert (settings.root, settings.config_path, settings.select) == (tmp_path.resolve(), None, None)
    assert settings.exclude == DEFAULT_EXCLUDE


def test_a_config_without_our_table_gives_defaults_rooted_at_its_directory(tmp_path):
    path = write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'x'\n")
    settings = load_settings(path, tmp_path)
    assert (settings.root, settings.select, settings.fanout_threshold) == ((tmp_path / "sub").resolve(), None, 8)


# Every key


def test_every_key_is_read(tmp_path):
    settings = load(
        tmp_path,
        """
select = ["FF2", "FF301"]
extend-select = ["FF1"]
ignore = ["FF202"]
exclude = ["vendor"]
extend-exclude = ["generated"]
per-file-ignores = { "scripts/*" = ["FF3"], "tests/*" = ["FF2", "FF4"] }
respect-gitignore = false
test-paths = ["spec"]
test-select = ["FF1"]
tracked-spawners = ["app.tasks.spawn"]
error-reporters = ["app.errors.report"]
coroutine-functions = ["app.db.query"]
spawn-apis = ["app.pool.submit"]
fanout-threshold = 20
max-file-size = 1000

[tool.ffscan.fix]
runtime-module = "app.runtime"
""",
    )
    assert settings.root == tmp_path.resolve()
    assert settings.select == ("FF2", "FF301")
    assert settings.extend_select == ("FF1",)
    assert settings.ignore == ("FF202",)
    assert settings.exclude == ("vendor",)
    assert settings.extend_exclude == ("generated",)
    assert settings.per_file_ignores == (("scripts/*", ("FF3",)), ("tests/*", ("FF2", "FF4")))
    assert settings.respect_gitignore is False
    assert (settings.test_paths, settings.test_select) == (("spec",), ("FF1",))
    assert settings.tracked_spawners == ("app.tasks.spawn",)
    assert settings.error_reporters == ("app.errors.report",)
    assert settings.coroutine_functions == ("app.db.query",)
    assert settings.spawn_apis == ("app.pool.submit",)
    assert (settings.fanout_threshold, settings.max_file_size) == (20, 1000)
    assert settings.fix.runtime_module == "app.runtime"


# Errors name the key and the file, and suggest the nearest key


def test_unknown_key_suggests_the_nearest(tmp_path):
    where = tmp_path / "pyproject.toml"
    assert error_of(tmp_path, "fanout-treshold = 3\n") == (
        f"{where}: `tool.ffscan.fanout-treshold` is not a known setting; did you mean `fanout-threshold`?"
    )


def test_unknown_key_with_no_near_match_has_no_suggestion(tmp_path):
    where = tmp_path / "pyproject.toml"
    assert error_of(tmp_path, "colour = true\n") == f"{where}: `tool.ffscan.colour` is not a known setting"


def test_ruff_style_underscore_key_suggests_the_dashed_one(tmp_path):
    assert error_of(tmp_path, "per_file_ignores = {}\n").endswith(
        "`tool.ffscan.per_file_ignores` is not a known setting; did you mean `per-file-ignores`?"
    )


def test_unknown_nested_fix_key_is_named_in_full(tmp_path):
    where = tmp_path / "pyproject.toml"
    assert error_of(tmp_path, "[tool.ffscan.fix]\nruntime-modul = 'x'\n") == (
        f"{where}: `tool.ffscan.fix.runtime-modul` is not a known setting; did you mean `runtime-module`?"
    )


def test_durable_target_is_read_and_unset_by_default(tmp_path):
    assert load(tmp_path, "").fix.durable_target is None
    settings = load(tmp_path, '[tool.ffscan.fix]\ndurable-target = "dramatiq"\n')
    assert (settings.fix.durable_target, settings.fix.runtime_module) == ("dramatiq", "ffscan.runtime")


@pytest.mark.parametrize(
    "value, message",
    [
        ('"celry"', "must be \"celery\" or \"dramatiq\", got 'celry'; did you mean `celery`?"),
        ('"Dramatiq"', "must be \"celery\" or \"dramatiq\", got 'Dramatiq'; did you mean `dramatiq`?"),
        ('"rq"', "must be \"celery\" or \"dramatiq\", got 'rq'"),
        ("true", "must be \"celery\" or \"dramatiq\", got True"),
    ],
)
def test_durable_target_must_be_a_known_queue(tmp_path, value, message):
    where = tmp_path / "pyproject.toml"
    assert error_of(tmp_path, f"[tool.ffscan.fix]\ndurable-target = {value}\n") == (
        f"{where}: `tool.ffscan.fix.durable-target` {message}"
    )


def test_misspelt_durable_target_key_suggests_it(tmp_path):
    assert error_of(tmp_path, "[tool.ffscan.fix]\ndurable_target = 'celery'\n").endswith(
        "`tool.ffscan.fix.durable_target` is not a known setting; did you mean `durable-target`?"
    )


@pytest.mark.parametrize(
    "body, message",
    [
        ('select = "FF2"\n', "`tool.ffscan.select` must be a list of strings, got 'FF2'"),
        ("tracked-spawners = [1]\n", "`tool.ffscan.tracked-spawners` must be a list of strings, got [1]"),
        ('fanout-threshold = "8"\n', "`tool.ffscan.fanout-threshold` must be a positive integer, got '8'"),
        ("fanout-threshold = 0\n", "`tool.ffscan.fanout-threshold` must be a positive integer, got 0"),
        ("fanout-threshold = true\n", "`tool.ffscan.fanout-threshold` must be a positive integer, got True"),
        ("max-file-size = 1.5\n", "`tool.ffscan.max-file-size` must be a positive integer, got 1.5"),
        ('respect-gitignore = "no"\n', "`tool.ffscan.respect-gitignore` must be true or false, got 'no'"),
        ('per-file-ignores = ["x"]\n', "`tool.ffscan.per-file-ignores` must be a table of glob = [codes]"),
        (
            'per-file-ignores = { "tests/*" = "FF2" }\n',
            '`tool.ffscan.per-file-ignores."tests/*"` must be a list of strings, got \'FF2\'',
        ),
        ("fix = 1\n", "`tool.ffscan.fix` must be a table"),
    ],
)
def test_wrong_type_names_the_key_and_the_file(tmp_path, body, message):
    assert error_of(tmp_path, body) == f"{tmp_path / 'pyproject.toml'}: {message}"


@pytest.mark.parametrize(
    "body, message",
    [
        ('select = ["FF2O1"]\n', "`tool.ffscan.select`: unknown rule code or prefix 'FF2O1'; did you mean `FF201`?"),
        (
            'ignore = ["dangling-task"]\n',
            "`tool.ffscan.ignore`: unknown rule code or prefix 'dangling-task'; did you mean `FF201` (dangling-task)?",
        ),
        (
            'per-file-ignores = { "tests/*" = ["FF9"] }\n',
            "`tool.ffscan.per-file-ignores.\"tests/*\"`: unknown rule code or prefix 'FF9'",
        ),
    ],
)
def test_unknown_rule_codes_are_errors(tmp_path, body, message):
    assert error_of(tmp_path, body) == f"{tmp_path / 'pyproject.toml'}: {message}"


def test_a_code_of_no_rule_is_only_checked_for_its_form_without_the_registry(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[tool.ffscan]\nselect = ["FF999"]\nignore = ["FF"]\n')
    assert load_settings(path, tmp_path).select == ("FF999",)
    path.write_text('[tool.ffscan]\nselect = ["E501"]\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(path, tmp_path)


def test_another_linters_code_is_an_error(tmp_path):
    assert error_of(tmp_path, 'extend-select = ["E501"]\n').startswith(
        f"{tmp_path / 'pyproject.toml'}: `tool.ffscan.extend-select`: unknown rule code or prefix 'E501'"
    )


def test_invalid_toml_names_the_file_and_the_position(tmp_path):
    message = error_of(tmp_path, 'select = ["FF2"\nignore = []\n')
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: invalid TOML: ")
    assert "line 3" in message


def test_table_that_is_not_a_table_is_an_error(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool]\nffscan = 3\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, tmp_path)
    assert str(raised.value) == f"{path}: `tool.ffscan` must be a table"


def test_undecodable_config_is_an_error(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[tool.ffscan]\nselect = ['caf\xe9']\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, tmp_path)
    assert str(raised.value).startswith(f"{path}: invalid TOML: ")


# Settings in effect, through the CLI


def run_json(monkeypatch, capsys, root: Path, *args: str):
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", *args])
    document = json.loads(capsys.readouterr().out)
    return code, sorted((f["path"], f["code"]) for f in document["findings"])


def test_per_file_ignores_apply_to_matching_paths(tmp_path, monkeypatch, capsys):
    write(tmp_path / "pyproject.toml", '[tool.ffscan]\nper-file-ignores = { "scripts/*" = ["FF2"] }\n')
    write(tmp_path / "scripts" / "job.py", DROPPED)
    write(tmp_path / "app" / "job.py", DROPPED)
    assert run_json(monkeypatch, capsys, tmp_path, "--select", "FF201") == (1, [("app/job.py", "FF201")])


def test_test_paths_get_only_test_select(tmp_path, monkeypatch, capsys):
    write(tmp_path / "pyproject.toml", "[tool.ffscan]\n")
    write(tmp_path / "tests" / "test_app.py", DROPPED)
    write(tmp_path / "tests" / "test_broken.py", BROKEN)
    write(tmp_path / "app.py", DROPPED)
    assert run_json(monkeypatch, capsys, tmp_path, "--select", "FF001,FF201") == (
        1,
        [("app.py", "FF201"), ("tests/test_broken.py", "FF001")],
    )


def test_test_select_can_be_widened(tmp_path, monkeypatch, capsys):
    write(tmp_path / "pyproject.toml", '[tool.ffscan]\ntest-select = ["FF0", "FF1", "FF2"]\n')
    write(tmp_path / "tests" / "test_app.py", DROPPED)
    assert run_json(monkeypatch, capsys, tmp_path, "--select", "FF201") == (1, [("tests/test_app.py", "FF201")])


def test_max_file_size_turns_a_big_file_into_ff003(tmp_path, monkeypatch, capsys):
    write(tmp_path / "pyproject.toml", "[tool.ffscan]\nmax-file-size = 100\n")
    write(tmp_path / "big.py", "x = 1\n" * 40)
    write(tmp_path / "small.py", DROPPED)
    assert run_json(monkeypatch, capsys, tmp_path, "--select", "FF0,FF201") == (
        1,
        [("big.py", "FF003"), ("small.py", "FF201")],
    )


def test_from_a_subdirectory_paths_show_from_there_but_globs_match_from_the_project(tmp_path, monkeypatch, capsys):
    write(tmp_path / "pyproject.toml", "[tool.ffscan]\nselect = ['FF201']\nper-file-ignores = { 'src/legacy.py' = ['FF201'] }\n")
    write(tmp_path / "src" / "app.py", DROPPED)
    write(tmp_path / "src" / "legacy.py", DROPPED)
    assert run_json(monkeypatch, capsys, tmp_path / "src", ".") == (1, [("app.py", "FF201")])


# [tool.ffscan.queues] and [tool.ffscan.fix] queue


def test_queues_and_the_fix_queue_are_known_settings(tmp_path):
    settings = load(tmp_path, '[tool.ffscan.queues.emails]\nmax-concurrency = 4\nrate-limit = "10/s"\n\n[tool.ffscan.fix]\nqueue = "emails"\n')
    assert settings.fix.queue == "emails"


def test_a_bad_queue_setting_is_a_config_error_naming_the_key(tmp_path):
    where = tmp_path / "pyproject.toml"
    assert error_of(tmp_path, "[tool.ffscan.queues.emails]\nretries = -1\n") == (
        f"{where}: `tool.ffscan.queues.emails`: max_pending and retries cannot be negative"
    )
    assert error_of(tmp_path, "[tool.ffscan.queues.emails]\nmax-concurency = 4\n").startswith(
        f"{where}: `tool.ffscan.queues.emails.max-concurency` is not a queue setting"
    )


def test_the_fix_queue_must_be_a_defined_queue(tmp_path):
    assert error_of(tmp_path, '[tool.ffscan.fix]\nqueue = "emails"\n') == (
        f"{tmp_path / 'pyproject.toml'}: `tool.ffscan.fix.queue` names 'emails', which no [tool.ffscan.queues.emails] table defines"
    )
    assert load(tmp_path, '[tool.ffscan.fix]\nqueue = "background"\n').fix.queue == "background"


def test_a_tool_ffscan_table_in_ffscan_toml_gets_a_hint(tmp_path):
    config = tmp_path / "ffscan.toml"
    config.write_text('[tool.ffscan]\nselect = ["FF2"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(config, tmp_path)
    assert str(error.value) == (
        f"{config}: `tool` is not a known setting; "
        "ffscan.toml holds the settings at top level; drop the [tool.ffscan] header"
    )
