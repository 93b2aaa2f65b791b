"""compiler.uptodate: a build served from what the cache recorded, and only when the output folder
holds exactly those files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from compiler.cache import Cache
from compiler.uptodate import OutputTree, build_keys, record_build, save_records, unchanged


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree(tmp_path: Path, cache: Cache, files: dict[str, bytes]) -> OutputTree:
    root = tmp_path / "out"
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    tree = OutputTree(cache, root, ())
    tree.start()
    return tree


def test_a_recorded_build_whose_files_are_on_disk_is_unchanged(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    record_build(cache, "k1", {"a.txt": _sha(b"A"), "b.txt": _sha(b"B")}, {})
    assert unchanged(cache, "k1", _tree(tmp_path, cache, {"a.txt": b"A", "b.txt": b"B"})) == 2


def test_a_changed_file_an_extra_file_or_no_record_is_not(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    record_build(cache, "k1", {"a.txt": _sha(b"A")}, {})
    assert unchanged(cache, "k1", _tree(tmp_path / "x", cache, {"a.txt": b"changed"})) is None
    assert unchanged(cache, "k1", _tree(tmp_path / "y", cache, {"a.txt": b"A", "extra.txt": b""})) is None
    assert unchanged(cache, "other", _tree(tmp_path / "z", cache, {"a.txt": b"A"})) is None


def test_a_changed_event_file_makes_the_record_stale(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    event = tmp_path / "event.json"
    event.write_text("{}")
    record_build(cache, "k1", {"a.txt": _sha(b"A")}, {str(event): _sha(b"{}")})
    tree = _tree(tmp_path, cache, {"a.txt": b"A"})
    assert unchanged(cache, "k1", tree) == 1
    event.write_text('{"x": 1}')
    assert unchanged(cache, "k1", tree) is None


def test_no_cache_no_keys_and_records_saved(tmp_path: Path) -> None:
    off = Cache(None)
    assert build_keys(off, None, None, None, False, tmp_path) == {}  # type: ignore[arg-type]
    cache = Cache(tmp_path / "cache")
    tree = _tree(tmp_path, cache, {"a.txt": b"A"})
    assert tree.digests() == {"a.txt": _sha(b"A")}

    class Inputs:
        saved = False

        def save(self) -> None:
            self.saved = True

    inputs = Inputs()
    save_records(inputs, {"default": tree})
    assert inputs.saved
