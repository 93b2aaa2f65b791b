"""What a Windows rule's Elastic query cannot hold exactly, stated on its artifacts."""

from __future__ import annotations

from collections.abc import Mapping

from sigma.rule import SigmaRule
from sigma.types import SigmaCasedString, SigmaRegularExpression, SigmaString

from backends.elastic.caveats import ASCII_CLASSES, ignore_above_caveat
from backends.elastic.lucene_regex import has_letters
from backends.elastic.phrase import SigmaPhrase
from backends.elastic.windows.index_mapping import field_spec
from compiler.patterns import detection_items

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


def _has_folded_strings(mapped: SigmaRule) -> bool:
    """A string with a letter that the query compares as a term (a phrase is analysed, and the
    logsource's channel and code are ``|cased`` constants)."""
    return any(
        isinstance(v, SigmaString)
        and not isinstance(v, (SigmaCasedString, SigmaPhrase))
        and has_letters("".join(p for p in v.s if isinstance(p, str)))
        for i in detection_items(mapped)
        for v in i.value
    )


def phrase_caveat(sigma_field: str, stored: str, channels: tuple[str, ...]) -> str:
    """What a phrase query on an analysed text field means next to Sigma's substring match, stated
    with the analyzer the field's mapping names (platform state, ``index_mapping``)."""
    analyzer = field_spec(stored).analyzer
    assert analyzer is not None, stored
    return (
        f"{sigma_field} (events whose Channel is {' or '.join(channels)}): the query is a phrase query on "
        f"{stored}, a text field Elastic's integration analyses with its {analyzer.name} (pattern "
        f"{analyzer.pattern}; tokens: runs of {analyzer.token}, with A-Z read as a-z). It matches where the "
        "script holds the value's tokens in a row, so it also matches where other punctuation or whitespace "
        "separates them (Net.WebClient finds net webclient) and misses a value that starts or ends inside a "
        "longer token (Add-Type in xAdd-Type)."
    )


def caveats(
    rule: SigmaRule, target: str, mapped: SigmaRule, constant: tuple[str, ...] = (),
    phrases: Mapping[str, tuple[str, tuple[str, ...]]] | None = None,
) -> tuple[str, ...]:
    """What the query for a Windows rule cannot hold exactly on ``kql``, ``lucene`` or ``eql``: letter
    case on KQL, ASCII regex classes where Lucene's regex dialect is used, the phrase queries on analysed
    text (``phrases``: Sigma field → the text field and the channels whose events store it there), and
    the keyword fields the query matches whose mapping does not index long values (read on the rule as
    mapped; ``constant``: fields the logsource condition tests against short constants)."""
    out: list[str] = []
    if target == "kql" and _has_folded_strings(mapped):
        out.append(KQL_CASE)
    phrased = {
        i.field for i in detection_items(mapped) if any(isinstance(v, SigmaPhrase) for v in i.value)
    }
    for sigma_field, (stored, channels) in sorted((phrases or {}).items()):
        if stored in phrased:
            out.append(phrase_caveat(sigma_field, stored, channels))
    if target in ("lucene", "eql") and any(
        isinstance(v, SigmaRegularExpression) and any(k in v.regexp.to_plain() for k in _CLASSES)
        for i in detection_items(rule)
        for v in i.value
    ):
        out.append(ASCII_CLASSES)
    if any(i.field == "Initiated" for i in detection_items(rule)):
        out.append(INITIATED_CASE)
    out.extend(ignore_above_caveat(mapped, field_spec, LONG_VALUES, constant=constant))
    return tuple(out)
