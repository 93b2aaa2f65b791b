"""Splunk artifacts: a Splunk app (``splunk/<app>/``, and packaged as ``splunk/<app>.tgz``) whose
``default/savedsearches.conf`` holds the ES correlation searches, and one ``.spl`` per rule.

Each rule becomes one stanza of savedsearches.conf, with only keys savedsearches.conf.spec defines
(Admin Manual; a test checks each against the spec's key list): ``search``, ``description``, the
schedule (``enableSched``, ``cron_schedule``, ``dispatch.earliest_time``/``dispatch.latest_time``),
the trigger (``counttype = number of events``, ``relation = greater than``, ``quantity = 0``: any
event, once per result; not the REST API's ``alert_type``/``alert_comparator``/``alert_threshold``),
each alert action enabled as ``action.<name> = 1``, and the Splunk Enterprise Security correlation-search
settings as ES writes them: ``action.correlationsearch.enabled``/``label``/``annotations``
(``{"mitre_attack": [technique ids]}``), the notable action (``action.notable.param.*``, the
triage note as ``next_steps`` in ES's ``{"version": 1, "data": ...}`` form) and the risk action
(``action.risk.param._risk``: a JSON list of risk objects with their score).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from backends.splunk.app import app_files, app_id, app_version, package
from backends.splunk.conf import Setting, join_conf, prose, stanza_text
from backends.splunk.target import NAME
from compiler import __version__
from compiler.errors import EmitError
from compiler.naming import rule_stem
from compiler.profile import Profile
from compiler.rules import DetcRule, duration_parts, lookback_parts
from compiler.target import Artifact, Compiled, Fragment, RuleResult


def app_dir(profile: Profile) -> str:
    return f"splunk/{app_id(profile)}"


def conf_path(profile: Profile) -> str:
    """Where a build writes the saved searches: inside the app's ``default/`` folder."""
    return f"{app_dir(profile)}/default/savedsearches.conf"


CONF_PATH = conf_path(Profile())
"""The default build's savedsearches.conf."""

ALERT_SEVERITY = {"low": "3", "medium": "4", "high": "5", "critical": "6"}
"""alert.severity: 1 debug, 2 info, 3 warn, 4 error, 5 severe, 6 fatal (savedsearches.conf.spec)."""

_TECHNIQUE = re.compile(r"^t(\d{4})(?:\.(\d{3}))?$")


def cron_schedule(interval: str) -> str:
    """A cron expression that runs every interval, evenly; intervals cron cannot space evenly are refused."""
    parts = duration_parts(interval)
    if parts is None:
        raise EmitError(f"schedule interval {interval!r} is not a duration like 5m")
    count, unit = parts
    if unit == "m" and count < 60 and 60 % count == 0:
        return "* * * * *" if count == 1 else f"*/{count} * * * *"
    if unit == "m" and count % 60 == 0:
        unit, count = "h", count // 60
    if unit == "h" and count < 24 and 24 % count == 0:
        return "0 * * * *" if count == 1 else f"0 */{count} * * *"
    if (unit == "h" and count == 24) or (unit == "d" and count == 1):
        return "0 0 * * *"
    raise EmitError(
        f"schedule interval {interval!r} has no evenly spaced cron schedule "
        "(use minutes dividing an hour, hours dividing a day, or 1d)"
    )


def earliest_time(lookback: str) -> str:
    """Elastic-style ``now-6m`` as a Splunk relative time modifier, ``-6m``."""
    parts = lookback_parts(lookback)
    if parts is None:
        raise EmitError(f"schedule lookback {lookback!r} is not like now-6m")
    return f"-{parts[0]}{parts[1]}"


def attack_techniques(rule: DetcRule) -> list[str]:
    """ATT&CK technique and sub-technique ids from the rule's ``attack.tNNNN[.NNN]`` tags, in tag order."""
    ids: list[str] = []
    for tag in rule.sigma.tags:
        if tag.namespace != "attack":
            continue
        match = _TECHNIQUE.match(tag.name.lower())
        if match:
            ids.append("T" + match.group(1) + (f".{match.group(2)}" if match.group(2) else ""))
    return list(dict.fromkeys(ids))


def stanza_name(rule: DetcRule) -> str:
    """The saved search's name: the rule title without the brackets a stanza header cannot hold."""
    return " ".join(rule.title.replace("[", "(").replace("]", ")").split())


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def stanza_settings(rule: DetcRule, compiled: Compiled) -> list[Setting]:
    """Every setting of one rule's stanza, keys in sorted order."""
    details = compiled.details
    risk_field = str(details["risk_object_field"])
    description, title = prose(rule.sigma.description or rule.title), prose(rule.title)
    settings: dict[str, str] = {
        "search": compiled.query,
        "description": description,
        "disabled": "0",
        "enableSched": "1",
        "cron_schedule": cron_schedule(rule.meta.schedule.interval),
        "dispatch.earliest_time": earliest_time(rule.meta.schedule.lookback),
        "dispatch.latest_time": "now",
        # continuous scheduling: a delayed run still covers its window, so no window is skipped
        "realtime_schedule": "0",
        "request.ui_dispatch_app": str(details["dispatch_app"]),
        "counttype": "number of events",
        "relation": "greater than",
        "quantity": "0",
        "alert.digest_mode": "0",
        "alert.track": "1",
        "alert.suppress": "0",
        "alert.severity": ALERT_SEVERITY[rule.severity],
        "action.correlationsearch.enabled": "1",
        "action.correlationsearch.label": title,
        "action.correlationsearch.annotations": _json({"mitre_attack": attack_techniques(rule)}),
        "action.notable": "1",
        "action.notable.param.rule_title": title,
        "action.notable.param.rule_description": description,
        "action.notable.param.security_domain": str(details["security_domain"]),
        "action.notable.param.severity": rule.severity,
        "action.risk": "1",
        "action.risk.param._risk": _json(
            [
                {
                    "risk_object_field": risk_field,
                    "risk_object_type": str(details["risk_object_type"]),
                    "risk_score": rule.meta.risk_score,
                }
            ]
        ),
        "action.risk.param._risk_message": f"{title}: ${risk_field}$",
    }
    if rule.meta.note:
        settings["action.notable.param.next_steps"] = _json({"version": 1, "data": rule.meta.note.strip()})
    return sorted(settings.items())


HEADER = (
    f"Generated by detc {__version__} from Sigma rules: do not edit, rebuild with `detc build`.",
    "Splunk Enterprise Security correlation searches over sourcetype aws:cloudtrail (Splunk Add-on for",
    "AWS) and XmlWinEventLog (Splunk Add-ons for Microsoft Windows and Sysmon). One stanza per rule.",
)


class SplunkEmitter:
    name = "splunk"
    targets = (NAME,)

    def fragment(self, result: RuleResult, profile: Profile) -> Fragment | None:
        """The rule's ``.spl`` file and its stanza; for a rule SPL cannot express, the header line
        that says so."""
        rule = result.rule
        compiled = result.compiled.get(NAME)
        path = conf_path(profile)
        if compiled is None:
            reason = result.unsupported.get(NAME)
            if reason is None:
                return None
            line = f"not carried: {rule.path}: unsupported: {' '.join(reason.split())}"
            return Fragment(rule_id=rule.id, rule_path=rule.path, parts={path: {"not_carried": line}},
                            targets={path: ()})
        try:
            name = stanza_name(rule)
            text = stanza_text(name, stanza_settings(rule, compiled))
        except EmitError as err:
            raise err.located(path=rule.path, rule_id=rule.id, target=NAME) from None
        spl_path = f"splunk/{rule_stem(rule.path)}.spl"
        return Fragment(
            rule_id=rule.id,
            rule_path=rule.path,
            files={spl_path: compiled.query.rstrip("\n") + "\n"},
            parts={path: {"stanza": name, "text": text, "date": str(rule.sigma.modified or rule.sigma.date or "")}},
            targets={spl_path: (NAME,), path: (NAME,)},
        )

    def assemble(self, fragments: Sequence[Fragment], profile: Profile) -> list[Artifact]:
        """The app: ``savedsearches.conf`` (the header with the rules SPL cannot carry, then every
        stanza), its ``app.conf``, ``default.meta`` and ``app.manifest``, and the app's ``.tgz``."""
        path = conf_path(profile)
        header = list(HEADER)
        stanzas: list[tuple[str, str]] = []
        carried: list[str] = []
        dates: list[str] = []
        for fragment in sorted(fragments, key=lambda f: f.rule_path):
            part = fragment.parts.get(path, {})
            if "not_carried" in part:
                header.append(part["not_carried"])
                continue
            stanzas.append((part["stanza"], part["text"]))
            carried.append(fragment.rule_id)
            dates.append(part["date"])
        if not stanzas:
            return []
        name = app_id(profile)
        label = "detc detections" if profile.name == "default" else f"detc detections: {profile.name}"
        files = app_files(name, app_version(dates), label, join_conf(header, stanzas))
        folder = app_dir(profile)
        out = [
            Artifact(path=f"{folder}/{inner}", data=data, rules=tuple(carried) if inner.endswith("searches.conf") else (),
                     targets=(NAME,))
            for inner, data in sorted(files.items())
        ]
        out.append(Artifact(path=f"{folder}.tgz", data=package(name, files), rules=tuple(carried), targets=(NAME,)))
        return out
