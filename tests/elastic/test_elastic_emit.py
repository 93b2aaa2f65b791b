"""Elastic artifacts: the seed rule's TOML equals the seed field by field; NDJSON for Kibana import."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path

import pytest

from backends.elastic.emit import EQL_RULE_NAMESPACE, LUCENE_RULE_NAMESPACE, ElasticEmitter, threat
from backends.elastic.eql_evaluator import evaluator as eql_evaluator
from backends.elastic.toml_writer import check, indented_block, indented_value, literal_block, multiline
from compiler.build import compile_rules
from compiler.errors import EmitError
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.target import emit, load_registry
from tests.support import ROOT, SEED_ELASTIC_TOML, SEED_RULE, case_id

OUTPUT = ROOT / "output" / "elastic"
SEED_TOML = OUTPUT / "aws_kms_imported_key_material_deleted.toml"
SEED_EQL_TOML = OUTPUT / "eql" / "aws_kms_imported_key_material_deleted.toml"


def _seed():
    return load_rule(SEED_RULE, SEED_RULE.relative_to(ROOT).as_posix())  # as the build names it


def _emit(rules):
    registry = load_registry()
    targets = [registry.get("kql"), registry.get("lucene"), registry.get("eql")]
    results, errors = compile_rules(rules, targets, DEFAULT_PROFILE)
    assert not errors
    return {a.path: a for a in emit(ElasticEmitter(), results, DEFAULT_PROFILE)}


def test_elastic_toml_has_every_seed_field() -> None:
    seed = tomllib.loads(SEED_ELASTIC_TOML.read_text())
    ours = tomllib.loads(SEED_TOML.read_text())
    assert ours["metadata"] == seed["metadata"]
    assert set(ours["rule"]) == set(seed["rule"])
    for key, value in seed["rule"].items():
        if key == "query":
            continue  # equivalent, not equal: tests/elastic/test_kql_seed.py runs both
        assert ours["rule"][key] == value, key
    assert ours["rule"]["language"] == "kuery"


def test_elastic_committed_toml_is_what_the_emitter_writes() -> None:
    artifacts = _emit([_seed()])
    assert artifacts["elastic/aws_kms_imported_key_material_deleted.toml"].data == SEED_TOML.read_bytes()
    seed_lines = artifacts["elastic/rules.ndjson"].data.decode().splitlines()
    committed = (OUTPUT / "rules.ndjson").read_text().splitlines()
    assert len(seed_lines) == 3 and [line for line in committed if line in seed_lines] == seed_lines
    assert artifacts["elastic/eql/aws_kms_imported_key_material_deleted.toml"].data == SEED_EQL_TOML.read_bytes()


def test_elastic_ndjson_has_every_language_with_distinct_ids() -> None:
    lines = (OUTPUT / "rules.ndjson").read_text().splitlines()
    every = [json.loads(line) for line in lines]
    assert len({r["rule_id"] for r in every}) == len(every)
    seed_id = "f6fee40d-8a5e-4cc8-9f73-8688419c6d68"
    seed_ids = (seed_id, str(uuid.uuid5(LUCENE_RULE_NAMESPACE, seed_id)), str(uuid.uuid5(EQL_RULE_NAMESPACE, seed_id)))
    rules = [r for r in every if r["rule_id"] in seed_ids]
    assert [r["language"] for r in rules] == ["kuery", "lucene", "eql"]
    kuery, lucene, eql = rules
    assert kuery["rule_id"] == "f6fee40d-8a5e-4cc8-9f73-8688419c6d68"
    assert lucene["rule_id"] == str(uuid.uuid5(LUCENE_RULE_NAMESPACE, kuery["rule_id"])) != kuery["rule_id"]
    assert lucene["name"] == kuery["name"] + " (Lucene)"
    assert eql["rule_id"] == str(uuid.uuid5(EQL_RULE_NAMESPACE, kuery["rule_id"])) not in (kuery["rule_id"], lucene["rule_id"])
    assert eql["name"] == kuery["name"] + " (EQL)"
    assert [r["type"] for r in rules] == ["query", "query", "eql"]
    for rule in rules:
        assert rule["enabled"] is False
        assert rule["index"] == ["logs-aws.cloudtrail-*"] and rule["from"] == "now-6m" and rule["interval"] == "5m"
        assert rule["risk_score"] == 47 and rule["severity"] == "medium"
        assert rule["threat"][0]["tactic"]["id"] == "TA0040"
        assert rule["investigation_fields"]["field_names"][0] == "@timestamp"
        assert not rule["query"].endswith("\n")
    assert kuery["false_positives"][0].startswith("Encryption or platform teams")  # plain text, no TOML indent
    assert lucene["query"].startswith("data_stream.dataset:aws.cloudtrail AND ")
    assert eql["query"].startswith('any where data_stream.dataset : "aws.cloudtrail" and ')


def test_elastic_eql_toml_has_every_seed_field_and_elastics_parser_accepts_it() -> None:
    """The EQL variant passes the checks the KQL TOML passes (its own id, name, type and language)."""
    seed = tomllib.loads(SEED_ELASTIC_TOML.read_text())
    ours = tomllib.loads(SEED_EQL_TOML.read_text())
    assert ours["metadata"] == seed["metadata"]
    assert set(ours["rule"]) == set(seed["rule"])
    different = {"query", "type", "language", "rule_id", "name"}
    for key, value in seed["rule"].items():
        if key not in different:
            assert ours["rule"][key] == value, key
    assert (ours["rule"]["type"], ours["rule"]["language"]) == ("eql", "eql")
    assert ours["rule"]["rule_id"] == str(uuid.uuid5(EQL_RULE_NAMESPACE, seed["rule"]["rule_id"]))
    assert ours["rule"]["name"] == seed["rule"]["name"] + " (EQL)"
    eql_evaluator(ours["rule"]["query"])  # eql.parse_query in Elasticsearch syntax, as detection-rules checks


def test_elastic_threat_mapping_from_tags(rule_from) -> None:
    rule = rule_from(
        {"sel": {"eventName": "x"}, "condition": "sel"},
        tags=["attack.defense-evasion", "attack.t1562.001", "attack.exfiltration", "attack.t1537", "attack.g0016"],
    )
    entries = threat(rule)
    assert [e["tactic"]["name"] for e in entries] == ["Defense Evasion", "Exfiltration"]
    evasion, exfil = entries
    assert evasion["technique"] == [
        {
            "id": "T1562",
            "name": "Impair Defenses",
            "reference": "https://attack.mitre.org/techniques/T1562/",
            "subtechnique": [
                {"id": "T1562.001", "name": "Disable or Modify Tools", "reference": "https://attack.mitre.org/techniques/T1562/001/"}
            ],
        }
    ]
    assert exfil["technique"][0]["id"] == "T1537"


def test_elastic_threat_unknown_technique_is_an_error(rule_from) -> None:
    rule = rule_from({"sel": {"eventName": "x"}, "condition": "sel"}, tags=["attack.t9999"])
    with pytest.raises(EmitError, match="T9999"):
        threat(rule)


def test_elastic_toml_rule_without_kql_uses_lucene(rule_from) -> None:
    rule = rule_from({"sel": {"eventName|re": "^Delete"}, "condition": "sel"})
    artifacts = _emit([rule])
    toml = tomllib.loads(next(a for p, a in artifacts.items() if p.endswith(".toml") and "/eql/" not in p).data.decode())
    assert toml["rule"]["language"] == "lucene"
    lines = artifacts["elastic/rules.ndjson"].data.decode().splitlines()
    assert [json.loads(line)["language"] for line in lines] == ["lucene", "eql"]  # the regex holds in both
    eql_toml = tomllib.loads(next(a for p, a in artifacts.items() if "/eql/" in p).data.decode())
    assert eql_toml["rule"]["query"] == 'any where data_stream.dataset : "aws.cloudtrail" and event.action regex "Delete.*"\n'


@pytest.mark.parametrize(
    "text",
    ["plain", "ends with a quote\"", 'three """ quotes', "back\\slash\n", "\nleading newline", "tab\tand\rcr", "x\x01y"],
    ids=case_id,
)
def test_elastic_toml_strings_read_back(text: str) -> None:
    doc = f"a = {multiline(text, leading_newline=True)}\nb = {multiline(text, leading_newline=False)}\nc = {literal_block(text)}\n"
    assert tomllib.loads(doc) == {"a": text, "b": text, "c": text}
    block = f"d = [\n    {indented_block(text)},\n]\n"
    assert tomllib.loads(block)["d"] == [indented_value(text)]


def test_elastic_toml_check_catches_a_mismatch() -> None:
    with pytest.raises(EmitError, match="does not read back"):
        check('a = "x\\n"\n', {"a": "x"}, "test")
    with pytest.raises(EmitError, match="does not parse"):
        check('a = "\\q"\n', {"a": "y"}, "test")


def test_elastic_toml_check_parses_only_documents_with_an_escape() -> None:
    check('a = "x"\n', {"a": "x"}, "test")  # verbatim: nothing the writer escaped
    with pytest.raises(EmitError):
        check('a = "x\x01"\n', {"a": "x"}, "test")  # a raw control character is parsed, and refused


def test_elastic_output_is_deterministic() -> None:
    rule = _seed()
    first, second = _emit([rule]), _emit([rule])
    assert {p: a.data for p, a in first.items()} == {p: a.data for p, a in second.items()}
    assert Path(SEED_TOML).read_bytes() == first["elastic/aws_kms_imported_key_material_deleted.toml"].data
