"""Which files `ffscan check PATH...` looks at: .gitignore, excludes, explicit paths, symlinks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ffscan.cli import main
from ffscan.config import Settings
from ffscan.config import DEFAULT_TEST_PATHS
from ffscan.engine.discovery import discover, matches_any, matches_glob, module_name, namespace_name


def tree(root: Path, *names: str) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")
    return root


def found(root: Path, paths=(".",), **settings) -> list:
    """Display paths discovered under `root`, run from inside it."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = discover(list(paths), Settings(root=root.resolve(), **settings))
    finally:
        os.chdir(cwd)
    return sorted(display for _, display in result.files)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git").mkdir()  # .gitignore files count inside a git work tree, as for git
    return tmp_path


def test_recursive_discovery_finds_py_and_pyi_only(tmp_path):
    tree(tmp_path, "a.py", "pkg/b.py", "pkg/b.pyi", "pkg/c.pyx", "notes.txt", "pkg/deep/d.py", "script")
    assert found(tmp_path) == ["a.py", "pkg/b.py", "pkg/b.pyi", "pkg/deep/d.py"]


def test_gitignore_is_honoured(repo):
    tree(repo, "app.py", "gen/out.py", "api_pb2.py", "keep_pb2.py", "notes/x.py")
    (repo / ".gitignore").write_text("gen/\n*_pb2.py\n!keep_pb2.py\n# a comment\n", encoding="utf-8")
    assert found(repo) == ["app.py", "keep_pb2.py", "notes/x.py"]


def test_nested_gitignore_adds_to_and_overrides_the_parent(repo):
    tree(repo, "a/local.py", "a/app.py", "a/b/local.py", "a/b/scratch_1.py", "a/b/scratch_keep.py", "top_local.py")
    (repo / ".gitignore").write_text("scratch_*.py\n", encoding="utf-8")
    (repo / "a" / ".gitignore").write_text("local.py\n", encoding="utf-8")
    (repo / "a" / "b" / ".gitignore").write_text("!scratch_keep.py\n", encoding="utf-8")
    assert found(repo) == ["a/app.py", "a/b/scratch_keep.py", "top_local.py"]


def test_gitignore_anchored_pattern_only_matches_at_its_directory(repo):
    tree(repo, "build_tools/x.py", "docs/conf.py", "src/docs/conf.py")
    (repo / ".gitignore").write_text("/docs\n", encoding="utf-8")
    assert found(repo) == ["build_tools/x.py", "src/docs/conf.py"]


def test_gitignore_of_the_repo_applies_when_checking_a_subdirectory(repo):
    tree(repo, "src/app.py", "src/gen/out.py")
    (repo / ".gitignore").write_text("gen/\n", encoding="utf-8")
    assert found(repo, paths=["src"]) == ["src/app.py"]


def test_respect_gitignore_false_ignores_gitignore(repo):
    tree(repo, "app.py", "gen/out.py")
    (repo / ".gitignore").write_text("gen/\n", encoding="utf-8")
    assert found(repo, respect_gitignore=False) == ["app.py", "gen/out.py"]


def test_default_excludes_skip_tool_and_build_directories(tmp_path):
    tree(
        tmp_path,
        "app.py",
        ".venv/lib/site.py",
        "venv/x.py",
        "build/lib/x.py",
        "dist/x.py",
        "node_modules/x.py",
        "__pycache__/x.py",
        ".tox/x.py",
        ".git/hooks/x.py",
        "pkg/build/x.py",
        "pkg/builder.py",
    )
    assert found(tmp_path) == ["app.py", "pkg/builder.py"]


def test_extend_exclude_adds_to_the_defaults(tmp_path):
    tree(tmp_path, "app.py", "migrations/0001.py", "src/gen/api.py", "src/gen/sub/api.py", "src/app.py", ".venv/x.py")
    # As in Ruff, `*` in an exclude pattern also matches `/`.
    assert found(tmp_path, extend_exclude=("migrations", "src/gen/*.py")) == ["app.py", "src/app.py"]


def test_exclude_replaces_the_defaults(tmp_path):
    tree(tmp_path, "app.py", ".venv/x.py", "vendor/y.py")
    assert found(tmp_path, exclude=("vendor",)) == [".venv/x.py", "app.py"]


def test_explicit_file_is_checked_even_when_excluded_or_ignored(repo):
    tree(repo, ".venv/lib/x.py", "gen/out.py", "migrations/m.py")
    (repo / ".gitignore").write_text("gen/\n", encoding="utf-8")
    paths = [".venv/lib/x.py", "gen/out.py", "migrations/m.py"]
    assert found(repo, paths=paths, extend_exclude=("migrations",)) == sorted(paths)


def test_explicit_file_with_another_suffix_is_checked(tmp_path):
    tree(tmp_path, "bin/tool")
    assert found(tmp_path, paths=["bin/tool"]) == ["bin/tool"]


def test_explicitly_named_excluded_directory_is_walked(tmp_path):
    tree(tmp_path, "build/gen.py", "build/__pycache__/x.py")
    assert found(tmp_path, paths=["build"]) == ["build/gen.py"]


def test_directory_named_like_a_python_file_is_recursed(tmp_path):
    tree(tmp_path, "weird.py/inner.py", "weird.py/deeper/more.py")
    assert found(tmp_path) == ["weird.py/deeper/more.py", "weird.py/inner.py"]
    assert found(tmp_path, paths=["weird.py"]) == ["weird.py/deeper/more.py", "weird.py/inner.py"]


def test_symlinked_directories_are_not_followed(tmp_path):
    project = tree(tmp_path / "project", "app.py")
    tree(tmp_path / "elsewhere", "outside.py")
    (project / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (project / "loop").symlink_to(project, target_is_directory=True)
    assert found(project) == ["app.py"]


def test_symlinked_files_are_checked_once_under_their_own_name(tmp_path):
    tree(tmp_path, "real.py")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    assert found(tmp_path) == ["alias.py", "real.py"]


def test_missing_paths_are_listed_and_the_rest_discovered(tmp_path):
    tree(tmp_path, "app.py")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = discover(["nowhere.py", "app.py", "gone/"], Settings(root=tmp_path.resolve()))
    finally:
        os.chdir(cwd)
    assert (result.missing, [d for _, d in result.files]) == (["nowhere.py", "gone/"], ["app.py"])


def test_a_file_given_twice_is_checked_once(tmp_path):
    tree(tmp_path, "pkg/app.py")
    assert found(tmp_path, paths=["pkg/app.py", "pkg", "./pkg/app.py"]) == ["pkg/app.py"]


def test_paths_outside_the_root_are_shown_as_given(tmp_path):
    tree(tmp_path / "other", "x.py")
    root = tmp_path / "root"
    root.mkdir()
    assert found(root, paths=[str(tmp_path / "other")]) == [str(tmp_path / "other" / "x.py")]


@pytest.mark.parametrize(
    "relative, pattern, expected",
    [
        ("pkg/build/x.py", "build", True),
        ("pkg/builder.py", "build", False),
        ("tests/test_app.py", "test_*.py", True),
        ("src/gen/api.py", "src/gen/*.py", True),
        ("a/src/gen/api.py", "src/gen/*.py", True),
        ("src/gen/sub/api.py", "src/gen", True),
        ("src/general.py", "src/gen", False),
        ("x.py", "", False),
    ],
)
def test_matches_glob(relative, pattern, expected):
    assert matches_glob(relative, pattern) is expected


GLOB_CASES = [
    "pkg/build/x.py", "pkg/builder.py", "tests/test_app.py", "src/gen/api.py", "src/gen/sub/api.py",
    "src/general.py", "app/conftest.py", "app/testing/x.py", "app/x_test.py", "app/attest.py", "test.py",
]


@pytest.mark.parametrize(
    "patterns",
    [DEFAULT_TEST_PATHS, ("build", "src/gen/*.py"), ("src/gen", "*.py "), ("", "test_*.py/"), ()],
)
def test_matches_any_agrees_with_matching_each_pattern(patterns):
    # One compiled test stands for the single-component patterns; it must say what
    # matching them one by one says, on paths that match some and not others.
    for relative in GLOB_CASES:
        assert matches_any(relative, patterns) is any(matches_glob(relative, p) for p in patterns), relative
    assert any(matches_any(relative, DEFAULT_TEST_PATHS) for relative in GLOB_CASES)


def test_walking_the_current_folder_spells_paths_without_a_dot(tmp_path, monkeypatch):
    tree(tmp_path, "a/x.py", "y.py")
    monkeypatch.chdir(tmp_path)
    files = discover(["."], Settings(root=tmp_path.resolve())).files
    assert sorted(fs_path for fs_path, _ in files) == [os.path.join("a", "x.py"), "y.py"]
    files = discover(["a/"], Settings(root=tmp_path.resolve())).files
    assert [fs_path for fs_path, _ in files] == [os.path.join("a", "x.py")]


def test_namespace_name_reads_the_source_root(tmp_path):
    tree(tmp_path, "src/ns/pkg/__init__.py", "src/ns/pkg/mod.py", "tools/run.py", "bad-name/x.py")
    assert namespace_name(str(tmp_path / "src/ns/pkg/mod.py"), tmp_path) == "ns.pkg.mod"
    assert namespace_name(str(tmp_path / "src/ns/pkg/__init__.py"), tmp_path) == "ns.pkg"
    assert namespace_name(str(tmp_path / "tools/run.py"), tmp_path) == "tools.run"
    assert namespace_name(str(tmp_path / "bad-name/x.py"), tmp_path) is None
    assert namespace_name(str(tmp_path / "src/ns/pkg/mod.py"), tmp_path, module="ns.pkg.mod") is None
    assert namespace_name(str(tmp_path.parent / "elsewhere.py"), tmp_path) is None


def test_module_name_walks_up_through_packages(tmp_path):
    tree(tmp_path, "src/app/__init__.py", "src/app/api/__init__.py", "src/app/api/views.py", "src/script.py")
    assert module_name(str(tmp_path / "src/app/api/views.py")) == "app.api.views"
    assert module_name(str(tmp_path / "src/app/api/__init__.py")) == "app.api"
    assert module_name(str(tmp_path / "src/script.py")) == "script"


def test_cli_checks_gitignored_file_only_when_named(repo, monkeypatch, capsys):
    (repo / "pyproject.toml").write_text("[tool.ffscan]\nselect = ['FF001']\n", encoding="utf-8")
    (repo / ".gitignore").write_text("scratch.py\n", encoding="utf-8")
    (repo / "scratch.py").write_text("def broken(:\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    assert main(["check", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
    assert main(["check", "--format", "json", "scratch.py"]) == 1
    assert [f["path"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["scratch.py"]


def test_force_exclude_keeps_excludes_for_explicit_files_and_folders(tmp_path, monkeypatch, capsys):
    tree(tmp_path, "generated/api.py", "app.py", "vendor/lib/mod.py")
    (tmp_path / "generated" / "api.py").write_text("import asyncio\n\n\nasync def f(job):\n    asyncio.create_task(job())\n")
    (tmp_path / "pyproject.toml").write_text('[tool.ffscan]\nextend-exclude = ["generated", "vendor/lib"]\n')
    monkeypatch.chdir(tmp_path)
    assert found(tmp_path, ["generated/api.py", "app.py"], extend_exclude=("generated",)) == ["app.py", "generated/api.py"]
    assert found(tmp_path, ["generated/api.py", "app.py", "vendor/lib"], extend_exclude=("generated", "vendor/lib"), force_exclude=True) == ["app.py"]
    assert main(["check", "--force-exclude", "generated/api.py"]) == 0
    assert capsys.readouterr().err == "ffscan: warning: no Python files found under the given paths (all excluded)\n"
    assert main(["check", "generated/api.py", "--format", "concise"]) == 1
    capsys.readouterr()


def test_force_exclude_from_the_configuration(tmp_path, monkeypatch, capsys):
    tree(tmp_path, "generated/api.py")
    (tmp_path / "pyproject.toml").write_text('[tool.ffscan]\nextend-exclude = ["generated"]\nforce-exclude = true\n')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "generated/api.py", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["files_checked"] == 0
    assert main(["check", "--no-force-exclude", "generated/api.py", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["files_checked"] == 1
