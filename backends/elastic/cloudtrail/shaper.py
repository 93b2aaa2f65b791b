"""Elastic × CloudTrail: raw CloudTrail record → the ECS document Elastic's AWS CloudTrail ingest pipeline stores.

A transcription of ``elasticsearch/ingest_pipeline/default.yml`` of the integration
(elastic/integrations ``packages/aws/data_stream/cloudtrail``
@ 0046748f8cfe9a89cf2f8f7a55be5528ad4b3695) for every field a detection can query:
processors in the pipeline's order, with its quirks kept (a rename never overwrites, so
``user.name`` is ``userIdentity.userName`` or else the session issuer's name; empty strings and
nulls are dropped first; request parameters are written twice, as Java's ``Map.toString()`` text
and as a ``flattened`` object). GeoIP, user-agent parsing, ECS categorisation, TLS and the
digest-file fields are not produced: no mapped Sigma field reads them.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from backends.elastic.cloudtrail.storage import DATA_STREAM
from compiler.errors import ShapeError

_OBJECT_FIELDS = (
    ("requestParameters", "request_parameters"),
    ("responseElements", "response_elements"),
    ("additionalEventData", "additional_eventdata"),
    ("serviceEventDetails", "service_event_details"),
)
_MAX_KEYWORD_TEXT = 32766
"""The pipeline stores the flattened copy only when the text form is shorter than this."""

# (raw path, ECS path) for the pipeline's plain ``rename`` processors, in pipeline order.
_RENAMES: tuple[tuple[str, str], ...] = (
    ("eventVersion", "aws.cloudtrail.event_version"),
    ("userIdentity.type", "aws.cloudtrail.user_identity.type"),
    ("userIdentity.userName", "user.name"),
    ("userIdentity.principalId", "user.id"),
    ("userIdentity.arn", "aws.cloudtrail.user_identity.arn"),
    ("userIdentity.accountId", "cloud.account.id"),
    ("userIdentity.accessKeyId", "aws.cloudtrail.user_identity.access_key_id"),
    (
        "userIdentity.sessionContext.attributes.mfaAuthenticated",
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
    ),
    ("userIdentity.sessionContext.sessionIssuer.type", "aws.cloudtrail.user_identity.session_context.session_issuer.type"),
    # Only fills user.name when userIdentity.userName did not (rename never overwrites).
    ("userIdentity.sessionContext.sessionIssuer.userName", "user.name"),
    (
        "userIdentity.sessionContext.sessionIssuer.principalId",
        "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    ),
    ("userIdentity.sessionContext.sessionIssuer.arn", "aws.cloudtrail.user_identity.session_context.session_issuer.arn"),
    (
        "userIdentity.sessionContext.sessionIssuer.accountId",
        "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    ),
    ("userIdentity.invokedBy", "aws.cloudtrail.user_identity.invoked_by"),
    ("eventSource", "event.provider"),
    ("eventCategory", "aws.cloudtrail.event_category"),
)
_CREATION_DATE_AFTER = "userIdentity.sessionContext.attributes.mfaAuthenticated"
"""The pipeline's date processor for the session creation date runs right after this rename."""
_LATE_RENAMES: tuple[tuple[str, str], ...] = (
    ("requestID", "aws.cloudtrail.request_id"),
    ("eventID", "event.id"),
    ("eventType", "aws.cloudtrail.event_type"),
    ("apiVersion", "aws.cloudtrail.api_version"),
    ("managementEvent", "aws.cloudtrail.management_event"),
    ("readOnly", "aws.cloudtrail.read_only"),
)
_AFTER_RESOURCES: tuple[tuple[str, str], ...] = (
    ("recipientAccountId", "aws.cloudtrail.recipient_account_id"),
    # CloudTrail writes "sharedEventID"; the pipeline renames "sharedEventId", so it is never stored.
    ("sharedEventId", "aws.cloudtrail.shared_event_id"),
    ("vpcEndpointId", "aws.cloudtrail.vpc_endpoint_id"),
)


def shape(record: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The document the ingest pipeline indexes for one CloudTrail record (the same in every index)."""
    if not isinstance(record, Mapping):
        raise ShapeError(f"a CloudTrail record must be a JSON object, not {type(record).__name__}")
    try:
        raw = json.loads(json.dumps(record))
    except (TypeError, ValueError) as err:
        raise ShapeError(f"record is not JSON data: {err}") from err
    j = _drop_empty_tracking(raw)
    if j is None:
        j = _JMap({}, 0)
    doc: dict[str, Any] = {"data_stream": dict(DATA_STREAM)}

    ts = _iso_date(_get(j, "eventTime"))
    if ts is not None:
        doc["@timestamp"] = ts

    for src, dst in _RENAMES:
        _rename(j, src, doc, dst)
        if src == _CREATION_DATE_AFTER:
            created = _iso_date(_get(j, "userIdentity.sessionContext.attributes.creationDate"))
            if created is not None:
                _put(doc, "aws.cloudtrail.user_identity.session_context.creation_date", created)
    _set_copy(doc, "event.action", _template_string(_get(j, "eventName")))
    if _get(j, "awsRegion") is not None:
        _set_copy(doc, "cloud.region", _get(j, "awsRegion"))
    _rename(j, "sourceIPAddress", doc, "source.address")
    address = _get(doc, "source.address")
    if isinstance(address, str) and _is_ip(address):
        _put(doc, "source.ip", address)
    agent = _pop(j, "userAgent")
    if agent is not None:
        _put(doc, "user_agent.original", agent if isinstance(agent, str) else _java_text(agent))
    _rename(j, "errorCode", doc, "aws.cloudtrail.error_code")
    _rename(j, "errorMessage", doc, "aws.cloudtrail.error_message")
    ct = doc.setdefault("aws", {}).setdefault("cloudtrail", {})
    flattened: dict[str, Any] = {}
    for src, dst in _OBJECT_FIELDS:
        value = _get(j, src)
        if value is None:
            continue
        text = _java_text(value)
        ct[dst] = text
        if len(text) < _MAX_KEYWORD_TEXT:
            flattened[dst] = _plain(value)
    ct["flattened"] = flattened
    for src, dst in _LATE_RENAMES:
        _rename(j, src, doc, dst)
    resources = _get(j, "resources")
    if isinstance(resources, list):
        _put(doc, "aws.cloudtrail.resources", _dedup_resources(resources))
    for src, dst in _AFTER_RESOURCES:
        _rename(j, src, doc, dst)
    _event_outcome(doc)
    if not ct["flattened"]:
        del ct["flattened"]
    return doc


# --- the painless "drop null/empty values" script, keeping Java HashMap sizes for toString order --


class _JMap(dict):  # type: ignore[type-arg]
    """A JSON object as the json processor builds it: a HashMap whose capacity its first size fixed."""

    def __init__(self, items: Mapping[str, Any], built_size: int) -> None:
        super().__init__(items)
        self.built_size = built_size


def _drop_empty_tracking(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            child = _drop_empty_tracking(item)
            if child is not None:
                kept[key] = child
        return _JMap(kept, len(value)) if kept else None
    if isinstance(value, list):
        items = [c for c in (_drop_empty_tracking(v) for v in value) if c is not None]
        return items or None
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- Java's Map.toString(), which the pipeline writes to aws.cloudtrail.request_parameters ---------


def _java_string_hash(text: str) -> int:
    h = 0
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] | (data[i + 1] << 8))) & 0xFFFFFFFF
    return h


def _hashmap_order(keys: list[str], built_size: int) -> list[str]:
    """Iteration order of a java.util.HashMap filled with ``keys`` in order (no treeified bins)."""
    capacity = 16
    while built_size > capacity * 0.75:
        capacity *= 2

    def bucket(key: str) -> int:
        h = _java_string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    position = {k: i for i, k in enumerate(keys)}
    return sorted(keys, key=lambda k: (bucket(k), position[k]))


def _java_double(x: float) -> str:
    """Double.toString: plain decimals in [1e-3, 1e7), else ``d.dddE±n``; shortest digits."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    text = "".join(map(str, digits))
    exp = exponent + len(text) - 1  # type: ignore[operator]
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{exp}"


def _java_text(value: Any) -> str:
    if isinstance(value, dict):
        keys = list(value)
        size = value.built_size if isinstance(value, _JMap) else len(keys)
        return "{" + ", ".join(f"{k}={_java_text(value[k])}" for k in _hashmap_order(keys, size)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    return str(value)


# --- small ingest-processor helpers ------------------------------------------------------------------


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _pop(obj: Any, path: str) -> Any:
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    if not isinstance(obj, dict):
        return None
    return obj.pop(last, None)


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    obj = doc
    for part in parents:
        obj = obj.setdefault(part, {})
    obj[last] = value


def _rename(j: Any, src: str, doc: dict[str, Any], dst: str) -> None:
    """The rename processor with ``ignore_failure``: a missing source or existing target is a no-op."""
    if _get(j, src) is None or _get(doc, dst) is not None:
        return
    _put(doc, dst, _plain(_pop(j, src)))


def _set_copy(doc: dict[str, Any], dst: str, value: Any) -> None:
    if value is not None and value != "":
        _put(doc, dst, _plain(copy.deepcopy(value)))


def _template_string(value: Any) -> str | None:
    """A mustache ``{{json.x}}`` template renders scalars as text."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return _java_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_ip(text: str) -> bool:
    """Grok's ``^%{IP}$``: an IPv4 or IPv6 address, nothing else."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _iso_date(value: Any) -> str | None:
    """The date processor with format ISO8601, printed as Elasticsearch stores it (UTC, millis)."""
    if not isinstance(value, str) or not _ISO8601.match(value):
        return None  # e.g. "20131102T010628Z": Java's ISO8601 parser wants the extended form
    text = value.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    parsed = parsed.astimezone(timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def _dedup_resources(resources: list[Any]) -> list[dict[str, Any]]:
    """The pipeline's resource de-duplication: keys renamed, last of each (arn, account, type) kept."""
    unique: dict[str, dict[str, Any]] = {}
    for original in resources:
        if not isinstance(original, dict):
            continue
        resource = dict(_plain(original))
        if "ARN" in resource:
            resource["arn"] = resource.pop("ARN")
        if "accountId" in resource:
            resource["account_id"] = resource.pop("accountId")
        key = f"{resource.get('arn', '')}_{resource.get('account_id', '')}_{resource.get('type', '')}"
        unique[key] = resource  # HashMap.put on an existing key keeps its place
    order = _hashmap_order(list(unique), len(unique))
    return [unique[k] for k in order]


def _event_outcome(doc: dict[str, Any]) -> None:
    """The categorisation script: failure when an error code or message exists, ConsoleLogin's own."""
    event = doc.setdefault("event", {})
    event["kind"] = "event"
    ct = doc["aws"]["cloudtrail"]
    if ct.get("error_code") is not None or ct.get("error_message") is not None:
        event["outcome"] = "failure"
    else:
        event["outcome"] = "success"
    console = _get(ct, "flattened.response_elements.ConsoleLogin")
    if event.get("action") == "ConsoleLogin" and console is not None:
        event["outcome"] = str(console).lower()
