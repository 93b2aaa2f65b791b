"""Which Windows events a Sigma Windows logsource means: channel, EventIDs, per-variant field names.

Local stand-in for the platform-free logsource layer (``compiler/logsources/windows.py``); the
cell reads the layer instead once it is on main, and this module goes.

Sources, both upstream:

- category → EventIDs: SigmaHQ's own regression configuration, ``tests/thor.yml`` (SigmaHQ/sigma @
  8eaafff1f2845a696050e05e72ba1140ee190698), which is how SigmaHQ ties its Windows categories to
  events: process_creation is Sysmon EventID 1 *or* Security 4688 with ``Image`` →
  ``NewProcessName`` and ``ParentImage`` → ``ParentProcessName``; registry_add/registry_delete add
  Sysmon's ``EventType``.
- service → channel: pySigma's ``sigma.pipelines.common.windows_logsource_mapping`` (pySigma 1.5.1),
  completed with the services thor.yml names that pySigma lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.pipelines.common import windows_logsource_mapping

SYSMON = "Microsoft-Windows-Sysmon/Operational"
SECURITY = "Security"
POWERSHELL = ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")
POWERSHELL_CLASSIC = "Windows PowerShell"


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One kind of event a logsource covers, in the logsource layer's terms."""

    conditions: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Sigma field name (``Channel``, ``EventID``, ``EventType``) → the values it may hold (any)."""
    renames: Mapping[str, str] = field(default_factory=dict)
    """Sigma field name → the event's own name for it, on this variant only."""


def _on(channels: tuple[str, ...], *event_ids: int, **more: tuple[str, ...]) -> Variant:
    conditions: dict[str, tuple[Any, ...]] = {"Channel": channels}
    if event_ids:
        conditions["EventID"] = event_ids
    return Variant(conditions={**conditions, **more})


def _sysmon(*event_ids: int, **more: tuple[str, ...]) -> tuple[Variant, ...]:
    return (_on((SYSMON,), *event_ids, **more),)


CATEGORIES: Mapping[str, tuple[Variant, ...]] = {
    "process_creation": (
        _on((SYSMON,), 1),
        Variant(
            conditions={"Channel": (SECURITY,), "EventID": (4688,)},
            renames={"Image": "NewProcessName", "ParentImage": "ParentProcessName"},
        ),
    ),
    "file_change": _sysmon(2),
    "network_connection": _sysmon(3),
    "sysmon_status": _sysmon(4, 16),
    "process_termination": _sysmon(5),
    "driver_load": _sysmon(6),
    "image_load": _sysmon(7),
    "create_remote_thread": _sysmon(8),
    "raw_access_thread": _sysmon(9),
    "process_access": _sysmon(10),
    "file_event": _sysmon(11),
    "registry_event": _sysmon(12, 13, 14),
    "registry_add": _sysmon(12, EventType=("CreateKey",)),
    "registry_delete": _sysmon(12, EventType=("DeleteKey", "DeleteValue")),
    "registry_set": _sysmon(13),
    "registry_rename": _sysmon(14),
    "create_stream_hash": _sysmon(15),
    "pipe_created": _sysmon(17, 18),
    "wmi_event": _sysmon(19, 20, 21),
    "dns_query": _sysmon(22),
    "file_delete": _sysmon(23),
    "clipboard_change": _sysmon(24),
    "process_tampering": _sysmon(25),
    "file_delete_detected": _sysmon(26),
    "file_block_executable": _sysmon(27),
    "file_block_shredding": _sysmon(28),
    "file_executable_detected": _sysmon(29),
    "sysmon_error": _sysmon(255),
    "ps_module": (_on(POWERSHELL, 4103),),
    "ps_script": (_on(POWERSHELL, 4104),),
    "ps_classic_start": (_on((POWERSHELL_CLASSIC,), 400),),
    "ps_classic_provider_start": (_on((POWERSHELL_CLASSIC,), 600),),
    "ps_classic_script": (_on((POWERSHELL_CLASSIC,), 800),),
}

_THOR_SERVICES: Mapping[str, str | list[str]] = {
    "dhcp": "Microsoft-Windows-DHCP-Server/Operational",
    "smbclient-connectivity": "Microsoft-Windows-SmbClient/Connectivity",
    "smbserver-connectivity": "Microsoft-Windows-SMBServer/Connectivity",
    "ldap": "Microsoft-Windows-LDAP-Client/Debug",
    "kernel-shimengine": [
        "Microsoft-Windows-Kernel-ShimEngine/Operational",
        "Microsoft-Windows-Kernel-ShimEngine/Diagnostic",
    ],
    "application-experience": [
        "Microsoft-Windows-Application-Experience/Program-Telemetry",
        "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant",
    ],
    "ntfs": "Microsoft-Windows-Ntfs/Operational",
    "hyper-v-worker": "Microsoft-Windows-Hyper-V-Worker",
    "kernel-event-tracing": "Microsoft-Windows-Kernel-EventTracing",
    "sense": "Microsoft-Windows-SENSE/Operational",
    "servicebus-client": ["Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"],
    "iis-configuration": "Microsoft-IIS-Configuration/Operational",
}


def _channels(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


SERVICES: Mapping[str, tuple[str, ...]] = {
    name: _channels(value) for name, value in {**windows_logsource_mapping, **_THOR_SERVICES}.items()
}


def variants(category: str | None, service: str | None) -> tuple[Variant, ...] | None:
    """The events a Windows logsource means, or None when neither table knows it.

    A category and a service together (``category: process_creation, service: sysmon``) keep the
    category's variants that are on the service's channels; neither means any Windows event."""
    if not category and not service:
        return (Variant(),)
    by_category = CATEGORIES.get(category) if category else None
    channels = SERVICES.get(service) if service else None
    if category and by_category is None or service and channels is None:
        return None
    if by_category is None:
        return (Variant(conditions={"Channel": channels}),) if channels else None
    if channels is None:
        return by_category
    kept = tuple(v for v in by_category if set(v.conditions["Channel"]) & set(channels))
    return kept or None
