"""Where Elastic keeps Windows events: the index patterns a Windows rule searches.

As Elastic's own prebuilt Windows rules write them (elastic/detection-rules @
14cf530f0d2177023092449cd9d9348b4a8884c2, ``rules/windows/*.toml``; counted over its 487 Windows rules:
``winlogbeat-*`` 377, ``logs-windows.sysmon_operational-*`` 302, ``logs-system.security*`` 190,
``logs-windows.forwarded*`` 178, ``logs-windows.powershell*`` 29, ``logs-system.system*`` 2,
``logs-system.application*`` 1): the integration's data stream for the channel, the Windows Event
Forwarding stream that carries every channel collected centrally, and Winlogbeat's indices. A client
profile replaces the list per target (``targets: kql: {windows_index: [...]}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WINLOGBEAT = "winlogbeat-*"
FORWARDED = "logs-windows.forwarded*"

INDEX_BY_STREAM: Mapping[str, tuple[str, ...]] = {
    "windows.sysmon_operational": ("logs-windows.sysmon_operational-*", FORWARDED, WINLOGBEAT),
    "system.security": ("logs-system.security*", FORWARDED, WINLOGBEAT),
    "windows.powershell_operational": ("logs-windows.powershell*", FORWARDED, WINLOGBEAT),
    "windows.powershell": ("logs-windows.powershell*", FORWARDED, WINLOGBEAT),
    "system.system": ("logs-system.system*", FORWARDED, WINLOGBEAT),
    "system.application": ("logs-system.application*", FORWARDED, WINLOGBEAT),
    "windows.forwarded": (FORWARDED, WINLOGBEAT),
}
"""Default index patterns per data stream (``logs-windows.powershell*`` covers both PowerShell streams,
as Elastic's rules write it)."""

PACKAGE = "windows"
INTEGRATION = "sysmon_operational"
PACKAGE_VERSION = "^2.0.0"
"""The Fleet package and integration a Windows rule relies on, for Kibana's ``related_integrations``;
detc derives one only when a query pins ``data_stream.dataset``, which Windows queries never do (they
select events by channel and event code, so that the forwarded and Winlogbeat indices match too)."""

SETTING = "windows_index"
"""The per-target client setting: the index patterns every Windows rule searches, instead of these."""


def storage(settings: Mapping[str, Any], logsource: Any) -> dict[str, Any]:
    """The index patterns a rule of this logsource searches (those of every data stream its events land
    in, or the client's own) and those data streams."""
    from backends.elastic.windows.pipeline import parts_of_logsource

    streams: list[str] = []
    for part in parts_of_logsource(logsource):
        if part.stream.name not in streams:
            streams.append(part.stream.name)
    index: list[str] = list(settings.get(SETTING) or ())
    if not index:
        for stream in streams:
            index.extend(p for p in INDEX_BY_STREAM[stream] if p not in index)
    return {"index": index, "data_streams": streams}


def eql_event_category(logsource: Any) -> str:
    """``any``: the query itself selects the events by channel and event code, and ``event.category``
    varies by integration version (Sysmon image loads are ``process`` in the pipeline detc reproduces,
    ``library`` in newer ones)."""
    return "any"
