"""The shaper against Elastic's own pipeline test pairs, field by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.elastic.index_mapping import FLATTENED_ROOTS, field_spec
from backends.elastic.cloudtrail.shaper import _hashmap_order, _java_text, shape
from compiler.errors import ShapeError

from conftest import CORPUS

INTEGRATION = CORPUS / "elastic-integration-cloudtrail"
PAIRS = INTEGRATION / "_dev" / "test" / "pipeline"
MANIFEST = {e["file"]: e["commit"] for e in json.loads((INTEGRATION / "manifest.json").read_text())}
PIPELINE_COMMIT = MANIFEST["elasticsearch/ingest_pipeline/default.yml"]

EMAIL_SPLIT_NAME = "user.name"
"""Later pipeline versions keep only the local part of an e-mail-shaped user name in user.name."""


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_leaves(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


def _cases() -> list[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    cases = []
    for log in sorted(PAIRS.glob("*.log")):
        expected = json.loads((log.parent / (log.name + "-expected.json")).read_text())["expected"]
        for i, (line, doc) in enumerate(zip(log.read_text().split("\n"), expected)):
            if line.strip():
                cases.append((log.name, i, json.loads(line), doc))
    return cases


CASES = _cases()


def _keyword(value: Any) -> Any:
    """What a keyword field indexes: booleans as their text (managementEvent is a keyword)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def test_the_corpus_is_there() -> None:
    assert len(CASES) == 25  # 21 files, 32 documents; 7 come from empty input lines


@pytest.mark.parametrize(("name", "index", "raw", "expected"), CASES, ids=[f"{c[0]}#{c[1]}" for c in CASES])
def test_elastic_shaper_matches_the_ingest_pipeline(name: str, index: int, raw: dict[str, Any], expected: dict[str, Any]) -> None:
    shaped = _leaves(shape(raw))
    want = _leaves(expected)
    commit = MANIFEST[f"_dev/test/pipeline/{name}-expected.json"]
    compared = 0
    for field, value in shaped.items():
        if field.startswith("data_stream."):
            continue  # constant keywords of the data stream, not in pipeline-test output
        assert field in want, f"{name}: shaper writes {field}, Elastic's pipeline does not"
        if field == EMAIL_SPLIT_NAME and want[field] != value:
            # A newer pipeline than the copied default.yml: it splits "test@elastic.co" into
            # user.name "test" and user.email. The copied pipeline (0046748f) keeps the address.
            assert commit != PIPELINE_COMMIT and "@" in value and want.get("user.email") == value
            continue
        assert _keyword(want[field]) == _keyword(value), f"{name}: {field}"
        compared += 1
    assert compared >= 10
    for field in want:  # every field the mapping relies on is produced when Elastic produces it
        if field in _SHAPED_FIELDS:
            assert field in shaped, f"{name}: Elastic writes {field}, the shaper does not"


_SHAPED_FIELDS = {
    "event.action", "event.provider", "event.outcome", "event.id", "cloud.region", "cloud.account.id",
    "source.address", "source.ip", "user_agent.original", "user.name", "user.id",
    "aws.cloudtrail.user_identity.type", "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id", "aws.cloudtrail.error_code", "aws.cloudtrail.error_message",
    "aws.cloudtrail.request_parameters", "aws.cloudtrail.response_elements",
    "aws.cloudtrail.recipient_account_id", "aws.cloudtrail.event_type", "aws.cloudtrail.read_only",
    "@timestamp",
}


def test_elastic_shaper_covers_failures_and_non_ip_sources() -> None:
    outcomes = {shape(raw)["event"]["outcome"] for _, _, raw, _ in CASES}
    assert outcomes == {"success", "failure"}
    addresses = [shape(raw).get("source", {}) for _, _, raw, _ in CASES]
    assert any("ip" in a for a in addresses)
    assert any("address" in a and "ip" not in a for a in addresses)  # e.g. "AWS Internal"
    assert any("flattened" in shape(raw)["aws"]["cloudtrail"] for _, _, raw, _ in CASES)


def test_elastic_shaper_data_stream_and_outcome() -> None:
    doc = shape({"eventName": "DeleteKey", "errorMessage": "denied"})
    assert doc["data_stream"] == {"type": "logs", "dataset": "aws.cloudtrail", "namespace": "default"}
    assert doc["event"]["outcome"] == "failure"  # an error message alone makes a failure
    assert shape({"eventName": "X", "errorCode": ""})["event"]["outcome"] == "success"  # empties dropped first
    login = shape({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure"}})
    assert login["event"]["outcome"] == "failure"


def test_elastic_shaper_user_name_falls_back_to_the_session_issuer() -> None:
    role = {"userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"userName": "KeyAdmin"}}}}
    assert shape(role)["user"]["name"] == "KeyAdmin"
    both = {"userIdentity": {"userName": "alice", "sessionContext": {"sessionIssuer": {"userName": "KeyAdmin"}}}}
    assert shape(both)["user"]["name"] == "alice"  # the rename never overwrites


def test_elastic_shaper_request_parameters_twice() -> None:
    doc = shape({"requestParameters": {"keyId": "k", "pendingWindowInDays": 7}})
    ct = doc["aws"]["cloudtrail"]
    assert ct["request_parameters"] == "{pendingWindowInDays=7, keyId=k}"  # Java HashMap order
    assert ct["flattened"]["request_parameters"] == {"keyId": "k", "pendingWindowInDays": 7}


def test_elastic_java_map_text() -> None:
    assert _java_text({"a": [1, True, {"b": 1.5}], "c": 1e-5}) == "{a=[1, true, {b=1.5}], c=1.0E-5}"
    # 13 keys need a 32-bucket table; the order is by bucket, then insertion.
    keys = [f"k{i}" for i in range(13)]
    assert sorted(_hashmap_order(keys, 13)) == sorted(keys)
    assert _hashmap_order(["keyId", "pendingWindowInDays"], 2) == ["pendingWindowInDays", "keyId"]


def test_elastic_shaper_refuses_non_objects() -> None:
    with pytest.raises(ShapeError):
        shape(["not", "a", "record"])  # type: ignore[arg-type]


def _field_types(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]], prefix: str) -> None:
        for item in items:
            name = prefix + item["name"]
            if item.get("type") == "group":
                walk(item.get("fields", []), name + ".")
            else:
                out[name] = item

    walk(yaml.safe_load(path.read_text()), "")
    return out


def test_elastic_index_mapping_agrees_with_the_integration_fields() -> None:
    fields = _field_types(INTEGRATION / "fields" / "fields.yml") | _field_types(INTEGRATION / "fields" / "base-fields.yml")
    checked = 0
    for name, item in fields.items():
        declared = item.get("type")
        if declared in (None, "text", "nested", "object") or name.startswith(("actor", "target", "service", "user.", "related", "aws.s3")):
            continue
        spec = field_spec(name)
        assert spec.type == declared, name
        if declared == "keyword" and "ignore_above" in item:
            assert spec.ignore_above == item["ignore_above"], name
        checked += 1
    assert checked >= 40
    assert all(fields[root]["type"] == "flattened" for root in FLATTENED_ROOTS)
