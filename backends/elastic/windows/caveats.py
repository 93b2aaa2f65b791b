"""What a Windows rule's Elastic query cannot hold exactly, stated on its artifacts."""

from __future__ import annotations

from sigma.rule import SigmaRule
from sigma.types import SigmaCasedString, SigmaRegularExpression, SigmaString

from backends.elastic.caveats import ASCII_CLASSES
from backends.elastic.lucene_regex import has_letters
from compiler.patterns import detection_items

KQL_CASE = (
    "case: Kibana KQL matches keyword fields case-sensitively and has no case-insensitive syntax "
    "(Kibana issues 55378, 134143). Windows writes the same path or name in varying case "
    "(C:\\Windows\\System32\\CMD.EXE, cmd.exe): string values match only in the case the rule writes them, "
    "where Sigma matches any case."
)
IGNORE_ABOVE = (
    "ignore_above: the integrations index keyword values up to 1,024 characters; a longer value "
    "(a long command line, script path or registry data) is kept in _source but no query matches it."
)


_CLASSES = (r"\d", r"\w", r"\s", r"\D", r"\W", r"\S")


def _has_folded_strings(rule: SigmaRule) -> bool:
    return any(
        isinstance(v, SigmaString)
        and not isinstance(v, SigmaCasedString)
        and has_letters("".join(p for p in v.s if isinstance(p, str)))
        for i in detection_items(rule)
        for v in i.value
    )


def caveats(rule: SigmaRule, target: str) -> tuple[str, ...]:
    """What the query for a Windows rule cannot hold exactly, on this target."""
    out: list[str] = []
    if target == "kql" and _has_folded_strings(rule):
        out.append(KQL_CASE)
    if target == "lucene" and any(
        isinstance(v, SigmaRegularExpression) and any(k in v.regexp.to_plain() for k in _CLASSES)
        for i in detection_items(rule)
        for v in i.value
    ):
        out.append(ASCII_CLASSES)
    out.append(IGNORE_ABOVE)
    return tuple(out)


