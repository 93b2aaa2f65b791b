"""What the event generator needs of a logsource: a base record and a way to set a field in it.

The generator (``compiler.generate``) writes events through these two callables only, so that it
knows nothing of any one logsource's raw form. ``ABSENT`` as a value removes the field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compiler.cloudtrail_paths import shape
from compiler.dotted import ABSENT
from compiler.logsources.cloudtrail import place
from compiler.logsources.model import Logsource, Variant
from compiler.rules import DetcRule

"""A value for ``set_field`` that removes the field from the record."""


@dataclass(frozen=True)
class RawForm:
    """A logsource's raw record, as the generator builds it."""

    name: str
    base_record: Callable[[], dict[str, Any]]
    """A fresh, realistic record of the logsource (the generator changes only what a rule tests)."""
    set_field: Callable[[dict[str, Any], str, Any], None]
    """Set a Sigma field in a record, in place (``ABSENT`` removes it); raises ``NotInThisSource``
    for a value no record of the logsource holds there (the generator then proposes something else)."""
    fit: Callable[[dict[str, Any], str, Any], list[Any]] = lambda record, field, value: []
    """Values of a field's form holding the text of a value ``set_field`` refused there (for the
    generator to try instead; ``Family.fits``)."""
    kind: str = ""
    """Which kind of record of the logsource this form builds, where the logsource covers several
    (``Security 4688`` of ``process_creation``); empty where it covers one."""


class NotInThisSource(ValueError):
    """A record of this logsource never holds that value in that field."""


# AWS's documented CloudTrail record for IAM CreateUser: awsdocs/aws-cloudtrail-user-guide @
# 56f54d99dfee0c3faf3d4a2b87bb572ad9edf58a, doc_source/cloudtrail-log-file-examples.md (CC BY-SA 4.0,
# samples MIT-0), with the envelope fields every current record carries (eventID, eventType,
# recipientAccountId, readOnly, managementEvent, eventCategory) as the CloudTrail record contents
# page documents them.
_CLOUDTRAIL_BASE: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "EX_PRINCIPAL_ID",
        "arn": "arn:aws:iam::123456789012:user/Alice",
        "accountId": "123456789012",
        "accessKeyId": "EXAMPLE_KEY_ID",
        "userName": "Alice",
    },
    "eventTime": "2014-03-24T21:11:59Z",
    "eventSource": "iam.amazonaws.com",
    "eventName": "CreateUser",
    "awsRegion": "us-east-2",
    "sourceIPAddress": "127.0.0.1",
    "userAgent": "aws-cli/1.3.2 Python/2.7.5 Windows/7",
    "requestParameters": {"userName": "Bob"},
    "responseElements": {
        "user": {
            "createDate": "Mar 24, 2014 9:11:59 PM",
            "userName": "Bob",
            "arn": "arn:aws:iam::123456789012:user/Bob",
            "path": "/",
            "userId": "EXAMPLEUSERID",
        }
    },
    "requestID": "6b6cf3e2-0e0b-4d7b-8a4f-2f3c5e7b9a10",
    "eventID": "3f8a1e42-5c1d-4f0e-9b7a-1d2c3b4a5e6f",
    "readOnly": False,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": "123456789012",
    "eventCategory": "Management",
}


def _cloudtrail_base() -> dict[str, Any]:
    return copy.deepcopy(_CLOUDTRAIL_BASE)


_CLOUDTRAIL_ALWAYS = ("eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "eventID", "eventType")
"""Fields every CloudTrail record carries, as a non-empty string ("Optional: False", CloudTrail record contents:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
Removing one, nulling it or making it an array makes something that is not a CloudTrail record
(EventBridge, for one, derives the event's ``source`` from ``eventSource``)."""


def _cloudtrail_set(record: dict[str, Any], field: str, value: Any) -> None:
    """Set a field as CloudTrail holds it: the path's arrays from what records and API references
    show (``compiler.cloudtrail_paths``; a path nothing shows is taken to hold single values)."""
    if field in _CLOUDTRAIL_ALWAYS and not (isinstance(value, str) and value):
        raise NotInThisSource(f"every CloudTrail record has {field} as a non-empty string")
    if field == "eventSource":
        service, dot, domain = value.lower().partition(".")
        if not service or not dot or domain != "amazonaws.com" or any(c.isspace() for c in service):
            # "the service that the request was made to ... a short form of the service name without
            # spaces plus .amazonaws.com" (CloudTrail record contents)
            raise NotInThisSource("CloudTrail's eventSource is <service>.amazonaws.com")
    known = shape(field)
    if isinstance(value, list) and (known is None or len(field.split(".")) - 1 not in known.arrays):
        raise NotInThisSource(f"CloudTrail holds {field} as a single value, not an array")
    place(record, field, value)


CLOUDTRAIL = RawForm(name="aws/cloudtrail", base_record=_cloudtrail_base, set_field=_cloudtrail_set)

def _remove_marked(node: Any, mark: Any) -> bool:
    """Remove every dict entry holding ``mark`` (and the objects left empty); whether any was removed."""
    removed = False
    if isinstance(node, dict):
        for key in list(node):
            if node[key] is mark:
                del node[key]
                removed = True
            elif _remove_marked(node[key], mark):
                removed = True
                if node[key] == {}:
                    del node[key]
    elif isinstance(node, list):
        for item in node:
            removed = _remove_marked(item, mark) or removed
    return removed


def kind_label(variant: Variant) -> str:
    """A kind of record as its conditions pick it out: the first value each condition takes
    (``Security 4688``: the channel, then the event id)."""
    return " ".join(str(values[0]) for values in variant.conditions.values() if values)


def family_form(source: Logsource, variant: Variant | None = None) -> RawForm:
    """A raw form from a ``compiler.logsources`` logsource: its family sets fields, and the base
    record is an event of one kind the logsource covers (``variant``; default its first), that
    kind's conditions (such as Sysmon's EventID and channel) filled in and its field names used
    (Security 4688 writes Image as NewProcessName). Windows: the fields every event carries
    (``SYSTEM_FIELDS``) are never removed, nulled or made arrays, event data are single values,
    and a field its source writes in one form holds nothing else (``Family.can_hold``)."""
    from compiler.logsources.windows import SYSTEM_FIELDS

    family = source.family
    kind = source.variants[0] if variant is None else variant

    def base() -> dict[str, Any]:
        record: dict[str, Any] = {}
        for name, wanted in kind.conditions.items():
            record = family.set_field(record, kind.renames.get(name, name), wanted[0])
        return family.complete(record)

    def set_field(record: dict[str, Any], field: str, value: Any) -> None:
        if isinstance(value, list):
            raise NotInThisSource(f"a {family.name} event holds {field} as a single value")
        if field in SYSTEM_FIELDS and (value is ABSENT or value is None):
            raise NotInThisSource(f"every {family.name} event carries {field}")
        if value is None:  # evtx_dump writes an element's text (an empty one as ""), or a number
            raise NotInThisSource(f"a {family.name} event holds no JSON null")
        name = kind.renames.get(field, field)
        if not family.can_hold(record, name, value):
            raise NotInThisSource(f"a {family.name} event of this kind never holds {value!r} in {name}")
        mark = object()
        changed = family.set_field(record, name, mark if value is ABSENT else copy.deepcopy(value))
        if value is ABSENT:
            _remove_marked(changed, mark)
        record.clear()
        record.update(changed)

    def fit(record: dict[str, Any], field: str, value: Any) -> list[Any]:
        return family.fits(record, kind.renames.get(field, field), value)

    label = kind_label(kind) if len(source.variants) > 1 else ""
    return RawForm(name=source.name, base_record=base, set_field=set_field, fit=fit, kind=label)


def raw_forms(rule: DetcRule) -> tuple[RawForm, ...]:
    """The raw forms of a rule's logsource (as ``compiler.logsources`` finds it), one per kind of
    record it covers (``process_creation``: Sysmon 1 and Security 4688), in the layer's order; empty
    when detc cannot build records of it yet."""
    from compiler.logsources import find

    source = find(rule.sigma.logsource)
    if source is None:
        return ()
    if source.family.name == "cloudtrail":
        return (CLOUDTRAIL,)
    if source.family.name == "windows":
        return tuple(family_form(source, variant) for variant in source.variants)
    return ()


def raw_form(rule: DetcRule) -> RawForm | None:
    """The raw form of the first kind of record of a rule's logsource, or None (``raw_forms``)."""
    forms = raw_forms(rule)
    return forms[0] if forms else None
