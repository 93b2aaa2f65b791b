"""rules.ndjson against what Elastic's detection-rules renders from detc's own TOML (``to_api_format``).

The rendering below follows detection-rules' ``TOMLRuleContents.to_api_format`` step by step (read
from elastic/detection-rules ``detection_rules/rule.py`` and ``rule_formatter.py``): the ``[rule]``
table, ``nested_normalize`` (strings but ``query``/``note``/``setup`` stripped line by line and
joined with spaces), ``threat[].technique`` defaulted to ``[]``, and for a KQL rule whose metadata
names an integration, ``related_integrations`` and ``required_fields``. It is written here from
that source, not imported from detc.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.elastic.api_format import is_ecs
from backends.elastic.emit import ElasticEmitter
from compiler.build import compile_rules
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.target import emit, load_registry
from tests.support import ROOT, SEED_RULE, require_corpus

DETC_ONLY = {"enabled", "version", "meta", "interval"}
"""Keys of an import line that to_api_format does not render: Kibana's import wants them (the rule
imported disabled, its version, where it came from, its interval even when it is the default)."""

SEED_RELATED = [{"package": "aws", "integration": "cloudtrail", "version": "^2.0.0"}]
SEED_REQUIRED = [
    {"name": "aws.cloudtrail.error_code", "type": "keyword", "ecs": False},
    {"name": "aws.cloudtrail.user_identity.type", "type": "keyword", "ecs": False},
    {"name": "data_stream.dataset", "type": "constant_keyword", "ecs": True},
    {"name": "event.action", "type": "keyword", "ecs": True},
    {"name": "event.provider", "type": "keyword", "ecs": True},
]


def cleanup_whitespace(val: Any) -> Any:
    if isinstance(val, str):
        return " ".join(line.strip() for line in val.strip().splitlines())
    return val


def nested_normalize(d: Any, skip_cleanup: bool = False) -> Any:
    if isinstance(d, str):
        return d if skip_cleanup else cleanup_whitespace(d)
    if isinstance(d, list):
        return [nested_normalize(v) for v in d]
    if isinstance(d, dict):
        for k, v in d.items():
            if k == "query":
                d[k] = v
            elif k in ("note", "setup"):
                d[k] = nested_normalize(v, skip_cleanup=True)
            else:
                d[k] = nested_normalize(v)
        return d
    return d


def to_api_format(toml_text: str) -> dict[str, Any]:
    converted = nested_normalize(tomllib.loads(toml_text)["rule"])
    for entry in converted.get("threat", []):
        entry.setdefault("technique", [])
    return converted


def kql_line() -> dict[str, Any]:
    registry = load_registry()
    results, errors = compile_rules([load_rule(SEED_RULE)], [registry.get("kql"), registry.get("lucene")], DEFAULT_PROFILE)
    assert not errors
    files = {a.path: a.data for a in emit(ElasticEmitter(), results, DEFAULT_PROFILE)}
    lines = [json.loads(line) for line in files["elastic/rules.ndjson"].decode().splitlines()]
    return next(line for line in lines if line["language"] == "kuery")


def test_seed_ndjson_equals_the_rendering_of_its_toml_field_by_field() -> None:
    toml_text = (ROOT / "output" / "elastic" / "aws_kms_imported_key_material_deleted.toml").read_text()
    rendered = to_api_format(toml_text)
    line = kql_line()
    for key, value in rendered.items():
        want = value.rstrip("\n") if key == "query" else value  # Kibana keeps no trailing newline
        assert line[key] == want, key
    assert set(line) - set(rendered) == DETC_ONLY | {"related_integrations", "required_fields"}
    assert line["related_integrations"] == SEED_RELATED
    assert line["required_fields"] == SEED_REQUIRED
    assert "\n" not in line["description"] and all("\n" not in fp for fp in line["false_positives"])
    assert "\n" in line["note"]  # Markdown keeps its lines


def _integration_types(fields: Path) -> dict[str, str]:
    """Field types the integration's own fields.yml gives (groups flattened), with its base fields."""
    out: dict[str, str] = {}

    def walk(items: list[dict[str, Any]], prefix: str) -> None:
        for item in items:
            name = f"{prefix}{item['name']}"
            if item.get("type") == "group":
                walk(item.get("fields", []), name + ".")
            elif "type" in item:
                out[name] = item["type"]

    for file in ("fields.yml", "base-fields.yml"):
        walk(yaml.safe_load((fields / file).read_text()), "")
    return out


def test_required_field_types_are_the_integrations() -> None:
    fields = require_corpus() / "elastic-integration-cloudtrail" / "fields"
    types = _integration_types(fields)
    ecs_declared = {i["name"] for i in yaml.safe_load((fields / "ecs.yml").read_text()) if i.get("external") == "ecs"}
    for field in kql_line()["required_fields"]:
        if field["name"] in types:
            assert field["type"] == types[field["name"]], field
        if field["name"] in ecs_declared:
            assert field["ecs"], field
        if field["name"].startswith("aws."):
            assert not field["ecs"], field


@pytest.mark.parametrize(
    ("name", "ecs"),
    [("event.outcome", True), ("user_agent.original", True), ("@timestamp", True), ("aws.cloudtrail.error_code", False),
     ("aws.cloudtrail.flattened.request_parameters.keyId", False)],
    ids=["event", "user_agent", "base", "integration", "flattened"],
)
def test_ecs_fields_are_told_from_the_integrations_own(name: str, ecs: bool) -> None:
    assert is_ecs(name) is ecs


def test_lucene_line_has_no_integration_fields(rule_from) -> None:
    """to_api_format adds neither list to a Lucene rule; prose is unwrapped all the same."""
    registry = load_registry()
    results, _ = compile_rules([load_rule(SEED_RULE)], [registry.get("lucene")], DEFAULT_PROFILE)
    files = {a.path: a.data for a in emit(ElasticEmitter(), results, DEFAULT_PROFILE)}
    (line,) = [json.loads(x) for x in files["elastic/rules.ndjson"].decode().splitlines()]
    assert "related_integrations" not in line and "required_fields" not in line
    assert "\n" not in line["description"]


def test_no_related_integration_without_the_rules_integration_metadata(rule_from) -> None:
    registry = load_registry()
    rule = rule_from({"sel": {"eventName": "StopLogging"}, "condition": "sel"})
    results, _ = compile_rules([rule], [registry.get("kql")], DEFAULT_PROFILE)
    files = {a.path: a.data for a in emit(ElasticEmitter(), results, DEFAULT_PROFILE)}
    (line,) = [json.loads(x) for x in files["elastic/rules.ndjson"].decode().splitlines()]
    assert "related_integrations" not in line
    assert line["required_fields"] == [
        {"name": "data_stream.dataset", "type": "constant_keyword", "ecs": True},
        {"name": "event.action", "type": "keyword", "ecs": True},
    ]


def test_seed_eql_ndjson_equals_the_rendering_of_its_eql_toml_field_by_field() -> None:
    """The EQL variant is rendered from its own TOML as the KQL one is, with both derived lists
    (detection-rules derives them for every query language but Lucene)."""
    toml_text = (ROOT / "output" / "elastic" / "eql" / "aws_kms_imported_key_material_deleted.toml").read_text()
    rendered = to_api_format(toml_text)
    lines = [json.loads(x) for x in (ROOT / "output" / "elastic" / "rules.ndjson").read_text().splitlines()]
    line = next(x for x in lines if x["language"] == "eql")
    for key, value in rendered.items():
        want = value.rstrip("\n") if key == "query" else value
        assert line[key] == want, key
    assert set(line) - set(rendered) == DETC_ONLY | {"related_integrations", "required_fields"}
    assert line["related_integrations"] == SEED_RELATED
    assert line["required_fields"] == SEED_REQUIRED


@pytest.mark.parametrize(
    ("query", "names", "datasets"),
    [
        ('any where ?a.b == null and `c-d`.e : "x"', ["a.b", "c-d.e"], []),
        ('any where data_stream.dataset in ("aws.cloudtrail", "x") and f like~ "y*"', ["data_stream.dataset", "f"],
         ["aws.cloudtrail", "x"]),
        ('any where event.dataset : "aws.cloudtrail" or not cidrMatch(source.ip, "10.0.0.0/8")',
         ["event.dataset", "source.ip"], ["aws.cloudtrail"]),
    ],
    ids=["optional-and-quoted", "in-list", "colon-and-function"],
)
def test_eql_query_fields(query: str, names: list[str], datasets: list[str]) -> None:
    from backends.elastic.api_format import eql_query_fields

    assert eql_query_fields(query) == (names, datasets)


@pytest.mark.parametrize(
    ("language", "query", "other"),
    [
        ("kuery", 'event.code: ("1" or "4688") and not process.name: *cmd* and winlog.event_data.x: "a b"', "a: 1"),
        ("eql", 'any where event.code : "1" and process.name : ("a.exe", "b*") and not user.name like~ "x"',
         "any where true"),
    ],
    ids=["kql", "eql"],
)
def test_a_shared_parse_tree_is_left_as_parsed(language: str, query: str, other: str) -> None:
    """The build parses a query to check it and reads the same kept tree for the rule's fields;
    reading the fields or building an evaluator must not change that tree."""
    from backends.elastic import eql_evaluator, kql_evaluator
    from backends.elastic.api_format import query_fields
    from backends.elastic.index_mapping import field_spec

    module = eql_evaluator if language == "eql" else kql_evaluator
    tree = module.parse(query)
    query_fields(query, language)
    module.evaluator(query, field_spec)({})
    assert module.parse(query) is tree
    module.parse(other)  # another query takes the kept place: the next parse is a fresh one
    fresh = module.parse(query)
    assert fresh is not tree
    assert tree == fresh
