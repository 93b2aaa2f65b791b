"""EventBridge × CloudTrail: which CloudTrail events reach which event bus, under which envelope, and
what must be set up for a rule to fire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backends.aws.formula import Formula, pinned_values

DETAIL_TYPES = {
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
    "AwsConsoleAction": "AWS Console Action via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsCloudTrailInsight": "AWS Insight via CloudTrail",
}
"""CloudTrail eventType to EventBridge detail-type (User Guide, "AWS service events delivered via AWS
CloudTrail"; the sign-in type is spelled as AWS delivers it, "AWS Console Sign In via CloudTrail")."""

DOCS = {
    "cloudtrail": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html",
    "read_only": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html",
    "data_events": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html",
    "sign_in": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    "global": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-global-service-events",
    "events_reference": "https://docs.aws.amazon.com/eventbridge/latest/ref/welcome.html",
}

READ_ONLY_VERBS = ("Get", "List", "Describe")
"""The naming convention of read-only management events (User Guide, "Receiving read-only management events")."""

DATA_EVENTS = {
    "s3.amazonaws.com": frozenset({
        "AbortMultipartUpload", "CompleteMultipartUpload", "CopyObject", "CreateMultipartUpload",
        "DeleteObject", "DeleteObjects", "GetObject", "GetObjectAcl", "GetObjectAttributes",
        "GetObjectTagging", "HeadObject", "PutObject", "PutObjectAcl", "PutObjectLegalHold",
        "PutObjectRetention", "PutObjectTagging", "DeleteObjectTagging", "RestoreObject",
        "SelectObjectContent", "UploadPart", "UploadPartCopy",
    }),
    "lambda.amazonaws.com": frozenset({"Invoke"}),
    "dynamodb.amazonaws.com": frozenset({
        "BatchGetItem", "BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan",
        "TransactGetItems", "TransactWriteItems", "UpdateItem",
    }),
}
"""Object- and item-level operations CloudTrail logs as data events, only when a trail is set to
(CloudTrail User Guide, "Logging data events")."""

GLOBAL_SERVICES = frozenset({"iam.amazonaws.com", "cloudfront.amazonaws.com", "route53.amazonaws.com"})
"""Global services whose events CloudTrail records in us-east-1 (CloudTrail concepts, "global service events")."""

STATE_DEFAULT = "ENABLED"
STATE_ALL_MANAGEMENT = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


def source_of(event_source: str) -> str:
    """EventBridge's ``source`` for a CloudTrail eventSource: ``kms.amazonaws.com`` -> ``aws.kms``.

    Every page of the EventBridge Events Reference pairs ``source: aws.<prefix>`` with
    ``eventSource: <prefix>.amazonaws.com`` for events delivered via CloudTrail (so CloudWatch is
    ``aws.monitoring`` there, and EMR's API calls are ``aws.elasticmapreduce``); service sources are
    lower-case identifiers.
    """
    return "aws." + event_source.split(".", 1)[0].lower()


@dataclass(frozen=True, kw_only=True)
class Delivery:
    sources: tuple[str, ...] | None
    detail_types: tuple[str, ...]
    rule_state: str
    requirements: tuple[str, ...]
    regions: str


def _lower(values: Iterable[object]) -> set[str]:
    return {str(v).lower() for v in values}


def plan(formula: Formula) -> Delivery:
    """The envelope a rule's pattern pins and what the account must configure so that events arrive at all."""
    event_sources = pinned_values(formula, ("detail", "eventSource"))
    event_names = pinned_values(formula, ("detail", "eventName"))
    event_types = pinned_values(formula, ("detail", "eventType"))
    read_only = pinned_values(formula, ("detail", "readOnly"))
    category = pinned_values(formula, ("detail", "eventCategory"))

    sources = None
    if event_sources and all(str(s).lower().endswith(".amazonaws.com") for s in event_sources):
        sources = tuple(sorted({source_of(str(s)) for s in event_sources}))
    if event_types is None:
        # The rule does not constrain eventType: KMS's DeleteKey, for one, arrives both as an API call
        # and as an AWS service event, so every CloudTrail detail-type is admitted.
        detail_types = tuple(sorted(DETAIL_TYPES.values()))
    else:
        detail_types = tuple(sorted({DETAIL_TYPES[str(t)] for t in event_types if str(t) in DETAIL_TYPES}))

    requirements = [
        f"a CloudTrail trail with logging enabled must record these events in the Region of the rule ({DOCS['cloudtrail']})"
    ]
    names = _lower(event_names or ())
    may_read = (
        read_only is None or True in read_only or "true" in _lower(read_only)
    ) and (event_names is None or any(n.startswith(tuple(v.lower() for v in READ_ONLY_VERBS)) for n in names))
    state = STATE_ALL_MANAGEMENT if may_read else STATE_DEFAULT
    if may_read:
        requirements.append(
            f"read-only management events (Get*, List*, Describe*) reach the rule only in state {STATE_ALL_MANAGEMENT} "
            f"({DOCS['read_only']})"
        )
    services = _lower(event_sources or ())
    for service in sorted(services & set(DATA_EVENTS)):
        if event_names is None or names & {n.lower() for n in DATA_EVENTS[service]}:
            requirements.append(
                f"the trail must log data events for {service}: object/item-level calls are not management "
                f"events ({DOCS['data_events']})"
            )
    if "data" in _lower(category or ()):
        requirements.append(f"the trail must log data events for the services involved ({DOCS['data_events']})")
    regions = "the Region(s) where the trail records the events"
    if "signin.amazonaws.com" in services or "consolelogin" in names:
        regions = "us-east-1 and every Region where sign-in events are recorded"
        requirements.append(
            "console sign-in events are recorded in us-east-1 for the root user and, for IAM users on the global "
            "endpoint, in a Region chosen by latency: deploy the rule in us-east-1 and each such Region "
            f"({DOCS['sign_in']})"
        )
    elif services and services <= GLOBAL_SERVICES:
        regions = "us-east-1"
        requirements.append(f"events of global services are recorded in us-east-1: deploy the rule there ({DOCS['global']})")
    return Delivery(
        sources=sources,
        detail_types=detail_types,
        rule_state=state,
        requirements=tuple(requirements),
        regions=regions,
    )


def storage(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The event bus the rules listen on (CloudTrail delivers to the default bus; a client may
    forward to its own)."""
    return {"event_bus": settings["event_bus"]}
