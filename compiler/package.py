"""Reproducible per-client packages and the release note between two of them."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compiler import __version__
from compiler.build import BuildResult, sha256
from compiler.errors import UsageError
from compiler.jsonio import dumps
from compiler.profile import Profile

PACKAGE_MANIFEST = "package.json"


def package_manifest(result: BuildResult, profile: Profile) -> dict[str, Any]:
    """Per rule: id, version, source hash and, for each artifact that carries it, the sha256 of
    the file (a file of its own) or of its share of the file (a file many rules share), so that
    the difference of two packages names the rules that really changed."""
    rules: dict[str, Any] = {}
    manifest = json.loads(result.files["manifest.json"])
    for rr in result.results:
        rule = rr.rule
        artifacts: dict[str, str] = {}
        for entry in manifest["rules"][rule.id]["targets"].values():
            for art in entry.get("artifacts", []):
                artifacts[art["path"]] = art.get("sha256") or art["part_sha256"]
        rules[rule.id] = {
            "title": rule.title,
            "version": str(rule.sigma.modified or rule.sigma.date or ""),
            "source_sha256": rule.sha256,
            "level": rule.level,
            "risk_score": rule.meta.risk_score,
            "artifacts": dict(sorted(artifacts.items())),
            "unsupported": sorted(rr.unsupported),
        }
    return {
        "client": profile.name,
        "profile_sha256": profile.sha256,
        "detc_version": __version__,
        "rules": rules,
        "files": {p: sha256(d) for p, d in sorted(result.files.items())},
    }


def make_archive(files: Mapping[str, bytes], prefix: str) -> bytes:
    """A tar.gz with sorted entries, fixed owner, mode and timestamps: same inputs, same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            data = files[path]
            info = tarfile.TarInfo(f"{prefix}/{path}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def package(result: BuildResult, profile: Profile) -> tuple[bytes, bytes]:
    """The archive and its manifest, both as bytes."""
    manifest = dumps(package_manifest(result, profile))
    files = {**result.files, PACKAGE_MANIFEST: manifest}
    return make_archive(files, profile.name), manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """A package manifest from its JSON file or from inside a package archive."""
    try:
        if path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path, "r:gz") as tar:
                member = next((m for m in tar.getmembers() if m.name.endswith("/" + PACKAGE_MANIFEST)), None)
                if member is None:
                    raise UsageError(f"{path}: no {PACKAGE_MANIFEST} in the archive")
                handle = tar.extractfile(member)
                assert handle is not None
                data = json.loads(handle.read())
        else:
            data = json.loads(path.read_bytes())
    except (OSError, tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read package manifest: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("rules"), dict):
        raise UsageError(f"{path}: not a detc package manifest")
    return data


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rules added, removed and changed between two package manifests."""
    a, b = old["rules"], new["rules"]
    changed = []
    for rid in sorted(set(a) & set(b)):
        reasons = []
        if a[rid].get("source_sha256") != b[rid].get("source_sha256"):
            reasons.append("rule source changed")
        for key in ("version", "level", "risk_score"):
            if a[rid].get(key) != b[rid].get(key):
                reasons.append(f"{key} {a[rid].get(key)} -> {b[rid].get(key)}")
        if a[rid].get("artifacts") != b[rid].get("artifacts"):
            paths = sorted(
                p for p in set(a[rid]["artifacts"]) | set(b[rid]["artifacts"])
                if a[rid]["artifacts"].get(p) != b[rid]["artifacts"].get(p)
            )
            reasons.append("artifacts changed: " + ", ".join(paths))
        if reasons:
            changed.append({"id": rid, "title": b[rid].get("title", ""), "changes": reasons})
    return {
        "added": [{"id": r, "title": b[r].get("title", "")} for r in sorted(set(b) - set(a))],
        "removed": [{"id": r, "title": a[r].get("title", "")} for r in sorted(set(a) - set(b))],
        "changed": changed,
    }
