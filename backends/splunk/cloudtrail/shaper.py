"""Splunk × CloudTrail: a raw CloudTrail record → the event as a Splunk search sees it under the Splunk Add-on for AWS.

The document is a mapping from field name to its values (a tuple: Splunk fields can be
multivalue), every value a string:

- ``_raw`` is the record as JSON text: the add-on indexes each CloudTrail record as one JSON event,
  and keyword searches and ``| regex`` without a field read ``_raw``.
- ``index`` and ``sourcetype`` (``aws:cloudtrail``) are default fields every event carries.
- Every JSON leaf becomes a field named by its path, as search-time JSON extraction
  (``KV_MODE = json`` in the add-on's props.conf ``[aws:cloudtrail]``) names it: objects join keys
  with ``.``, arrays add ``{}`` (spath: "A location step is composed of a field name and an
  optional index surrounded by curly brackets", Search Reference, spath; the add-on's props.conf
  reads ``'resources{}.ARN'``). Values from every element of an array collect in one multivalue
  field, in document order.
- JSON ``true``/``false`` become ``true``/``false``, numbers their JSON text; ``null`` becomes
  ``null``. Empty objects and arrays make no field.
- Calculated fields of the add-on that searches rely on (props.conf ``[aws:cloudtrail]``):
  ``EVAL-errorCode = coalesce('errorCode', if(like('responseElements.ConsoleLogin', "Failure"),
  "failure", "success"), "success")`` and ``EVAL-msg = coalesce('errorCode',"success")``.
  ``like()`` with no ``%``/``_`` is an exact, case-sensitive comparison (eval expressions are
  case-sensitive: Search Reference, where), so only ``Failure`` as CloudTrail writes it counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from backends.splunk.cloudtrail.storage import storage
from compiler.errors import ShapeError

Document = Mapping[str, tuple[str, ...]]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ShapeError(f"a CloudTrail record cannot hold the number {value!r}")
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise ShapeError(f"not a JSON value: {type(value).__name__}")


def _flatten(value: Any, name: str, out: dict[str, list[str]]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ShapeError(f"JSON object keys are strings, not {type(key).__name__}")
            _flatten(item, f"{name}.{key}" if name else key, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _flatten(item, f"{name}{{}}", out)
    else:
        if not name:
            raise ShapeError("a CloudTrail record is a JSON object")
        out.setdefault(name, []).append(_scalar(value))


def add_on_fields(fields: dict[str, list[str]]) -> None:
    """Apply the add-on's calculated fields that detections search on."""
    extracted = fields.get("errorCode")
    console = fields.get("responseElements.ConsoleLogin", [])
    if extracted:
        filled = list(extracted)
    elif any(v == "Failure" for v in console[:1]):
        filled = ["failure"]
    else:
        filled = ["success"]
    fields["errorCode"] = filled
    fields["msg"] = list(extracted) if extracted else ["success"]


def shape(record: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> Document:
    """The Splunk event for one raw CloudTrail record, in the settings' index (default ``aws``)."""
    if not isinstance(record, Mapping):
        raise ShapeError(f"a CloudTrail record is a JSON object, not {type(record).__name__}")
    try:
        raw = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ShapeError(f"record is not JSON: {err}") from err
    fields: dict[str, list[str]] = {}
    _flatten(record, "", fields)
    add_on_fields(fields)
    where = storage(settings or {})
    fields["_raw"] = [raw]
    fields["index"] = [where["index"]]
    fields["sourcetype"] = [where["sourcetype"]]
    return {name: tuple(values) for name, values in fields.items()}
