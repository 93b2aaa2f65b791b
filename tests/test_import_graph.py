"""The modules of compiler/ and backends/ import each other without a cycle (type-checking and
function-level imports included), and the cache is a leaf: a store that knows nothing of builds."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.support import ROOT


def _modules() -> dict[str, Path]:
    found = {}
    for folder in ("compiler", "backends"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """detc modules a module imports anywhere in it (``from a import b`` counts as a.b when that is a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            for alias in node.names:
                out.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert len(GRAPH) > 40
    assert cycles(GRAPH) == []


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_cache_is_a_leaf() -> None:
    assert GRAPH["compiler.cache"] <= {"compiler.jsonio"}
    assert "compiler.cache" in GRAPH["compiler.fingerprint"]
    assert "compiler.paths" in GRAPH["compiler.fingerprint"]


# --- the platform folders -------------------------------------------------------------------------

PLATFORMS = importlib.import_module("backends").PLATFORMS
REFERENCE = "sigma"
"""The reference platform: its query is the rule's own detection (no backend), it writes no
artifacts (no emitter) and reads raw records of every family through compiler/logsources (no cells)."""


def _platform(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "backends" and len(parts) > 1 else None


def _reach(graph: Mapping[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), set()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _cell_part(module: str) -> bool:
    """A cell package (``backends.<platform>.<family>``) or one of its parts (pipeline, shaper, storage);
    other modules of a cell folder (the stored documents' field types, say) are not parts."""
    parts = module.split(".")
    if len(parts) == 3:
        return MODULES.get(module, Path()).name == "__init__.py"
    return len(parts) == 4 and parts[3] in ("pipeline", "shaper", "storage")


def evaluator_leaks(graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """Per evaluator module, what it reaches that wrote the query or knows the mapping: a backend,
    the target, an emitter, the cells list or a cell's parts."""
    return {
        name: sorted(
            dep for dep in _reach(graph, name)
            if _platform(dep) and (dep.endswith(("_backend", ".target", ".emit", ".cells")) or _cell_part(dep))
        )
        for name in graph
        if name.rpartition(".")[2].endswith("_evaluator")
    }


def test_platforms_never_import_each_other() -> None:
    crossings = sorted(
        f"{name} -> {dep}"
        for name, deps in GRAPH.items()
        for dep in deps
        if _platform(name) and _platform(dep) and _platform(name) != _platform(dep)
    )
    assert crossings == []


def test_the_compiler_never_imports_a_platform() -> None:
    """Platforms are found through ``backends.PLATFORMS`` at run time, never imported by name."""
    assert sorted(f"{n} -> {d}" for n, deps in GRAPH.items() if n.startswith("compiler") for d in deps
                  if d.startswith("backends")) == []


def test_evaluators_never_reach_their_backend_or_mapping() -> None:
    """An evaluator parses the query text: nothing it imports, directly or not, wrote the query or
    knows the field mapping."""
    leaks = evaluator_leaks(GRAPH)
    assert len(leaks) >= 5
    assert leaks == {name: [] for name in leaks}


def test_an_evaluator_leak_through_a_helper_is_seen() -> None:
    graph = {
        "backends.x.x_evaluator": {"backends.x.helper", "compiler.errors"},
        "backends.x.helper": {"backends.x.x_backend", "backends.x.cloudtrail.pipeline"},
        "backends.x.y_evaluator": {"compiler.errors", "backends.x.cloudtrail.field_types"},
    }
    assert evaluator_leaks(graph) == {
        "backends.x.x_evaluator": ["backends.x.cloudtrail.pipeline", "backends.x.x_backend"],
        "backends.x.y_evaluator": [],
    }


@pytest.mark.parametrize("platform", PLATFORMS, ids=list(PLATFORMS))
def test_every_platform_folder_has_the_same_parts(platform: str) -> None:
    """The parts README's architecture section names: ``__init__.py`` (TARGETS, EMITTERS, CELLS),
    ``target.py`` (the targets), per target ``<name>_backend.py`` and ``<name>_evaluator.py`` (defining
    ``evaluator(query)`` and ``parse(query)``),
    ``emit.py`` (the emitters), ``cells.py`` and one folder per cell; the reference has no backend,
    emitter or cell."""
    package = importlib.import_module(f"backends.{platform}")
    names = [t.name for t in package.TARGETS]
    assert names
    assert {type(t).__module__ for t in package.TARGETS} == {f"backends.{platform}.target"}
    expected = {f"backends.{platform}", f"backends.{platform}.target"}
    expected |= {f"backends.{platform}.{n}_evaluator" for n in names}
    if platform == REFERENCE:
        assert package.EMITTERS == [] and not hasattr(package, "CELLS")
    else:
        expected |= {f"backends.{platform}.{n}_backend" for n in names}
        expected |= {f"backends.{platform}.emit", f"backends.{platform}.cells"}
        for name in names:
            tree = ast.parse(MODULES[f"backends.{platform}.{name}_evaluator"].read_text(encoding="utf-8"))
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert {"evaluator", "parse"} <= defined, name
        assert {type(e).__module__ for e in package.EMITTERS} == {f"backends.{platform}.emit"}
        assert package.CELLS
        for family, cell in package.CELLS.items():
            assert cell.__name__ == f"backends.{platform}.{family}"
            expected |= {f"backends.{platform}.{family}.{part}" for part in ("pipeline", "shaper", "storage")}
    assert sorted(expected - set(MODULES)) == []
    evaluators = {m for m in MODULES if _platform(m) == platform and m.count(".") == 2 and m.endswith("_evaluator")}
    assert evaluators == {f"backends.{platform}.{n}_evaluator" for n in names}


def test_the_eventbridge_shaper_takes_nothing_from_the_pattern_builder() -> None:
    """The envelope of a shaped event (source, detail-type) is derived apart from the pattern's, so a
    wrong derivation on one side fails the fixtures instead of agreeing with itself."""
    assert sorted(d for d in _reach(GRAPH, "backends.aws.cloudtrail.shaper") if d.startswith("backends")) == []


def test_emitters_never_derive_target_settings() -> None:
    """An emitter reads what the target decided (``Compiled.details``, ``Compiled.deployment``, or the
    target module's own function for the build-wide ones), never ``profile.settings`` or a target's defaults."""
    found = []
    for name, path in MODULES.items():
        if _platform(name) and name.endswith(".emit"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr == "settings":
                    found.append(f"{name}:{node.lineno} .settings")
                if isinstance(node, ast.alias) and node.name.endswith("DEFAULTS"):
                    found.append(f"{name} imports {node.name}")
    assert found == []
