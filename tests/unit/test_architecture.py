"""ARCHITECTURE.md's import table, enforced by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = {"msgconform.cli", "msgconform.runner", "msgconform.__main__", "msgconform.selftest", "msgconform.mutation"}


def layer_of(module: str) -> str | None:
    if module.startswith("suites"):
        return "suites"
    if not module.startswith("msgconform"):
        return None
    if module in CLI:
        return "cli"
    for layer in ("plugin", "servers", "report"):
        if module == f"msgconform.{layer}" or module.startswith(f"msgconform.{layer}."):
            return layer
    return "core"


# layer -> layers (and third-party roots) it must not import
FORBIDDEN = {
    "core": {"plugin", "servers", "report", "cli", "suites", "pytest"},
    "report": {"plugin", "servers", "cli", "suites", "pytest"},
    "plugin": {"servers", "report", "cli", "suites"},
    "suites": {"servers", "report", "cli"},
    "servers": {"plugin", "report", "cli", "suites", "pytest", "schemathesis"},
    "cli": {"plugin", "suites", "pytest"},
}


def modules():
    for path in sorted((ROOT / "src").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts).removesuffix(".__init__")
        yield name, path
    for path in sorted((ROOT / "suites").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield name, path


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


ALL = list(modules())


def test_every_module_has_a_layer():
    assert ALL, "no modules found"
    assert all(layer_of(name) for name, _ in ALL)


@pytest.mark.parametrize("name,path", ALL, ids=[n for n, _ in ALL])
def test_imports_respect_the_layers(name, path):
    layer = layer_of(name)
    banned = FORBIDDEN[layer]
    offending = []
    for imported in imports(path):
        target = layer_of(imported) or imported.split(".")[0]
        if target in banned:
            offending.append(imported)
    assert not offending, f"{name} ({layer}) must not import {sorted(offending)}"
