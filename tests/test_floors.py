"""The floors of the house (docs/architecture.md). `make test` runs import-linter's layers
contract (pyproject.toml), which reads imports inside functions too; this test keeps the
other half of the rule: an import of another app inside a function is gone, unless a comment
on its line says why (ruff's PLC0415 finds every import inside a function; this one looks only
at those between apps)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def _imports_inside_functions(path: Path):
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                yield node.lineno, name.split(".")[0], lines[node.lineno - 1]


def test_no_app_imports_another_inside_a_function_without_saying_why():
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for lineno, top, line in _imports_inside_functions(path):
                if top in APPS and top != app and "#" not in line:
                    found.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not found, "imports of another app inside a function:\n" + "\n".join(found)


def test_the_floors_list_every_app():
    """A new app gets its floor in the contract (and in docs/architecture.md)."""
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = contract["contracts"][0]["layers"]
    local = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()}
    listed = {name.strip() for layer in layers for name in layer.split("|")}
    assert local <= listed == set(APPS)
