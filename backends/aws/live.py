"""``detc test --live``: ask AWS itself, through TestEventPattern, whether a pattern matches an event."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from compiler.errors import EvaluationError

TARGET = "eventbridge"


def aws_matches(pattern: str, event: str, client: Any) -> bool:
    """AWS's verdict for one pattern and one event (both JSON text), via a boto3 ``events`` client.

    An invalid pattern is an EvaluationError, as in the offline evaluator; any other API error
    (credentials, throttling, an event AWS finds invalid) propagates unchanged.
    API Reference: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html
    """
    try:
        response = client.test_event_pattern(EventPattern=pattern, Event=event)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "InvalidEventPatternException":
            message = err.response["Error"].get("Message", "invalid event pattern")
            raise EvaluationError(f"AWS rejected the pattern: {message}", target=TARGET) from err
        raise
    return bool(response["Result"])
