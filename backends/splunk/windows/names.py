"""Field names as the Splunk add-ons give them to Windows events (XML rendering).

- ``EventID`` is searched as ``EventCode``, the add-on's name for it (Splunk's own searches select
  ``EventCode=4688``; an ``<EventID Qualifiers=…>`` element gives no ``EventID`` field at all).
- ``Provider_Name`` and ``Security_UserID`` (Sigma's names for ``<Provider Name='…'>`` and
  ``<Security UserID='…'>``) are ``Name`` and ``UserID``: the add-on makes fields of
  the ``<System>`` attributes under their attribute names (the field lists of splunk/security_content
  @ b13b314aed0e1778335a55620474e7d27289a20a, ``data_sources/*.yml``, carry ``Name``, ``Guid``,
  ``SystemTime``, ``ProcessID``, ``ThreadID``, ``UserID``).
- Extracted keys are cleaned (transforms.conf ``CLEAN_KEYS``, default true: every character but
  letters, digits and ``_`` becomes ``_``), so Windows Defender's ``<Data Name='Threat Name'>``, which
  Sigma writes ``ThreatName``, is the field ``Threat_Name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from compiler.logsources.windows import DEFENDER_NAMES

__all__ = ["CLASSIC", "DEFENDER_NAMES", "EVENT_FIELDS", "RENDERINGS", "XML", "clean_key"]

XML = "xml"
CLASSIC = "classic"
RENDERINGS = (XML, CLASSIC)
"""The forwarder's renderings of an event (``renderXml = 1`` / ``0``): the setting ``windows_rendering``."""

EVENT_FIELDS: Mapping[str, str] = {
    "EventID": "EventCode",
    "Provider_Name": "Name",
    "Security_UserID": "UserID",
}
"""Sigma name → the add-on's field for the ``<System>`` values Sigma rules test."""


def clean_key(name: str) -> str:
    """A field name as Splunk's key cleaning leaves it (transforms.conf CLEAN_KEYS = true)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)
