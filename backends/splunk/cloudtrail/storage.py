"""Where Splunk keeps CloudTrail records: the Splunk Add-on for AWS's ``aws:cloudtrail`` events.

The add-on gives CloudTrail events the sourcetype ``aws:cloudtrail`` (its ``default/props.conf``
stanza ``[aws:cloudtrail]``; Splunk_TA_aws, read from a public copy: skykid17/smartlp @
05f23bd336699c8e8a5072b32185ea1171db656e); the index is the deployment's (setting ``index``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SOURCETYPE = "aws:cloudtrail"
"""The sourcetype the Splunk Add-on for AWS gives CloudTrail events (props.conf ``[aws:cloudtrail]``)."""
DEFAULT_INDEX = "aws"


def storage(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The index and sourcetype a search over CloudTrail reads."""
    return {"index": str(settings.get("index") or DEFAULT_INDEX), "sourcetype": SOURCETYPE}
