"""The suite's own conventions, checked over the source: ids on every parametrize, shared test code
imported from ``tests.support`` only, no private names of detc used by a test, and detc's modules
compiling without a warning."""

from __future__ import annotations

import ast
import subprocess
import warnings
from pathlib import Path

import pytest

from tests.support import ROOT

TESTS = sorted((ROOT / "tests").rglob("test_*.py"))
SOURCES = sorted(p for folder in ("compiler", "backends") for p in (ROOT / folder).rglob("*.py"))
DETC_PACKAGES = ("compiler", "backends")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _parametrize_without_ids(tree: ast.Module) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "parametrize"
        and not any(k.arg == "ids" for k in node.keywords)
    ]


def _bad_imports(tree: ast.Module) -> list[str]:
    """Imports of conftest or of another test module, and private names taken from detc's modules."""
    bad: list[str] = []
    detc_modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root == "conftest" or node.module == "tests.conftest" or root.startswith("test_"):
                bad.append(f"from {node.module} import ...")
            if root in DETC_PACKAGES:
                bad.extend(f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_"))
                detc_modules.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DETC_PACKAGES:
                    detc_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in detc_modules
        ):
            bad.append(f"{node.value.id}.{node.attr}")
    return bad


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_every_parametrize_names_its_cases(path: Path) -> None:
    assert _parametrize_without_ids(_tree(path)) == []


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_tests_import_shared_code_one_way_and_no_private_names(path: Path) -> None:
    assert _bad_imports(_tree(path)) == []


def test_the_checks_can_fail() -> None:
    tree = ast.parse(
        "import pytest\nfrom conftest import ROOT\nfrom backends.elastic import shaper\n"
        "from compiler.rules import _err\n@pytest.mark.parametrize('a', [1])\ndef test(a): shaper._java_text(a)\n"
    )
    assert _parametrize_without_ids(tree) == [5]
    assert _bad_imports(tree) == ["from conftest import ...", "compiler.rules._err", "shaper._java_text"]


def test_detc_sources_compile_without_warnings() -> None:
    """An invalid escape such as ``\\ `` is a DeprecationWarning now and a SyntaxError later."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in SOURCES:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
    with warnings.catch_warnings(), pytest.raises((DeprecationWarning, SyntaxWarning, SyntaxError)):
        warnings.simplefilter("error")
        compile('"""the ``x``\\ s"""\n', "example.py", "exec")


_CONFLICT = ("<" * 7 + " ", "=" * 7, ">" * 7 + " ")


def _conflict_markers(text: str) -> list[int]:
    """Lines that open, split or close a merge conflict (git's markers at the start of a line)."""
    return [n for n, line in enumerate(text.splitlines(), 1) if line.startswith(_CONFLICT[::2]) or line == _CONFLICT[1]]


def test_no_merge_conflict_markers_in_tracked_text() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False
    ).stdout.decode("utf-8", "surrogateescape").split("\0")
    if not any(tracked):
        pytest.skip("not a git checkout")
    found = {}
    for name in filter(None, tracked):
        path = ROOT / name
        if path.suffix not in (".md", ".py", ".toml", ".yml", ".yaml", ".conf", ".json", ".lark", ".txt", ".cfg") or not path.is_file():
            continue
        lines = _conflict_markers(path.read_text(encoding="utf-8", errors="replace"))
        if lines:
            found[name] = lines
    assert found == {}
    assert _conflict_markers("a\n" + "<" * 7 + " HEAD\nb\n" + "=" * 7 + "\nc\n" + ">" * 7 + " x\n") == [2, 4, 6]
