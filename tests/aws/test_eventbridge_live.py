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

from backends.aws.cloudtrail.shaper import shape
from backends.aws.live import aws_matches
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


def test_detc_test_live_runs_every_case_through_test_event_pattern(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The CLI's --live path end to end: the same shaped events, AWS's API as the judge (moto here)."""
    from typer.testing import CliRunner

    from compiler.cli import app

    monkeypatch.setattr(EventsHandler, "test_event_pattern", _test_event_pattern)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        result = CliRunner().invoke(
            app, ["test", "--target", "eventbridge", "--live", "--json", str(tmp_path / "r.json")]
        )
    rows = json.loads((tmp_path / "r.json").read_text())["results"]
    live = [r for r in rows if r["target"] == "eventbridge:live"]
    assert live and len(live) == len([r for r in rows if r["target"] == "eventbridge"])
    # moto's matcher lacks equals-ignore-case, so its verdicts are recorded, not trusted: the point
    # here is that every case went through the exact client call and came back as a verdict.
    # Rules whose logsource has no EventBridge cell are unsupported on both, never sent to AWS.
    judged = [r for r in live if r["status"] != "unsupported"]
    assert judged and all(r["actual"] in ("match", "no_match") for r in judged), result.output


def test_detc_test_live_without_credentials_is_a_clear_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from typer.testing import CliRunner

    from compiler.cli import app

    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(app, ["test", "--target", "eventbridge", "--live"])
    assert result.exit_code == 2
    assert "--live needs AWS credentials" in result.stderr


def test_only_eventbridge_declares_the_live_protocol() -> None:
    from compiler.target import LiveTarget, load_registry

    live = [name for name, target in load_registry().targets.items() if isinstance(target, LiveTarget)]
    assert live == ["eventbridge"]
