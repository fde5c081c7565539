"""The layering the architecture promises, held by tests rather than by good intentions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chat"


@pytest.mark.parametrize(
    "module", ["chat.domain.errors", "chat.domain.models", "chat.domain.store", "chat.services"]
)
def test_the_domain_and_services_load_without_flask(module):
    """Services hold the rules and know nothing of Flask, so they import without it."""
    probe = f"import {module}, sys; sys.exit('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=PACKAGE.parent)
    assert result.returncode == 0, f"importing {module} pulled in Flask"


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_only_the_factory_imports_the_store_implementations():
    """Everything else names the store by its interface, `chat.domain.store.Store`."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        inside = path.is_relative_to(PACKAGE / "store") or path == PACKAGE / "app.py"
        if not inside and any(
            n == "chat.store" or n.startswith("chat.store.") for n in _imports(path)
        ):
            offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert offenders == []
    assert "chat.store" in _imports(PACKAGE / "app.py")


def test_the_domain_imports_nothing_but_itself():
    for path in (PACKAGE / "domain").glob("*.py"):
        foreign = {n for n in _imports(path) if n.startswith("chat.") and ".domain" not in n}
        assert foreign == set(), path.name
