"""What a Windows rule's Elastic query cannot hold exactly, stated on its artifacts."""

from __future__ import annotations

from sigma.rule import SigmaRule
from sigma.types import SigmaCasedString, SigmaRegularExpression, SigmaString

from backends.elastic.caveats import ASCII_CLASSES, ignore_above_caveat
from backends.elastic.lucene_regex import has_letters
from backends.elastic.windows.index_mapping import field_spec
from compiler.patterns import detection_items, item_values

KQL_CASE = (
    "case: Kibana KQL matches keyword fields case-sensitively and has no case-insensitive syntax "
    "(Kibana issues 55378, 134143). Windows writes the same path or name in varying case "
    "(C:\\Windows\\System32\\CMD.EXE, cmd.exe): string values match only in the case the rule writes them, "
    "where Sigma matches any case."
)
INITIATED_CASE = (
    "Initiated: Elastic's Sysmon pipeline maps Initiated to network.direction only when it is 'true' or 'false' "
    "as Sysmon writes it (egress, ingress); the same text in another letter case is not mapped, where Sigma "
    "matches any case."
)
LONG_VALUES = "a long command line, script path or registry value"
_CLASSES = (r"\d", r"\w", r"\s", r"\D", r"\W", r"\S")


def _has_folded_strings(rule: SigmaRule) -> bool:
    return any(
        isinstance(v, SigmaString)
        and not isinstance(v, SigmaCasedString)
        and has_letters("".join(p for p in v.s if isinstance(p, str)))
        for i in detection_items(rule)
        for v in item_values(i)
    )


def caveats(rule: SigmaRule, target: str, mapped: SigmaRule, constant: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What the query for a Windows rule cannot hold exactly on ``kql``, ``lucene`` or ``eql``: letter
    case on KQL, ASCII regex classes where Lucene's regex dialect is used, and the keyword fields the
    query matches whose mapping does not index long values (read on the rule as mapped; ``constant``:
    fields the logsource condition tests against short constants)."""
    out: list[str] = []
    if target == "kql" and _has_folded_strings(rule):
        out.append(KQL_CASE)
    if target in ("lucene", "eql") and any(
        isinstance(v, SigmaRegularExpression) and any(k in v.regexp.to_plain() for k in _CLASSES)
        for i in detection_items(rule)
        for v in item_values(i)
    ):
        out.append(ASCII_CLASSES)
    if any(i.field == "Initiated" for i in detection_items(rule)):
        out.append(INITIATED_CASE)
    out.extend(ignore_above_caveat(mapped, field_spec, LONG_VALUES, constant=constant))
    return tuple(out)
