"""Regenerate ``compiler/data/cloudtrail_paths.json``: the shape of every path seen in real CloudTrail records.

Usage: ``python tools/cloudtrail_paths.py [CORPUS]`` (default: ``DETC_CORPUS``, see CONTRIBUTING.md). Reads every
record under ``CORPUS/cloudtrail/`` (JSON arrays, S3 log files ``{"Records": [...]}``, single
records, NDJSON) and writes, per dotted path (Sigma's field names: no array markers), the
positions of its segments that hold JSON arrays and the kinds of value found at its end
(``object``, ``array``, ``scalar``, ``null``). The sources and their commits are listed in
``CORPUS/SOURCES.md``; the table names them in its ``sources`` key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import corpus_path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "compiler" / "data" / "cloudtrail_paths.json"
SOURCES = {
    "stratus-red-team": "DataDog/stratus-red-team@7c9a7a5a63dc370260a6528dd0d30476854806c1 docs/detonation-logs/",
    "invictus-ir-sigma-aws": "invictus-ir/Sigma-AWS@f0d55993fb575f747cee13069adeaa999c940b14 CloudTrail/",
    "panther-analysis": "panther-labs/panther-analysis@daa10c888566839e9918dfba1cd652743781e5fe rules/** Tests[].Log",
    "trailscraper": "flosell/trailscraper@d9c6de045f0399fca400c5e1627f6f31e41d3b16 tests/",
    "aws-docs-kms": "awsdocs/aws-kms-developer-guide@3447fd9221fcc8ee5589b4c1a513883756729eac doc_source/ct-*.md",
    "aws-docs-cloudtrail-user-guide": "awsdocs/aws-cloudtrail-user-guide@56f54d99dfee0c3faf3d4a2b87bb572ad9edf58a doc_source/",
}


def records(folder: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".json", ".ndjson") or path.name == "index.ndjson":
            continue
        text = path.read_text("utf-8")
        items: list[Any] = []
        if path.suffix == ".ndjson":
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
            items = data.get("Records", [data]) if isinstance(data, dict) else data
        out.extend(r for r in items if isinstance(r, dict) and "eventName" in r)
    return out


def walk(node: Any, parts: tuple[str, ...], arrays: tuple[int, ...], table: dict[str, Any]) -> None:
    if isinstance(node, list):
        if parts:
            arrays = arrays + (len(parts) - 1,)
            note(parts, arrays, "array", table)
        for item in node:
            if not isinstance(item, list):  # an array of arrays holds nothing Sigma can name
                walk(item, parts, arrays, table)
        return
    if parts:
        kind = "object" if isinstance(node, dict) else "null" if node is None else "scalar"
        note(parts, arrays, kind, table)
    if isinstance(node, dict):
        for key, value in node.items():
            walk(value, parts + (key,), arrays, table)


def note(parts: tuple[str, ...], arrays: tuple[int, ...], kind: str, table: dict[str, Any]) -> None:
    entry = table.setdefault(".".join(parts), {"arrays": set(), "kinds": set()})
    entry["arrays"].update(arrays)
    entry["kinds"].add(kind)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else corpus_path()
    table: dict[str, Any] = {}
    count = 0
    for source in sorted(SOURCES):
        found = records(corpus / "cloudtrail" / source)
        count += len(found)
        for record in found:
            walk(record, (), (), table)
    paths = {
        path: {"arrays": sorted(entry["arrays"]), "kinds": sorted(entry["kinds"])}
        for path, entry in sorted(table.items())
    }
    data = {"records": count, "sources": SOURCES, "paths": paths}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    print(f"{OUT}: {len(paths)} paths from {count} records")


if __name__ == "__main__":
    main()
