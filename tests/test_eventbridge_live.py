"""The ``--live`` client code, exercised through boto3 against moto's mock_aws.

moto does not implement TestEventPattern itself (its handler returns an empty body), so the test
gives moto's EventsHandler a TestEventPattern built on moto's own pattern parser. That runs our exact
boto3 call, request serialization and error mapping; moto is not the judge of matching correctness
(the AWS-recorded conformance cases are).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler

from backends.aws.live import aws_matches
from backends.aws.shaper import shape
from compiler.errors import EvaluationError

RECORD = {
    "eventSource": "kms.amazonaws.com",
    "eventName": "DeleteImportedKeyMaterial",
    "eventTime": "2025-05-20T20:45:08Z",
    "awsRegion": "us-west-2",
    "eventID": "2afbb991-c668-4641-8a00-67d62e1fecbd",
    "eventType": "AwsApiCall",
    "recipientAccountId": "111122223333",
}


def _test_event_pattern(self: EventsHandler) -> str:
    pattern = EventPattern.load(self._get_param("EventPattern"))  # raises InvalidEventPatternException
    return json.dumps({"Result": pattern.matches_event(json.loads(self._get_param("Event")))})


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setattr(EventsHandler, "test_event_pattern", _test_event_pattern)
    with mock_aws():
        yield boto3.client("events", region_name="us-east-1")


def test_match_and_no_match(client: object) -> None:
    event = json.dumps(shape(RECORD))
    assert aws_matches(json.dumps({"source": ["aws.kms"], "detail": {"eventName": ["DeleteImportedKeyMaterial"]}}),
                       event, client) is True
    assert aws_matches(json.dumps({"source": ["aws.s3"]}), event, client) is False


def test_invalid_pattern_is_an_evaluation_error(client: object) -> None:
    with pytest.raises(EvaluationError, match="AWS rejected the pattern"):
        aws_matches('{"source": "aws.kms"}', json.dumps(shape(RECORD)), client)
