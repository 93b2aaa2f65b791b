"""AWS CloudTrail: one record of a trail's log file, as CloudTrail writes it.

A raw record is the JSON object CloudTrail writes for one event (an element of a log file's
``Records`` array). Sigma rules name its fields by their JSON path (``userIdentity.arn``,
``requestParameters.keyId``): a field resolves to every value at that path, arrays on the way
fanning out (``resources.ARN``). The logsource implies no condition of its own: every record of a
trail is one (``product: aws, service: cloudtrail``, whatever the category).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from compiler.dotted import set_path
from compiler.logsources.model import Family, Logsource, Record

RECORD_FIELDS = frozenset({
    "eventTime", "eventVersion", "userIdentity", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
    "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData",
    "requestID", "eventID", "eventType", "apiVersion", "managementEvent", "readOnly", "resources",
    "recipientAccountId", "serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
    "eventCategory", "addendum", "sessionCredentialFromConsole", "edgeDeviceDetails", "tlsDetails",
    "insightDetails",
})
"""The top-level fields of a record (CloudTrail User Guide, "CloudTrail record contents for management,
data, and network activity events": https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)."""


class CloudTrail(Family):
    name = "cloudtrail"
    description = "AWS CloudTrail records (JSON, as CloudTrail writes them)"

    def view(self, record: Record) -> Mapping[str, Any]:
        return record  # Sigma's CloudTrail field names are the record's own JSON paths

    def recognises(self, record: Any) -> bool:
        return isinstance(record, Mapping) and any(key in RECORD_FIELDS for key in record)

    def set_field(self, record: Record, name: str, value: Any) -> dict[str, Any]:
        """The dotted path set, objects created on the way (a non-object on the way is replaced)."""
        out: dict[str, Any] = copy.deepcopy(dict(record))
        set_path(out, name, value)
        return out


FAMILY = CloudTrail()
LOGSOURCES = (
    Logsource(family=FAMILY, product="aws", service="cloudtrail", description="AWS CloudTrail records"),
)
