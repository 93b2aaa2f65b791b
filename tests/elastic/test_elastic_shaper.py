"""The shaper against Elastic's own pipeline test pairs, field by field.

One pair (tests/data/elastic/pipeline/) runs everywhere; every pair of the integration and its field
definitions come from the corpus (``elastic-integration-cloudtrail``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.elastic.cloudtrail.shaper import shape
from backends.elastic.index_mapping import FLATTENED_ROOTS, field_spec
from compiler.errors import ShapeError
from tests.support import DATA, corpus_ids

INTEGRATION = "elastic-integration-cloudtrail"
PIPELINE_COMMIT = "0046748f8cfe9a89cf2f8f7a55be5528ad4b3695"
"""The commit of the ingest pipeline (default.yml) the shaper transcribes."""
DATA_PAIR_COMMIT = "04e9c0f8bfb30ecec4af482aadd80a9e233200cd"
"""The commit of the pair in tests/data (tests/data/SOURCES.md)."""

EMAIL_SPLIT_NAME = "user.name"
"""Later pipeline versions keep only the local part of an e-mail-shaped user name in user.name."""

Pair = tuple[str, int, dict[str, Any], dict[str, Any]]


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_leaves(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


def _pairs(folder: Path) -> list[Pair]:
    """(file, line, raw record, expected document) of every pipeline test pair in a folder; the
    inputs hold an empty line where the expected document has no original event."""
    cases = []
    for log in sorted(folder.glob("*.log")):
        expected = json.loads((log.parent / (log.name + "-expected.json")).read_text())["expected"]
        lines = log.read_text().split("\n")
        for i, (line, doc) in enumerate(zip(lines, expected, strict=False)):
            if line.strip():
                cases.append((log.name, i, json.loads(line), doc))
    return cases


@functools.cache
def _corpus_pairs(corpus: Path) -> dict[str, tuple[Pair, str]]:
    """Every pair of the corpus by "file#line", with the commit its expected document is from."""
    integration = corpus / INTEGRATION
    commits = {e["file"]: e["commit"] for e in json.loads((integration / "manifest.json").read_text())}
    return {
        f"{pair[0]}#{pair[1]}": (pair, commits[f"_dev/test/pipeline/{pair[0]}-expected.json"])
        for pair in _pairs(integration / "_dev" / "test" / "pipeline")
    }


def _keyword(value: Any) -> Any:
    """What a keyword field indexes: booleans as their text (managementEvent is a keyword)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def test_the_corpus_is_there(corpus: Path) -> None:
    assert len(_corpus_pairs(corpus)) == 25  # 21 files, 32 documents; 7 come from empty input lines


def _assert_shaped_like(pair: Pair, commit: str) -> None:
    name, _, raw, expected = pair
    shaped = _leaves(shape(raw))
    want = _leaves(expected)
    compared = 0
    for field, value in shaped.items():
        if field.startswith("data_stream."):
            continue  # constant keywords of the data stream, not in pipeline-test output
        assert field in want, f"{name}: shaper writes {field}, Elastic's pipeline does not"
        if field == EMAIL_SPLIT_NAME and want[field] != value:
            # A newer pipeline than the transcribed default.yml: it splits "test@elastic.co" into
            # user.name "test" and user.email. The transcribed pipeline (0046748f) keeps the address.
            assert commit != PIPELINE_COMMIT and "@" in value and want.get("user.email") == value
            continue
        assert _keyword(want[field]) == _keyword(value), f"{name}: {field}"
        compared += 1
    assert compared >= 10
    for field in want:  # every field the mapping relies on is produced when Elastic produces it
        if field in _SHAPED_FIELDS:
            assert field in shaped, f"{name}: Elastic writes {field}, the shaper does not"


def test_elastic_shaper_matches_the_bundled_pipeline_pair() -> None:
    pairs = _pairs(DATA / "elastic" / "pipeline")
    assert [(name, line) for name, line, _, _ in pairs] == [("test-schedule-key-deletion-json.log", 0)]
    _assert_shaped_like(pairs[0], DATA_PAIR_COMMIT)


@pytest.mark.parametrize("pair", corpus_ids(lambda corpus: list(_corpus_pairs(corpus))), ids=str)
def test_elastic_shaper_matches_the_ingest_pipeline(corpus: Path, pair: str) -> None:
    _assert_shaped_like(*_corpus_pairs(corpus)[pair])


_SHAPED_FIELDS = {
    "event.action", "event.provider", "event.outcome", "event.id", "cloud.region", "cloud.account.id",
    "source.address", "source.ip", "user_agent.original", "user.name", "user.id",
    "aws.cloudtrail.user_identity.type", "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id", "aws.cloudtrail.error_code", "aws.cloudtrail.error_message",
    "aws.cloudtrail.request_parameters", "aws.cloudtrail.response_elements",
    "aws.cloudtrail.recipient_account_id", "aws.cloudtrail.event_type", "aws.cloudtrail.read_only",
    "@timestamp",
}


def test_elastic_shaper_covers_failures_and_non_ip_sources(corpus: Path) -> None:
    raws = [pair[2] for pair, _ in _corpus_pairs(corpus).values()]
    outcomes = {shape(raw)["event"]["outcome"] for raw in raws}
    assert outcomes == {"success", "failure"}
    addresses = [shape(raw).get("source", {}) for raw in raws]
    assert any("ip" in a for a in addresses)
    assert any("address" in a and "ip" not in a for a in addresses)  # e.g. "AWS Internal"
    assert any("flattened" in shape(raw)["aws"]["cloudtrail"] for raw in raws)


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


def _request_text(parameters: dict[str, Any]) -> str:
    return shape({"requestParameters": parameters})["aws"]["cloudtrail"]["request_parameters"]


def test_elastic_java_map_text() -> None:
    """Request parameters as Java's Map.toString() writes them (the pipeline's painless script)."""
    assert _request_text({"a": [1, True, {"b": 1.5}], "c": 1e-5}) == "{a=[1, true, {b=1.5}], c=1.0E-5}"
    assert _request_text({"keyId": "k", "pendingWindowInDays": 7}) == "{pendingWindowInDays=7, keyId=k}"
    # 13 keys need a 32-bucket table: every key is written once whatever the bucket order.
    text = _request_text({f"k{i}": i for i in range(13)})
    assert sorted(text[1:-1].split(", ")) == sorted(f"k{i}={i}" for i in range(13))


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


def test_elastic_index_mapping_agrees_with_the_integration_fields(corpus: Path) -> None:
    folder = corpus / INTEGRATION / "fields"
    fields = _field_types(folder / "fields.yml") | _field_types(folder / "base-fields.yml")
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
