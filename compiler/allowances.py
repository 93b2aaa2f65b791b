"""When a target may disagree with the Sigma reference: the limits its artifact states, and nothing else.

One function, ``stated_difference``, used by the property tests and by ``detc test --generated``:
given the caveats a compiled query carries, a record and the target's verdict, it names the stated
limit that explains the target's verdict, or returns None (a silent difference: a bug).

The allowance is precise. A caveat never excuses a verdict wholesale: each one names which
condition leaves it may turn on this record (a leaf whose verdict depends on letter case, under a
case caveat; a ``null``/``exists`` leaf on a field the record holds as JSON null, under
EventBridge's null caveat; ...). The target's verdict is allowed only when the reference's verdict
with some of those leaves taken the other way gives it. Two limits are whole-query:
a search the artifact calls *wider* may match more (never less), and letter case outside ASCII,
where each platform folds case by its own tables (documented in the README), may turn a leaf whose
text holds a non-ASCII cased character.

One limit is exact rather than a choice: a field the artifact says it matches as a *phrase of
tokens* (Elastic's analysed text) answers a ``contains`` leaf by the tokens its caveat names, so on
the records it speaks of those leaves take that verdict (recomputed, never flipped at will) before
any other limit is considered.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sigma.types import (
    SigmaCasedString,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

from compiler.conditions import Conditions, Leaf
from compiler.logsources import dotted_values

Record = Mapping[str, Any]
_MAX_FLIPPABLE = 10
"""Up to this many turnable leaves, the allowance names the fewest that explain a verdict (2**10
subsets at most); beyond, it asks whether any choice of them gives it (three-valued evaluation)."""


def _scalars(record: Record, field: str | None) -> list[Any]:
    if field is None:
        return []
    out: list[Any] = []
    stack = list(dotted_values(record, field))
    while stack:
        value = stack.pop(0)
        if isinstance(value, list):
            stack[:0] = value
        else:
            out.append(value)
    return out


def _non_ascii_cased(text: str) -> bool:
    return any(not c.isascii() and (c.lower() != c or c.upper() != c or c.casefold() != c) for c in text)


def _case_turns(leaf: Leaf, record: Record) -> bool:
    """Whether the leaf's verdict on this record depends on letter case."""
    cased = leaf.cased_predicate
    return cased is not None and cased(record) != leaf.predicate(record)


def _folding_outside_ascii(leaf: Leaf, record: Record) -> bool:
    values = leaf.value.values if isinstance(leaf.value, SigmaExpansion) else [leaf.value]
    rule_texts = [_rule_text(v) for v in values]
    if any(t is None for t in rule_texts):
        return False
    texts = [t for t in rule_texts if t is not None] + [str(v) for v in _scalars(record, leaf.field) if isinstance(v, str)]
    if leaf.field is None:  # a keyword: any string of the record
        texts += [v for v in _all_strings(record)]
    if any(_irregular_case(c) for t in texts for c in t if not c.isascii()):
        return True  # ß→SS, İ, final sigma, ligatures: each platform's table maps these its own way
    return _case_turns(leaf, record) and any(_non_ascii_cased(t) for t in texts)


def _rule_text(value: Any) -> str | None:
    """The text a string or regex value writes (None: another kind of value)."""
    if isinstance(value, SigmaString):
        return "".join(p for p in value.s if isinstance(p, str))
    if isinstance(value, SigmaRegularExpression):
        return value.regexp.to_plain()
    return None


def _irregular_case(c: str) -> bool:
    """A character whose case mapping is not one-to-one (so tables disagree on it)."""
    upper, lower = c.upper(), c.lower()
    return len(upper) != 1 or len(lower) != 1 or upper.lower() != lower or lower.upper() != upper or c.casefold() != lower


def _all_strings(node: Any) -> list[str]:
    if isinstance(node, Mapping):
        return [s for v in node.values() for s in _all_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _all_strings(v)]
    return [node] if isinstance(node, str) else []


def _is_empty_string(value: Any) -> bool:
    return isinstance(value, SigmaString) and not value.s


def _tests_presence(leaf: Leaf) -> bool:
    """``null``, ``exists`` or a value of ``*`` wildcards only (which a platform writes as exists)."""
    value = leaf.value
    if isinstance(value, (SigmaNull, SigmaExists)):
        return True
    return isinstance(value, SigmaString) and all(p == SpecialChars.WILDCARD_MULTI for p in value.s)


def _case_everywhere(caveat: str) -> bool:
    """A target's caveat that letter case decides every string match (KQL's ``case: …``,
    EventBridge's ``… is matched case-sensitively (…)``)."""
    return caveat.startswith("case:") or " is matched case-sensitively (" in caveat


def _says_case(caveat: str) -> bool:
    """A caveat that letter case decides a match: everywhere, or on the one field it names
    (``Initiated: … in another letter case …``)."""
    return _case_everywhere(caveat) or "in another letter case" in caveat


def _case_stated(leaf: Leaf, record: Record, said: list[str]) -> bool:
    """A leaf letter case turns on this record, where a caveat says case decides it: any leaf under a
    whole-query case caveat, else only a leaf on the field a caveat names."""
    return _case_turns(leaf, record) and (
        any(_case_everywhere(c) for c in said) or leaf.field in {c.split(":")[0] for c in said}
    )


# Each stated limit: the words its caveat says (the caveat texts are the targets'), what it is
# called in a report, and which leaves it may turn on a record.
LeafTest = Callable[[Leaf, Record, list[str]], bool]
"""A leaf, the record, and the caveats that say the limit: whether the limit may turn the leaf."""
_STATED: tuple[tuple[Callable[[str], bool], str, LeafTest], ...] = (
    (_says_case, "case (stated in the artifact's caveats)", lambda leaf, rec, said: _case_stated(leaf, rec, said)),
    (
        lambda c: "EventBridge also grants a field present as JSON null" in c,
        "exists on a JSON null (stated in the artifact's caveats)",
        lambda leaf, rec, said: _tests_presence(leaf)
        and leaf.field in {c.removeprefix("not ").split(":")[0] for c in said}
        and None in _scalars(rec, leaf.field),
    ),
    (
        lambda c: "Splunk's JSON extraction gives" in c and "JSON null" in c,
        "JSON null read as the text null (stated in the artifact's caveats)",
        lambda leaf, rec, said: leaf.field in {c.split(":")[0] for c in said} and None in _scalars(rec, leaf.field),
    ),
    (
        lambda c: "ingest pipeline drops empty strings" in c or "dropped at ingest" in c,
        "empty strings and nulls dropped at ingest (stated in the artifact's caveats)",
        lambda leaf, rec, said: leaf.field in {c.split(":")[0].split("|")[0] for c in said}
        and any(v == "" or v is None for v in _scalars(rec, leaf.field)),
    ),
    (
        lambda c: "numeric comparisons match JSON numbers only" in c,
        "a number written as a string (stated in the artifact's caveats)",
        lambda leaf, rec, said: type(leaf.value) in (SigmaNumber, SigmaCompareExpression)
        and any(isinstance(v, str) for v in _scalars(rec, leaf.field)),
    ),
    (
        lambda c: c.startswith("user.name:"),
        "user.name holds the session issuer (stated in the artifact's caveats)",
        lambda leaf, rec, said: leaf.field == "userIdentity.userName",
    ),
    (
        lambda c: c.startswith("whole-object text:"),
        "whole objects matched as text (stated in the artifact's caveats)",
        lambda leaf, rec, said: any(isinstance(v, (dict, list)) for v in dotted_values(rec, leaf.field or "")),
    ),
    (
        lambda c: "Splunk makes no field of an empty value" in c,
        "an empty value has no Splunk field (stated in the artifact's caveats)",
        lambda leaf, rec, said: leaf.field in {c.split(":")[0] for c in said} and "" in _scalars(rec, leaf.field),
    ),
    (
        lambda c: "(the Sysmon pipeline drops '-' and empty values" in c,
        "'-' and empty values searched as no value (stated in the artifact's caveats)",
        lambda leaf, rec, said: leaf.field in {c.split(":")[0] for c in said}
        and isinstance(leaf.value, SigmaString) and leaf.value.s in ([], ["-"]) and not _scalars(rec, leaf.field),
    ),
    (
        lambda c: "an empty value is searched as 'no value'" in c,
        "an empty value searched as no value (stated in the artifact's caveats)",
        lambda leaf, rec, said: _is_empty_string(leaf.value) and not _scalars(rec, leaf.field),
    ),
    (
        lambda c: c.startswith("regex classes:"),
        "regex classes in ASCII (stated in the artifact's caveats)",
        lambda leaf, rec, said: isinstance(leaf.value, SigmaRegularExpression)
        and any(isinstance(v, str) and not v.isascii() for v in _scalars(rec, leaf.field)),
    ),
)
WIDER = "a wider search (stated in the artifact's caveats)"
WIDER_SAID = "so the search is wider"
"""What a caveat says of a search that may match more than Sigma (never less): Splunk's text null and
its filled-in errorCode. Other caveats may use the word (Elastic's regex classes say Python's are
wider, which makes Elastic's match narrower): only this statement excuses a match."""
NON_ASCII = "case folding outside ASCII"
PHRASE = "a phrase of tokens (stated in the artifact's caveats)"
_PHRASE_CAVEAT = re.compile(
    r"(?P<field>[^\s(]+) \(events whose (?P<key>\w+) is (?P<values>[^)]+)\): the query is a phrase query on "
    r"\S+, .*?tokens: runs of (?P<token>\[[^\]]+\]), with A-Z read as a-z\)"
)


@dataclass(frozen=True)
class _Phrase:
    """A field the artifact matches as a phrase of tokens, on the records its caveat names."""

    field: str
    key: str
    """The field whose value says whether a record is stored this way (its channel)."""
    values: frozenset[str]
    runs: re.Pattern[str]

    @classmethod
    def stated(cls, caveats: Sequence[str]) -> list[_Phrase]:
        out = []
        for caveat in caveats:
            found = _PHRASE_CAVEAT.match(caveat)
            if found:
                out.append(cls(found["field"], found["key"], frozenset(found["values"].split(" or ")),
                               re.compile(found["token"] + "+")))
        return out

    def tokens(self, text: str) -> str:
        """The text's tokens, lower-cased after the split, spaced and bounded by spaces."""
        return " " + " ".join(t.lower() for t in self.runs.findall(text)) + " "

    def verdict(self, leaf: Leaf, record: Record) -> bool | None:
        """The leaf as the phrase query answers it on this record (None: not a leaf it speaks of)."""
        if leaf.field != self.field or not any(v in self.values for v in _scalars(record, self.key)):
            return None
        value = leaf.value
        if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
            return None
        parts = value.s
        if len(parts) < 3 or parts[0] != parts[-1] or parts[0] != SpecialChars.WILDCARD_MULTI:
            return None
        if any(not isinstance(p, str) for p in parts[1:-1]):
            return None
        needle = self.tokens("".join(p for p in parts[1:-1] if isinstance(p, str)))
        if not needle.strip():
            return False  # a phrase of no token matches nothing
        return any(needle in self.tokens(text) for text in map(_indexed_text, _scalars(record, leaf.field)) if text)


def _indexed_text(value: Any) -> str | None:
    """The text an analysed field indexes for a JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return value if isinstance(value, str) else None


def stated_difference(
    caveats: Sequence[str], conditions: Conditions, record: Record, verdict: bool
) -> str | None:
    """The stated limit that explains a target's ``verdict`` on a raw record where the reference
    disagrees, or None if nothing the artifact states explains it."""
    if verdict and any(WIDER_SAID in c for c in caveats):
        return WIDER
    view = conditions.view(record)
    if view is None:  # the logsource does not admit the record: no leaf can explain a verdict
        return None
    record = view
    truths = conditions.truths(record)
    exact: set[int] = set()
    retold = False
    for phrase in _Phrase.stated(caveats):
        for leaf in conditions.leaves:
            answer = phrase.verdict(leaf, record)
            if answer is not None:
                exact.add(leaf.index)
                retold = retold or answer != truths[leaf.index]
                truths[leaf.index] = answer
    said_first = [PHRASE] if retold else []
    turnable: dict[int, str] = {}
    stated = [(name, turns, said) for says, name, turns in _STATED if (said := [c for c in caveats if says(c)])]
    for leaf in conditions.leaves:
        if leaf.index in exact:
            continue  # the phrase's verdict is exact: no other limit turns it
        for name, turns, said in stated:
            if turns(leaf, record, said):
                turnable.setdefault(leaf.index, name)
        if leaf.index not in turnable and _folding_outside_ascii(leaf, record):
            turnable[leaf.index] = NON_ASCII
    indices = sorted(turnable)
    if len(indices) <= _MAX_FLIPPABLE:  # the fewest leaves that explain it, for the report
        for size in range(0 if retold else 1, len(indices) + 1):
            for subset in itertools.combinations(indices, size):
                if conditions.verdict(truths, frozenset(subset)) == verdict:
                    return "; ".join(dict.fromkeys(said_first + [turnable[i] for i in subset]))
        return None
    if verdict in conditions.possible(truths, frozenset(indices)):
        return "; ".join(dict.fromkeys(said_first + [turnable[i] for i in indices]))
    return None
