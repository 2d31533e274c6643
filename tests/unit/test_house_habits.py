"""Lint, formatting and types are part of what CI runs, and pre-commit calls the same tools.

scripts/test runs `ruff check` and `ruff format --check` over src/, suites/ and scripts/, and
`mypy` over src/ and suites/, before the tests; .pre-commit-config.yaml has only `repo: local` hooks (remote hook
repositories cannot be fetched where msgconform is developed) with `language: system`, so
both use the tools and versions pyproject.toml pins, configured in one place.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_scripts_test_runs_ruff_and_mypy_before_the_tests() -> None:
    lines = [line.strip() for line in (REPO / "scripts" / "test").read_text(encoding="utf-8").splitlines()]
    checks = [".venv/bin/ruff check src suites scripts", ".venv/bin/ruff format --check src suites scripts",
              ".venv/bin/mypy"]
    positions = [lines.index(check) for check in checks]
    pytest_line = next(i for i, line in enumerate(lines) if line.startswith("exec .venv/bin/python -m pytest"))
    assert positions == sorted(positions) and positions[-1] < pytest_line


def test_pre_commit_hooks_are_local_and_call_the_same_tools() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    assert all(hook["language"] == "system" for hook in hooks)
    entries = [hook["entry"].split() for hook in hooks]
    assert entries == [["ruff", "check", "--force-exclude"], ["ruff", "format", "--check", "--force-exclude"], ["mypy"]]
    assert [hook["files"] for hook in hooks] == ["^(src|suites|scripts)/", "^(src|suites|scripts)/", "^(src|suites)/"]


def test_the_tools_are_configured_in_pyproject_and_installed_by_the_test_extra() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["tool"]["mypy"]["files"] == ["src/msgconform", "suites"]
    assert pyproject["tool"]["mypy"]["check_untyped_defs"] is True
    assert pyproject["tool"]["ruff"]["line-length"] == 120
    extras = " ".join(pyproject["project"]["optional-dependencies"]["test"])
    assert "ruff" in extras and "mypy" in extras
