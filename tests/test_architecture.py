"""The dependency rule of docs/architecture.md / STYLE rule 1, checked on every module's imports."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import slotguard

SRC = Path(slotguard.__file__).parent
# package → top-level modules it must never import (docs/architecture.md §2).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": ("sqlalchemy", "fastapi", "httpx", "pydantic", "starlette", "slotguard.store",
               "slotguard.booking", "slotguard.api", "slotguard.calendar", "slotguard.retell"),
    "nlp_time": ("sqlalchemy", "fastapi", "httpx", "pydantic", "slotguard.store",
                 "slotguard.booking", "slotguard.domain"),
    "booking": ("fastapi", "starlette", "slotguard.api", "slotguard.retell"),
    "retell": ("sqlalchemy", "slotguard.store"),
    "store": ("fastapi", "starlette", "httpx", "slotguard.api", "slotguard.retell",
              "slotguard.booking"),
    "calendar": ("fastapi", "slotguard.api", "slotguard.retell", "slotguard.booking"),
    "calcom_webhooks": ("fastapi", "slotguard.api", "slotguard.retell", "slotguard.booking"),
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "slotguard":  # from slotguard import nlp_time
                names.update(f"slotguard.{alias.name}" for alias in node.names)
    return names


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in _imports(path):
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


class TestDependencyRule:
    """Dependencies point inward."""

    @pytest.mark.parametrize("package", sorted(FORBIDDEN))
    def test_no_forbidden_imports(self, package: str) -> None:
        """No module of the package imports what the design keeps out of it."""
        assert _violations(package) == []

    def test_domain_uses_only_the_standard_library(self) -> None:
        """slotguard.domain imports the standard library and itself, nothing else."""
        stdlib = set(sys.stdlib_module_names) | {"__future__"}
        outside = {
            name
            for path in (SRC / "domain").rglob("*.py")
            for name in _imports(path)
            if name.split(".")[0] not in stdlib and not name.startswith("slotguard.domain")
        }
        assert outside == set()


def _package_graph() -> dict[str, set[str]]:
    """slotguard's top-level packages and modules → the ones they import (not themselves)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        node = path.relative_to(SRC).parts[0].removesuffix(".py")
        targets = graph.setdefault(node, set())
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "slotguard" and len(parts) > 1 and parts[1] != node:
                targets.add(parts[1])
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


class TestNoCycles:
    """No package imports one that imports it back, directly or through others."""

    def test_no_cycle_between_packages(self) -> None:
        """The import graph of slotguard's top-level packages and modules is acyclic."""
        assert _cycles(_package_graph()) == []

    def test_the_check_sees_a_cycle(self) -> None:
        """The cycle finder itself: a → b → c → a is reported, a tree is not."""
        assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
        assert _cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


class TestPackages:
    """Every package states its public names."""

    @pytest.mark.parametrize(
        "name", sorted(m.name for m in pkgutil.iter_modules([str(SRC)]) if m.ispkg)
    )
    def test_package_has_all(self, name: str) -> None:
        """Each package __init__ defines __all__, and every name in it exists."""
        module = importlib.import_module(f"slotguard.{name}")
        assert hasattr(module, "__all__"), f"slotguard.{name} has no __all__"
        assert [n for n in module.__all__ if not hasattr(module, n)] == []
