"""Sigma's Windows logsources as event-log conditions, until ``compiler/logsources/windows.py`` lands.

Platform-free facts, kept here only while the shared logsource layer has no Windows family: which
channel and EventIDs each Sigma ``category``/``service`` means (SigmaHQ's ``tests/thor.yml`` @
8eaafff1f2845a696050e05e72ba1140ee190698, the configuration SigmaHQ's own regression run ties
logsources to events with; the Sysmon categories follow pySigma-pipeline-sysmon: one Sysmon EventID
set per category, no backend knowledge). Conditions use Sigma's own field names (``EventID``,
``Channel``, ``EventType``); the Elastic pipeline maps them like any rule field. To be deleted when
the shared layer provides ``Logsource.variants`` for Windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SYSMON = "Microsoft-Windows-Sysmon/Operational"


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One kind of event a logsource covers: Sigma field → the values it may hold (any of them)."""

    conditions: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


def _sysmon(*ids: int, **extra: tuple[str, ...]) -> tuple[Variant, ...]:
    return (Variant(conditions={"Channel": (SYSMON,), "EventID": ids, **extra}),)


def _channel(*channels: str) -> tuple[Variant, ...]:
    return (Variant(conditions={"Channel": channels}),)


CATEGORIES: Mapping[str, tuple[Variant, ...]] = {
    "process_creation": _sysmon(1),
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
    "ps_module": (Variant(conditions={
        "Channel": ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"), "EventID": (4103,),
    }),),
    "ps_script": (Variant(conditions={
        "Channel": ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"), "EventID": (4104,),
    }),),
    "ps_classic_start": (Variant(conditions={"Channel": ("Windows PowerShell",), "EventID": (400,)}),),
    "ps_classic_provider_start": (Variant(conditions={"Channel": ("Windows PowerShell",), "EventID": (600,)}),),
    "ps_classic_script": (Variant(conditions={"Channel": ("Windows PowerShell",), "EventID": (800,)}),),
}

SERVICES: Mapping[str, tuple[Variant, ...]] = {
    "security": _channel("Security"),
    "system": _channel("System"),
    "application": _channel("Application"),
    "sysmon": _channel(SYSMON),
    "powershell": _channel("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"),
    "powershell-classic": _channel("Windows PowerShell"),
    "taskscheduler": _channel("Microsoft-Windows-TaskScheduler/Operational"),
    "wmi": _channel("Microsoft-Windows-WMI-Activity/Operational"),
    "dhcp": _channel("Microsoft-Windows-DHCP-Server/Operational"),
    "ntlm": _channel("Microsoft-Windows-NTLM/Operational"),
    "printservice-admin": _channel("Microsoft-Windows-PrintService/Admin"),
    "printservice-operational": _channel("Microsoft-Windows-PrintService/Operational"),
    "smbclient-security": _channel("Microsoft-Windows-SmbClient/Security"),
    "smbclient-connectivity": _channel("Microsoft-Windows-SmbClient/Connectivity"),
    "smbserver-connectivity": _channel("Microsoft-Windows-SMBServer/Connectivity"),
    "terminalservices-localsessionmanager": _channel(
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
    ),
    "codeintegrity-operational": _channel("Microsoft-Windows-CodeIntegrity/Operational"),
    "applocker": _channel(
        "Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment", "Microsoft-Windows-AppLocker/Packaged app-Execution",
    ),
    "msexchange-management": _channel("MSExchange Management"),
    "windefend": _channel("Microsoft-Windows-Windows Defender/Operational"),
    "firewall-as": _channel("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"),
    "bits-client": _channel("Microsoft-Windows-Bits-Client/Operational"),
    "security-mitigations": _channel(
        "Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode",
    ),
    "diagnosis-scripted": _channel("Microsoft-Windows-Diagnosis-Scripted/Operational"),
    "shell-core": _channel("Microsoft-Windows-Shell-Core/Operational"),
    "openssh": _channel("OpenSSH/Operational"),
    "ldap": _channel("Microsoft-Windows-LDAP-Client/Debug"),
    "bitlocker": _channel("Microsoft-Windows-BitLocker/BitLocker Management"),
    "vhdmp": _channel("Microsoft-Windows-VHDMP/Operational"),
    "appxdeployment-server": _channel("Microsoft-Windows-AppXDeploymentServer/Operational"),
    "lsa-server": _channel("Microsoft-Windows-LSA/Operational"),
    "appxpackaging-om": _channel("Microsoft-Windows-AppxPackaging/Operational"),
    "dns-client": _channel("Microsoft-Windows-DNS Client Events/Operational"),
    "appmodel-runtime": _channel("Microsoft-Windows-AppModel-Runtime/Admin"),
    "capi2": _channel("Microsoft-Windows-CAPI2/Operational"),
    "certificateservicesclient-lifecycle-system": _channel(
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"
    ),
    "kernel-shimengine": _channel(
        "Microsoft-Windows-Kernel-ShimEngine/Operational", "Microsoft-Windows-Kernel-ShimEngine/Diagnostic",
    ),
    "application-experience": _channel(
        "Microsoft-Windows-Application-Experience/Program-Telemetry",
        "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant",
    ),
    "ntfs": _channel("Microsoft-Windows-Ntfs/Operational"),
    "hyper-v-worker": _channel("Microsoft-Windows-Hyper-V-Worker"),
    "kernel-event-tracing": _channel("Microsoft-Windows-Kernel-EventTracing"),
    "sense": _channel("Microsoft-Windows-SENSE/Operational"),
    "servicebus-client": _channel("Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"),
    "microsoft-servicebus-client": _channel(
        "Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational",
    ),
    "dns-server": _channel("DNS Server"),
    "dns-server-analytic": _channel("Microsoft-Windows-DNSServer/Analytical"),
    "driver-framework": _channel("Microsoft-Windows-DriverFrameworks-UserMode/Operational"),
    "iis-configuration": _channel("Microsoft-IIS-Configuration/Operational"),
}


def variants(category: str | None, service: str | None) -> tuple[Variant, ...] | None:
    """The event kinds a Windows logsource means (category first, as Sigma resolves it); None if unknown."""
    if category is not None:
        found = CATEGORIES.get(category)
        if found is None:
            return None
        if service is not None and service in SERVICES:
            return tuple(
                Variant(conditions={**v.conditions, **s.conditions}) for v in found for s in SERVICES[service]
            )
        return found
    if service is not None:
        return SERVICES.get(service)
    return None
