"""Client packages: reproducible archives, a manifest naming each rule's artifacts, and their diff."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from compiler.build import build
from compiler.errors import UsageError
from compiler.package import PACKAGE_MANIFEST, diff, make_archive, package, read_manifest
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.target import load_registry
from tests.support import SEED_RULE

REGISTRY = load_registry()


def test_archive_is_reproducible_with_fixed_metadata() -> None:
    files = {"b.txt": b"B", "a/x.txt": b"X"}
    data = make_archive(files, "acme")
    assert data == make_archive(dict(reversed(list(files.items()))), "acme")
    assert data[4:8] == b"\0\0\0\0"  # the gzip header carries no time
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["acme/a/x.txt", "acme/b.txt"]
        assert {(m.mtime, m.mode, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0o644, 0, 0, "", "")}


def test_package_manifest_names_each_rule_artifact(tmp_path: Path) -> None:
    rule = load_rule(SEED_RULE, "sigma/aws/kms/aws_kms_imported_key_material_deleted.yml")
    result = build([rule], REGISTRY, list(REGISTRY.targets.values()), DEFAULT_PROFILE)
    archive, manifest_bytes = package(result, DEFAULT_PROFILE)
    manifest = json.loads(manifest_bytes)
    entry = manifest["rules"][rule.id]
    assert entry["source_sha256"] == rule.sha256
    assert entry["unsupported"] == []
    assert "elastic/aws_kms_imported_key_material_deleted.toml" in entry["artifacts"]
    assert "elastic/rules.ndjson" in entry["artifacts"]  # its share of the shared file
    assert set(manifest["files"]) == set(result.files)
    (tmp_path / "default.tar.gz").write_bytes(archive)
    (tmp_path / "default.package.json").write_bytes(manifest_bytes)
    assert read_manifest(tmp_path / "default.tar.gz") == manifest == read_manifest(tmp_path / "default.package.json")
    with tarfile.open(tmp_path / "default.tar.gz") as tar:
        assert f"{DEFAULT_PROFILE.name}/{PACKAGE_MANIFEST}" in tar.getnames()


def _manifest(**rules: dict) -> dict:
    return {"rules": rules}


def test_diff_names_added_removed_and_changed_rules() -> None:
    base = {"title": "T", "version": "2026-01-01", "source_sha256": "s", "level": "high", "risk_score": 73,
            "artifacts": {"a.toml": "1", "rules.ndjson": "2"}}
    old = _manifest(kept=base, gone=dict(base, title="Gone"), edited=base)
    edited = dict(base, source_sha256="t", level="critical", artifacts={"a.toml": "9", "rules.ndjson": "2"})
    new = _manifest(kept=base, edited=edited, fresh=dict(base, title="Fresh"))
    assert diff(old, new) == {
        "added": [{"id": "fresh", "title": "Fresh"}],
        "removed": [{"id": "gone", "title": "Gone"}],
        "changed": [{"id": "edited", "title": "T",
                     "changes": ["rule source changed", "level high -> critical", "artifacts changed: a.toml"]}],
    }
    assert diff(new, new) == {"added": [], "removed": [], "changed": []}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.package.json", b"not json", "cannot read package manifest"),
        ("x.package.json", b"[]", "not a detc package manifest"),
        ("x.package.json", None, "cannot read package manifest"),
        ("x.tar.gz", make_archive({"other.txt": b""}, "x"), "no package.json in the archive"),
    ],
    ids=["not-json", "not-a-manifest", "missing", "archive-without-manifest"],
)
def test_unreadable_manifests_are_usage_errors(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        read_manifest(path)
