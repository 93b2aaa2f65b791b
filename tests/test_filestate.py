"""File records: a file is trusted unread only while its size and modification time are as
recorded, and never when it changed just before it was read."""

from __future__ import annotations

import os
import time
from pathlib import Path

from typer.testing import CliRunner

from compiler.cache import Cache
from compiler.cli import app
from compiler.filestate import SETTLE_NS, FileRecord
from compiler.outputs import digests

runner = CliRunner()


def _aged(path: Path, text: str | bytes, seconds: float = 10) -> None:
    if isinstance(text, bytes):
        path.write_bytes(text)  # the Splunk app's .tgz
    else:
        path.write_text(text)
    past = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(past, past))


def test_a_settled_file_is_known_again_without_reading(tmp_path: Path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    (tmp_path / "tree").mkdir()
    _aged(tmp_path / "tree" / "a.txt", "alpha")
    record = FileRecord(cache, tmp_path / "tree")
    first = digests(tmp_path / "tree", (), record)
    record.save()
    again = FileRecord(cache, tmp_path / "tree")
    monkeypatch.setattr("builtins.open", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read")))
    assert digests(tmp_path / "tree", (), again) == first


def test_a_changed_file_is_read_again(tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    (tmp_path / "tree").mkdir()
    target = tmp_path / "tree" / "a.txt"
    _aged(target, "alpha")
    record = FileRecord(cache, tmp_path / "tree")
    digests(tmp_path / "tree", (), record)
    record.save()
    _aged(target, "omega", seconds=5)  # same size, another time
    assert digests(tmp_path / "tree", (), FileRecord(cache, tmp_path / "tree")) == digests(tmp_path / "tree")


def test_a_file_changed_just_before_it_was_read_is_not_recorded(tmp_path: Path):
    record = FileRecord(Cache(tmp_path / "cache"), tmp_path)
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("x")
    stat = os.stat(fresh)
    record.note("fresh.txt", stat, "digest", stat.st_mtime_ns + SETTLE_NS // 2)
    assert record.digest("fresh.txt", stat) is None
    record.note("fresh.txt", stat, "digest", stat.st_mtime_ns + 2 * SETTLE_NS)
    assert record.digest("fresh.txt", stat) == "digest"


def test_an_edited_output_file_is_stale_even_with_records(tmp_path: Path, rules_dir: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", "--rules", str(rules_dir), "--output", str(out)]).exit_code == 0
    for path in out.rglob("*"):  # settle every file, then let a build record them
        if path.is_file():
            _aged(path, path.read_bytes())
    assert runner.invoke(app, ["build", "--rules", str(rules_dir), "--output", str(out), "--check"]).exit_code == 0
    spl = next(out.rglob("*.spl"))
    text = spl.read_text()
    spl.write_text(text.replace("index", "INDEX", 1))  # same size, new content, new time
    result = runner.invoke(app, ["build", "--rules", str(rules_dir), "--output", str(out), "--check"])
    assert result.exit_code == 1 and "stale: " + spl.relative_to(out).as_posix() in result.output
    assert runner.invoke(app, ["build", "--rules", str(rules_dir), "--output", str(out)]).exit_code == 0
    assert spl.read_text() == text
