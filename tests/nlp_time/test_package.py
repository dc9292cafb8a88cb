"""Meta-tests for `slotguard.nlp_time`: its public names, its imports, and no clock reads."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import slotguard.nlp_time as nlp_time

PACKAGE_DIR = Path(nlp_time.__file__).parent
MODULES = sorted(PACKAGE_DIR.glob("*.py"))
CLOCK_READS = {"now", "utcnow", "today", "monotonic", "perf_counter", "localtime", "gmtime"}


def _trees() -> list[tuple[str, ast.Module]]:
    """Every module of the package, parsed."""
    return [(path.name, ast.parse(path.read_text(encoding="utf-8"))) for path in MODULES]


class TestPackage:
    """The `slotguard.nlp_time` package as a whole."""

    def test_all_is_exactly_the_public_api(self) -> None:
        """`__all__` lists exactly the seven public names, and each exists."""
        assert sorted(nlp_time.__all__) == sorted(
            [
                "BusinessHours",
                "TimeParseError",
                "TimeParseErrorKind",
                "localize",
                "parse_date",
                "parse_time",
                "resolve",
            ]
        )
        assert all(hasattr(nlp_time, name) for name in nlp_time.__all__)

    def test_imports_only_the_standard_library_and_itself(self) -> None:
        """No module imports a third-party package or another part of slotguard."""
        for name, tree in _trees():
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    roots = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    roots = [node.module or ""]
                else:
                    continue
                for root in roots:
                    allowed = root.startswith("slotguard.nlp_time") or root == "__future__"
                    assert allowed or root.split(".")[0] in sys.stdlib_module_names, (name, root)

    def test_never_reads_the_clock(self) -> None:
        """No module calls now(), today() or imports `time`: the instant is always an argument."""
        for name, tree in _trees():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    assert node.func.attr not in CLOCK_READS, (name, node.lineno)
                if isinstance(node, ast.Import):  # the time module is only good for reading clocks
                    assert "time" not in [alias.name for alias in node.names], name
