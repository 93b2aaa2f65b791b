"""Where rules, tests files and client profiles are, read in one walk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from compiler import paths
from compiler.errors import RuleLoadError
from compiler.paths import (
    all_clients,
    display_path,
    display_paths,
    orphan_errors,
    orphan_tests_files,
    read_sources,
    rule_files,
)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return _tree(tmp_path / "sigma", {
        "b/two.yml": "title: two\n",
        "b/two.tests.yml": "cases: []\n",
        "a/one.yml": "title: one\n",
        "a/ghost.tests.yml": "cases: []\n",
        "a/notes.txt": "not a rule\n",
        "c.yml": "title: three\n",
    })


def test_tests_path_for() -> None:
    assert paths.tests_path_for(Path("sigma/a/x.yml")) == Path("sigma/a/x.tests.yml")


def test_rule_files_are_sorted_without_tests_files(rules: Path) -> None:
    assert [p.relative_to(rules).as_posix() for p in rule_files(rules)] == ["a/one.yml", "b/two.yml", "c.yml"]
    assert rule_files(rules / "c.yml") == [rules / "c.yml"]
    with pytest.raises(RuleLoadError, match="no such rules directory"):
        rule_files(rules / "missing")


def test_orphan_tests_files_by_display_path(rules: Path) -> None:
    assert orphan_tests_files(rules) == ["sigma/a/ghost.tests.yml"]
    assert orphan_tests_files(rules / "missing") == []
    assert [str(e) for e in orphan_errors(["sigma/a/ghost.tests.yml"])] == [
        "sigma/a/ghost.tests.yml: tests file without a rule beside it"
    ]


def test_read_sources_in_one_walk(rules: Path) -> None:
    sources = read_sources(rules)
    assert [s.display for s in sources.rules] == ["sigma/a/one.yml", "sigma/b/two.yml", "sigma/c.yml"]
    two = sources.rules[1]
    assert two.raw == b"title: two\n"
    assert two.sha256 == hashlib.sha256(b"title: two\n").hexdigest()
    assert two.tests_sha == hashlib.sha256(b"cases: []\n").hexdigest()
    assert sources.rules[0].tests_sha is None
    assert sources.orphans == ("sigma/a/ghost.tests.yml",)
    assert sources.unreadable == ()
    assert two.read() is two  # bytes already there


def test_read_sources_of_one_file(rules: Path) -> None:
    sources = read_sources(rules / "b" / "two.yml")
    assert [(s.display, s.tests_sha is not None) for s in sources.rules] == [("sigma/b/two.yml", True)]
    with pytest.raises(RuleLoadError, match="no such rules directory"):
        read_sources(rules / "nope")


def test_display_paths_are_relative_to_the_working_folder(rules: Path, tmp_path: Path) -> None:
    assert display_path(rules / "c.yml") == "sigma/c.yml"
    assert display_path(Path("/elsewhere/x.yml")) == "/elsewhere/x.yml"
    assert display_paths([rules / "a" / "one.yml", tmp_path / "top.yml"], [False, False]) == ["sigma/a/one.yml", "top.yml"]


def test_all_clients(tmp_path: Path) -> None:
    _tree(tmp_path / "clients", {"globex.yml": "", "acme.yml": "", "readme.md": ""})
    assert all_clients(tmp_path / "clients") == ["acme", "globex"]
    assert all_clients(tmp_path / "none") == []
