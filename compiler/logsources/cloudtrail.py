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

from compiler.cloudtrail_paths import shape
from compiler.dotted import ABSENT, set_path
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
        """The dotted path set as CloudTrail holds it (``place``), on a copy."""
        out: dict[str, Any] = copy.deepcopy(dict(record))
        place(out, name, value)
        return out


def place(record: dict[str, Any], name: str, value: Any) -> None:
    """Set a field in a record, in place, as CloudTrail holds it: every step of the path that real
    records and the API references show as an array is one (``compiler.cloudtrail_paths``; a path
    nothing shows is taken to hold single values), and a value whose own path is an array is put in
    one. Objects are made on the way (a non-object on the way is replaced); ``ABSENT`` removes."""
    known = shape(name)
    arrays = set(known.arrays) if known is not None else set()
    parts = name.split(".")
    last = len(parts) - 1
    if last in arrays and value is not ABSENT and value is not None and not isinstance(value, list):
        value = [value]
    set_path(record, name, value, {".".join(parts[: i + 1]) for i in arrays if i < last})


FAMILY = CloudTrail()
LOGSOURCES = (
    Logsource(family=FAMILY, product="aws", service="cloudtrail", description="AWS CloudTrail records"),
)
