"""The shaper against the event AWS documents for a CloudTrail record (tests/data/eventbridge/)."""

from __future__ import annotations

import json

import pytest

from backends.aws.cloudtrail.shaper import shape
from compiler.errors import ShapeError
from tests.support import DATA

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
