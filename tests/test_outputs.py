"""The output folder: compared by digest, replaced all at once, preserved entries kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.errors import EmitError
from compiler.outputs import compare, digests, existing_files, write_files, write_tree


def test_write_tree_writes_then_leaves_an_identical_tree_alone(tmp_path: Path) -> None:
    out = tmp_path / "output"
    files = {"a.txt": b"A", "sub/b.txt": b"B"}
    assert write_tree(out, files) is True
    assert existing_files(out) == files
    before = os.stat(out / "sub" / "b.txt").st_ino
    assert write_tree(out, files) is False
    assert os.stat(out / "sub" / "b.txt").st_ino == before


def test_write_tree_replaces_owned_content_and_keeps_preserved_entries(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_tree(out, {"a.txt": b"A", "old.txt": b"O"})
    (out / "clients").mkdir()
    (out / "clients" / "acme.txt").write_bytes(b"client build")
    unchanged = os.stat(out / "a.txt").st_ino
    assert write_tree(out, {"a.txt": b"A", "new.txt": b"N"}, preserve=("clients",)) is True
    assert existing_files(out, preserve=("clients",)) == {"a.txt": b"A", "new.txt": b"N"}
    assert (out / "clients" / "acme.txt").read_bytes() == b"client build"
    assert os.stat(out / "a.txt").st_ino == unchanged  # an unchanged file is linked, not written again
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".output.detc-")]  # no stage left behind


def test_write_tree_refuses_unsafe_paths_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_tree(out, {"a.txt": b"A"})
    with pytest.raises(EmitError, match="unsafe artifact path"):
        write_tree(out, {"../escape.txt": b"x"})
    assert existing_files(out) == {"a.txt": b"A"}
    assert not (tmp_path / "escape.txt").exists()


def test_compare_names_stale_missing_and_extra_files(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_tree(out, {"same": b"1", "changed": b"old", "extra": b"x"})
    drift = compare(out, {"same": b"1", "changed": b"new", "missing": b"m"})
    assert not drift.clean
    assert drift.lines() == ["stale: changed", "missing: missing", "extra: extra"]
    assert compare(out, existing_files(out)).clean


def test_digests_skip_preserved_entries(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_tree(out, {"a": b"A"})
    (out / "clients").mkdir()
    (out / "clients" / "x").write_bytes(b"X")
    assert set(digests(out)) == {"a", "clients/x"}
    assert set(digests(out, preserve=("clients",))) == {"a"}
    assert digests(tmp_path / "absent") == {}


def test_write_files_writes_each_file_and_refuses_unsafe_ones(tmp_path: Path) -> None:
    write_files(tmp_path / "dist", {"acme.tar.gz": b"tar", "acme.package.json": b"{}"})
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["acme.package.json", "acme.tar.gz"]
    with pytest.raises(EmitError):
        write_files(tmp_path / "dist", {"/abs": b""})
