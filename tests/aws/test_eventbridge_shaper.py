"""The shaper against the event AWS documents for a CloudTrail record (tests/data/eventbridge/)."""

from __future__ import annotations

import json

import pytest

from backends.aws.cloudtrail import storage
from backends.aws.cloudtrail.shaper import envelope_source, shape
from backends.aws.cloudtrail.storage import source_of
from compiler.build import compile_one
from compiler.errors import ShapeError
from compiler.fixtures import load_fixtures
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.target import load_registry
from compiler.testing import run_rule
from tests.support import DATA, SEED_RULE

DOCUMENTED = DATA / "eventbridge" / "aws-api-call-via-cloudtrail.s3-createbucket.json"


def test_envelope_is_the_documented_one() -> None:
    documented = json.loads(DOCUMENTED.read_text(encoding="utf-8"))
    shaped = shape(documented["detail"])
    # EventBridge's id is its own random UUID; everything else is determined by the record.
    assert set(shaped) == set(documented)
    assert {k: v for k, v in shaped.items() if k != "id"} == {k: v for k, v in documented.items() if k != "id"}
    assert shape(documented["detail"])["id"] == shaped["id"]


def test_detail_types_follow_event_type() -> None:
    documented = json.loads(DOCUMENTED.read_text(encoding="utf-8"))["detail"]
    login = dict(documented, eventType="AwsConsoleSignIn", eventSource="signin.amazonaws.com")
    assert shape(login)["detail-type"] == "AWS Console Sign In via CloudTrail"
    assert shape(login)["source"] == "aws.signin"
    service = dict(documented, eventType="AwsServiceEvent")
    assert shape(service)["detail-type"] == "AWS Service Event via CloudTrail"


def test_documented_kms_record_shapes() -> None:
    path = DATA / "cloudtrail" / "ct-deleteimportedkeymaterial.01.json"
    rec = json.loads(path.read_text(encoding="utf-8"))
    event = shape(rec)
    assert (event["source"], event["account"], event["region"]) == ("aws.kms", "111122223333", "us-west-2")
    assert event["detail"] == rec


@pytest.mark.parametrize(
    "bad",
    [{"eventType": "AwsVpceEvent", "eventSource": "s3.amazonaws.com"}, {"eventName": "x"}, []],
    ids=["vpc-endpoint-event", "no-event-source", "not-an-object"],
)
def test_undeliverable_records_are_shape_errors(bad: object) -> None:
    with pytest.raises(ShapeError):
        shape(bad)  # type: ignore[arg-type]


DOCUMENTED_SOURCES = [
    ("kms.amazonaws.com", "aws.kms"),
    ("s3.amazonaws.com", "aws.s3"),
    ("signin.amazonaws.com", "aws.signin"),
    ("monitoring.amazonaws.com", "aws.monitoring"),
    ("elasticmapreduce.amazonaws.com", "aws.elasticmapreduce"),
    ("acm-pca.amazonaws.com", "aws.acm-pca"),
]
"""(eventSource, source) pairs of the EventBridge Events Reference's "events delivered via AWS
CloudTrail" sections (https://docs.aws.amazon.com/eventbridge/latest/ref/welcome.html)."""


@pytest.mark.parametrize(("event_source", "source"), DOCUMENTED_SOURCES, ids=[s for s, _ in DOCUMENTED_SOURCES])
def test_the_shaper_and_the_pattern_give_the_documented_source(event_source: str, source: str) -> None:
    assert envelope_source(event_source) == source
    assert source_of(event_source) == source


@pytest.mark.parametrize(
    "event_source", ["kms", "kms.example.com", "a.kms.amazonaws.com", ".amazonaws.com"],
    ids=["no-domain", "other-domain", "nested", "no-service"],
)
def test_an_undocumented_event_source_is_a_shape_error(event_source: str) -> None:
    with pytest.raises(ShapeError, match="EventBridge documents no source"):
        shape({"eventSource": event_source, "eventName": "X"})


def test_the_shaper_does_not_take_its_envelope_from_the_pattern_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were the pattern's source wrong, the shaped events would not follow it: the seed's match cases fail."""
    rule = load_rule(SEED_RULE)
    target = load_registry().get("eventbridge")
    good = run_rule(rule, load_fixtures(rule), [target], DEFAULT_PROFILE)
    assert {r.status for r in good} == {"pass"}
    monkeypatch.setattr(storage, "source_of", lambda event_source: "aws." + event_source)
    assert '"aws.kms.amazonaws.com"' in compile_one(target, rule, DEFAULT_PROFILE).query
    bad = run_rule(rule, load_fixtures(rule), [target], DEFAULT_PROFILE)
    assert sorted(r.case for r in bad if r.status == "fail") == sorted(r.case for r in good if r.expected == "match")
    assert sum(r.expected == "match" for r in good) >= 3
