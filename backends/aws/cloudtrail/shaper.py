"""EventBridge × CloudTrail: a raw CloudTrail record wrapped in the event EventBridge delivers for it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from compiler.errors import ShapeError

TARGET = "eventbridge"
MAX_EVENT_BYTES = 256 * 1024
"""AWS API call events larger than 256 KB are not delivered (User Guide, "Events delivered via CloudTrail")."""
_ID_NAMESPACE = uuid.UUID("6f1c8e2a-3d7b-5c4e-9a10-2b7d5e8f0c31")

DELIVERED = {
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsConsoleAction": "AWS Console Action via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
    "AwsCloudTrailInsight": "AWS Insight via CloudTrail",
}
"""The record's eventType (CloudTrail User Guide, "Non-API events captured by CloudTrail") to the
``detail-type`` of the event CloudTrail sends to the default bus (EventBridge User Guide, "AWS service
events delivered via AWS CloudTrail", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html;
the page spells the sign-in type "Signin", delivered events carry "Sign In"). Transcribed here, apart
from the pattern builder's table (``storage.py``), so that the shaped event does not take its
envelope from the code that writes the pattern it is tested against."""


def envelope_source(event_source: str) -> str:
    """EventBridge's ``source`` for a record's eventSource: every service page of the EventBridge
    Events Reference (https://docs.aws.amazon.com/eventbridge/latest/ref/welcome.html) pairs
    ``source: aws.<service>`` with ``eventSource: <service>.amazonaws.com`` for the events CloudTrail
    delivers (``aws.signin``/``signin.amazonaws.com``, ``aws.monitoring``/``monitoring.amazonaws.com``).
    Any other form is undocumented: a shape error, not a guess."""
    service, dot, domain = event_source.lower().partition(".")
    if not service or not dot or domain != "amazonaws.com":
        raise ShapeError(f"eventSource {event_source!r} is not <service>.amazonaws.com: EventBridge documents "
                         "no source for it", target=TARGET)
    return f"aws.{service}"


def shape(record: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The envelope AWS documents for a CloudTrail event (awsdocs/amazon-eventbridge-user-guide
    ``doc_source/event-types.md`` @ 86f30ac37bb902f8a62c80acaaccf1db0aaa0831, "Events delivered via CloudTrail").

    ``detail`` is the record unchanged; ``source`` is derived from eventSource (``envelope_source``),
    ``detail-type`` from eventType (``DELIVERED``; a record without one is an API call, CloudTrail's
    default), ``resources`` is empty for CloudTrail-delivered events, ``id`` is EventBridge's own: here a stable UUID from the eventID.
    """
    if not isinstance(record, Mapping):
        raise ShapeError("a CloudTrail record is a JSON object", target=TARGET)
    event_type = record.get("eventType", "AwsApiCall")
    if event_type not in DELIVERED:
        raise ShapeError(f"eventType {event_type!r}: EventBridge documents no delivery for it", target=TARGET)
    event_source = record.get("eventSource")
    if not isinstance(event_source, str) or not event_source:
        raise ShapeError("record has no eventSource, so EventBridge has no source for it", target=TARGET)
    body = json.dumps(record, sort_keys=True, default=str)
    if len(body.encode("utf-8")) > MAX_EVENT_BYTES:
        raise ShapeError("record larger than 256 KB: EventBridge does not deliver it", target=TARGET)
    identity = record.get("userIdentity")
    account = record.get("recipientAccountId") or (
        identity.get("accountId") if isinstance(identity, Mapping) else None
    )
    return {
        "version": "0",
        "id": str(uuid.uuid5(_ID_NAMESPACE, str(record.get("eventID") or body))),
        "detail-type": DELIVERED[event_type],
        "source": envelope_source(event_source),
        "account": str(account or ""),
        "time": str(record.get("eventTime", "")),
        "region": str(record.get("awsRegion", "")),
        "resources": [],
        "detail": dict(record),
    }
