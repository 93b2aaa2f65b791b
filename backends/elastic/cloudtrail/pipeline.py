"""Elastic × CloudTrail: raw CloudTrail field names → the fields Elastic's AWS integration stores.

Every mapping below is read from the integration's ingest pipeline (elastic/integrations
``packages/aws/data_stream/cloudtrail/elasticsearch/ingest_pipeline/default.yml`` @ 0046748f8cfe9a89cf2f8f7a55be5528ad4b3695):
a Sigma field the pipeline does not keep is refused with an ``unsupported:`` reason, never
queried under a name that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldMappingTransformation,
    FieldPrefixMappingTransformation,
)
from sigma.processing.transformations.base import DetectionItemTransformation
from sigma.rule import SigmaDetectionItem, SigmaRule
from sigma.types import SigmaCIDRExpression, SigmaCompareExpression

from backends.elastic.cloudtrail.storage import DATASET, DATASET_FIELD
from backends.elastic.errors import ElasticUnsupported

CLOUDTRAIL_TO_ECS: dict[str, str] = {
    "eventVersion": "aws.cloudtrail.event_version",
    "eventSource": "event.provider",
    "eventName": "event.action",
    "eventCategory": "aws.cloudtrail.event_category",
    "eventType": "aws.cloudtrail.event_type",
    "eventID": "event.id",
    "requestID": "aws.cloudtrail.request_id",
    "apiVersion": "aws.cloudtrail.api_version",
    "awsRegion": "cloud.region",
    # The raw text, IP or not; an IP is also copied to source.ip, which CIDR matches use.
    "sourceIPAddress": "source.address",
    "userAgent": "user_agent.original",
    "errorCode": "aws.cloudtrail.error_code",
    "errorMessage": "aws.cloudtrail.error_message",
    "readOnly": "aws.cloudtrail.read_only",
    "managementEvent": "aws.cloudtrail.management_event",
    # Not cloud.account.id: the pipeline fills that from userIdentity.accountId.
    "recipientAccountId": "aws.cloudtrail.recipient_account_id",
    "vpcEndpointId": "aws.cloudtrail.vpc_endpoint_id",
    "userIdentity.type": "aws.cloudtrail.user_identity.type",
    "userIdentity.userName": "user.name",
    "userIdentity.principalId": "user.id",
    "userIdentity.arn": "aws.cloudtrail.user_identity.arn",
    "userIdentity.accountId": "cloud.account.id",
    "userIdentity.accessKeyId": "aws.cloudtrail.user_identity.access_key_id",
    "userIdentity.invokedBy": "aws.cloudtrail.user_identity.invoked_by",
    "userIdentity.sessionContext.attributes.mfaAuthenticated":
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
    "userIdentity.sessionContext.sessionIssuer.type":
        "aws.cloudtrail.user_identity.session_context.session_issuer.type",
    "userIdentity.sessionContext.sessionIssuer.principalId":
        "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    "userIdentity.sessionContext.sessionIssuer.arn":
        "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "userIdentity.sessionContext.sessionIssuer.accountId":
        "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    "resources.ARN": "aws.cloudtrail.resources.arn",
    "resources.accountId": "aws.cloudtrail.resources.account_id",
    "resources.type": "aws.cloudtrail.resources.type",
    "tlsDetails.cipherSuite": "tls.cipher",
    "tlsDetails.clientProvidedHostHeader": "tls.client.server_name",
    # Whole objects: one keyword holding Java's Map.toString() text, not JSON.
    "requestParameters": "aws.cloudtrail.request_parameters",
    "responseElements": "aws.cloudtrail.response_elements",
    "additionalEventData": "aws.cloudtrail.additional_eventdata",
    "serviceEventDetails": "aws.cloudtrail.service_event_details",
}

CLOUDTRAIL_PREFIX_TO_ECS: dict[str, str] = {
    # flattened fields: every leaf is a keyword (numbers and booleans as their text).
    "requestParameters.": "aws.cloudtrail.flattened.request_parameters.",
    "responseElements.": "aws.cloudtrail.flattened.response_elements.",
    "additionalEventData.": "aws.cloudtrail.flattened.additional_eventdata.",
    "serviceEventDetails.": "aws.cloudtrail.flattened.service_event_details.",
}

FLATTENED_ROOTS: tuple[str, ...] = tuple(p.rstrip(".") for p in CLOUDTRAIL_PREFIX_TO_ECS.values())
"""The ``flattened`` fields the prefixes map into (a language that cannot query that type refuses them)."""

WHY_NOT_STORED: dict[str, str] = {
    "eventTime": "eventTime is stored as the date @timestamp; Sigma string matching has no faithful date equivalent",
    "sharedEventID": "the ingest pipeline renames 'sharedEventId', a key CloudTrail never writes, so sharedEventID is dropped",
    "userIdentity.sessionContext.sessionIssuer.userName": (
        "the ingest pipeline moves it into user.name only when userIdentity.userName is absent, "
        "so no stored field holds exactly this value"
    ),
    "tlsDetails.tlsVersion": "the ingest pipeline splits it into tls.version_protocol and tls.version",
}

SOURCE_IP_FIELD = "source.ip"
SOURCE_IP_RAW = "sourceIPAddress"


def ecs_field(raw: str) -> str | None:
    """The ECS field a raw CloudTrail field name is stored under, if the integration keeps it."""
    if raw in CLOUDTRAIL_TO_ECS:
        return CLOUDTRAIL_TO_ECS[raw]
    for prefix, target in CLOUDTRAIL_PREFIX_TO_ECS.items():
        if raw.startswith(prefix) and len(raw) > len(prefix):
            return target + raw[len(prefix):]
    return None


@dataclass
class CloudTrailFieldCheck(DetectionItemTransformation):
    """Refuse fields the integration does not store and comparisons its keywords cannot make."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetectionItem | None:
        name = detection_item.field
        if name is None:
            return None
        if ecs_field(name) is None:
            reason = WHY_NOT_STORED.get(
                name,
                "Elastic's AWS CloudTrail ingest pipeline does not store it (unmapped CloudTrail keys are dropped)",
            )
            raise ElasticUnsupported(f"field {name!r}: {reason}", source=detection_item.source)
        for value in detection_item.value:
            if isinstance(value, SigmaCompareExpression):
                raise ElasticUnsupported(
                    f"numeric comparison on {name!r}: the integration stores CloudTrail values as keywords "
                    "(flattened leaves too), so a range compares text ('10' < '8')",
                    source=detection_item.source,
                )
            if isinstance(value, SigmaCIDRExpression) and name != SOURCE_IP_RAW:
                raise ElasticUnsupported(
                    f"cidr on {name!r}: only sourceIPAddress is stored as an ip field (source.ip)",
                    source=detection_item.source,
                )
        if name == SOURCE_IP_RAW and any(isinstance(v, SigmaCIDRExpression) for v in detection_item.value):
            if not all(isinstance(v, SigmaCIDRExpression) for v in detection_item.value):
                raise ElasticUnsupported("sourceIPAddress mixes cidr and plain values", source=detection_item.source)
            detection_item.field = SOURCE_IP_FIELD
            return detection_item
        return None



INVESTIGATION_FIELDS: dict[str, str] = {
    # Where ECS puts the value an analyst reads for a raw field, when that is not the field the
    # query mapping above uses (ingest pipeline: @timestamp is parsed from eventTime, source.ip
    # holds sourceIPAddress when it is an address, event.outcome is success/failure from
    # errorCode/errorMessage, cloud.account.id is the account of the call).
    "eventTime": "@timestamp",
    "sourceIPAddress": "source.ip",
    "errorCode": "event.outcome",
    "recipientAccountId": "cloud.account.id",
}


def investigation_fields(names: Sequence[str], logsource: Any = None) -> list[str]:
    """A rule's ``fields:`` (raw CloudTrail names) as the ECS fields a Kibana user investigates (one
    placement for every CloudTrail logsource)."""
    return [INVESTIGATION_FIELDS.get(name) or ecs_field(name) or name for name in names]


def processing_pipeline(settings: Mapping[str, Any]) -> ProcessingPipeline:
    """CloudTrail → ECS as stored by the Elastic AWS integration, with the data stream filter."""
    # pySigma's mapping type: a None key maps fields without a name, a list value maps to several
    mapping: dict[str | None, str | list[str]] = {name: ecs for name, ecs in CLOUDTRAIL_TO_ECS.items()}
    prefixes: dict[str | None, str | list[str]] = {raw: ecs for raw, ecs in CLOUDTRAIL_PREFIX_TO_ECS.items()}
    return ProcessingPipeline(
        name="detc: AWS CloudTrail to Elastic ECS",
        priority=20,
        items=[
            ProcessingItem(
                identifier="detc_ecs_field_check",
                transformation=CloudTrailFieldCheck(),
            ),
            ProcessingItem(
                identifier="detc_ecs_field_mapping",
                transformation=FieldMappingTransformation(mapping),
            ),
            ProcessingItem(
                identifier="detc_ecs_flattened_mapping",
                transformation=FieldPrefixMappingTransformation(prefixes),
            ),
            ProcessingItem(
                identifier="detc_ecs_data_stream",
                transformation=AddConditionTransformation({DATASET_FIELD: DATASET}, name="detc_data_stream"),
            ),
        ],
    )


def caveats(rule: SigmaRule, target: str, mapped: SigmaRule) -> tuple[str, ...]:
    """What the query for a CloudTrail rule cannot hold exactly on ``kql``, ``lucene`` or ``eql``: read
    on the rule as written and, for the indexing limits, as mapped (ECS names)."""
    from backends.elastic.caveats import eql_caveats, ignore_above_caveat, ingest_caveats, kql_caveats, lucene_caveats

    language = {"kql": kql_caveats, "lucene": lucene_caveats, "eql": eql_caveats}[target]
    return (*language(rule), *ingest_caveats(rule), *ignore_above_caveat(mapped))
