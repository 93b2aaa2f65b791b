"""Where Splunk keeps CloudTrail records: the Splunk Add-on for AWS's ``aws:cloudtrail`` events.

The add-on gives CloudTrail events the sourcetype ``aws:cloudtrail`` (its ``default/props.conf``
stanza ``[aws:cloudtrail]``; Splunk_TA_aws, read from a public copy: skykid17/smartlp @
05f23bd336699c8e8a5072b32185ea1171db656e); the index is the deployment's (setting ``index``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.splunk.spl_where_backend import spl_string

SOURCETYPE = "aws:cloudtrail"
"""The sourcetype the Splunk Add-on for AWS gives CloudTrail events (props.conf ``[aws:cloudtrail]``)."""
DEFAULT_INDEX = "aws"


def storage(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The index and sourcetype a search over CloudTrail reads."""
    return {"index": str(settings.get("index") or DEFAULT_INDEX), "sourcetype": SOURCETYPE}


def search_head(logsource: Any, settings: Mapping[str, Any]) -> str:
    """The base search of a where-form rule: the index and sourcetype it reads."""
    found = storage(settings)
    return f"index={spl_string(found['index'])} sourcetype={spl_string(found['sourcetype'])}"
