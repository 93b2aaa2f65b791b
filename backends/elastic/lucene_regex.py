"""Sigma values → Lucene regular expressions, for case-insensitive matching in query_string.

Elasticsearch keyword fields are case-sensitive and query_string has no case-insensitive switch,
but Lucene's regular expressions can spell every letter both ways (``[Kk][Mm][Ss]``). Lucene's
dialect (``org.apache.lucene.util.automaton.RegExp``) is anchored to the whole term and has no
``\\d``, ``\\w``, ``\\s``, ``\\b``, anchors, look-arounds or back-references; Sigma's ``|re`` is
Python-style and unanchored. This module writes Sigma strings and Sigma regexes in that dialect,
refusing what it cannot say exactly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from re import _constants as c
from re import _parser as sre_parse
from typing import Any

from sigma.types import SigmaRegularExpression, SigmaString

from compiler.patterns import (
    UnresolvedPlaceholder,
    python_regex_flags,
    sigma_string_pattern,
)

RESERVED = set('.?+*|{}[]()"\\#@&<>~')
"""Characters Lucene's RegExp gives a meaning (with query_string's default ALL syntax flags)."""
_CLASS_RESERVED = set("]\\-^[")
MAX_REGEX_LENGTH = 1000
"""Elasticsearch's default ``index.max_regex_length``: longer regexes are rejected at search time."""


class LuceneRegexError(ValueError):
    """A construct that Lucene's regular expressions cannot express exactly."""


def _lit(ch: str) -> str:
    return "\\" + ch if ch in RESERVED else ch


def _class_char(ch: str) -> str:
    return "\\" + ch if ch in _CLASS_RESERVED else ch


@functools.lru_cache(maxsize=4096)
def _folded(ch: str) -> str:
    """One character matching either case, when the character has exactly one other case."""
    lower, upper = ch.lower(), ch.upper()
    others = {x for x in (lower, upper) if len(x) == 1 and x != ch}
    if not others:
        return _lit(ch)
    return "[" + "".join(_class_char(x) for x in sorted({ch, *others})) + "]"


def has_letters(text: str) -> bool:
    return any(ch.lower() != ch.upper() for ch in text)


class _PerCharacter(dict[int, str]):
    """A ``str.translate`` table that fills itself from a per-character function on first use."""

    def __init__(self, char: Callable[[str], str]) -> None:
        super().__init__()
        self.char = char

    def __missing__(self, code: int) -> str:
        made = self[code] = self.char(chr(code))
        return made


_FOLD_TABLE = _PerCharacter(_folded)
_LITERAL_TABLE = _PerCharacter(_lit)


def sigma_string_regex(value: SigmaString, *, fold: bool = True) -> str:
    """A Sigma string (``*``/``?`` wildcards, otherwise literal) as a Lucene regex, case-insensitive
    unless ``fold`` is false (``|cased``)."""
    table = _FOLD_TABLE if fold else _LITERAL_TABLE
    try:
        regex = sigma_string_pattern(value, lambda text: text.translate(table))
    except UnresolvedPlaceholder as err:
        raise LuceneRegexError("unresolved placeholder") from err
    return _checked(regex)


def _checked(regex: str) -> str:
    if len(regex) > MAX_REGEX_LENGTH:
        raise LuceneRegexError(
            f"the Lucene regex would be {len(regex)} characters, over Elasticsearch's "
            f"index.max_regex_length of {MAX_REGEX_LENGTH}"
        )
    return regex


_CATEGORY = {
    c.CATEGORY_DIGIT: (False, "0-9"),
    c.CATEGORY_NOT_DIGIT: (True, "0-9"),
    c.CATEGORY_SPACE: (False, " \t\n\r\f\v"),
    c.CATEGORY_NOT_SPACE: (True, " \t\n\r\f\v"),
    c.CATEGORY_WORD: (False, "A-Za-z0-9_"),
    c.CATEGORY_NOT_WORD: (True, "A-Za-z0-9_"),
}
"""Python's classes as their ASCII sets (the caveat ``ascii_classes`` says so on the artifact)."""


class _Writer:
    def __init__(self, flags: int) -> None:
        self.ignorecase = bool(flags & re.IGNORECASE)
        self.dotall = bool(flags & re.DOTALL)
        self.multiline = bool(flags & re.MULTILINE)
        self.used_ascii_classes = False

    def seq(self, items: Any, ignorecase: bool) -> str:
        return "".join(self.item(op, av, ignorecase) for op, av in items)

    def item(self, op: Any, av: Any, ignorecase: bool) -> str:
        if op is c.LITERAL:
            return _folded(chr(av)) if ignorecase else _lit(chr(av))
        if op is c.NOT_LITERAL:
            chars = {chr(av)}
            if ignorecase:
                chars |= {x for x in (chr(av).lower(), chr(av).upper()) if len(x) == 1}
            return "[^" + "".join(_class_char(x) for x in sorted(chars)) + "]"
        if op is c.ANY:
            return "." if self.dotall else "[^\n]"
        if op is c.IN:
            return self.char_class(av, ignorecase)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):  # greed changes what is captured, not whether it matches
            low, high, sub = av
            inner = self.seq(sub, ignorecase)
            atom = len(sub) == 1 and sub[0][0] in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN, c.SUBPATTERN, c.BRANCH)
            if not atom:
                inner = "(" + inner + ")"
            if (low, high) == (0, c.MAXREPEAT):
                return inner + "*"
            if (low, high) == (1, c.MAXREPEAT):
                return inner + "+"
            if (low, high) == (0, 1):
                return inner + "?"
            if high == c.MAXREPEAT:
                return f"{inner}{{{low},}}"
            if low == high:
                return f"{inner}{{{low}}}"
            return f"{inner}{{{low},{high}}}"
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags & (re.MULTILINE | re.DOTALL) or del_flags & (re.MULTILINE | re.DOTALL):
                raise LuceneRegexError("inline m/s flags")
            folded = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            return "(" + self.seq(sub, folded) + ")"
        if op is c.BRANCH:
            return "(" + "|".join(self.seq(alt, ignorecase) for alt in av[1]) + ")"
        if op is c.AT:
            raise LuceneRegexError(f"anchor {av} inside the pattern")
        raise LuceneRegexError(f"{str(op).lower()} (Lucene regexes have no such construct)")

    def char_class(self, items: Any, ignorecase: bool) -> str:
        negate = bool(items) and items[0][0] is c.NEGATE
        members: list[str] = []
        negated_sets: list[str] = []
        for op, av in items[1:] if negate else items:
            if op is c.LITERAL:
                chars = {chr(av)}
                if ignorecase:
                    chars |= {x for x in (chr(av).lower(), chr(av).upper()) if len(x) == 1}
                members.extend(_class_char(x) for x in sorted(chars))
            elif op is c.RANGE:
                lo, hi = chr(av[0]), chr(av[1])
                members.append(f"{_class_char(lo)}-{_class_char(hi)}")
                if ignorecase and lo.isalpha() and hi.isalpha() and lo.islower() == hi.islower():
                    swap = str.upper if lo.islower() else str.lower
                    members.append(f"{_class_char(swap(lo))}-{_class_char(swap(hi))}")
            elif op is c.CATEGORY:
                self.used_ascii_classes = True
                neg, category = _CATEGORY[av]
                (negated_sets if neg else members).append(category)
            else:
                raise LuceneRegexError(f"character class item {op}")
        if negate:
            if negated_sets:
                raise LuceneRegexError("a negated class holding a negated class escape")
            return "[^" + "".join(members) + "]"
        parts = (["[" + "".join(members) + "]"] if members else []) + ["[^" + s + "]" for s in negated_sets]
        return parts[0] if len(parts) == 1 else "(" + "|".join(parts) + ")"


def sigma_regex_to_lucene(value: SigmaRegularExpression) -> tuple[str, bool]:
    """A Sigma ``|re`` value as an anchored Lucene regex; also whether ASCII classes were used."""
    flags = python_regex_flags(value)
    source = value.regexp.to_plain()
    try:
        parsed = sre_parse.parse(source, flags)
    except re.error as err:
        raise LuceneRegexError(f"invalid regular expression: {err}") from err
    flags |= parsed.state.flags
    writer = _Writer(flags)
    items = list(parsed)
    start_anchored = items[:1] in ([(c.AT, c.AT_BEGINNING)], [(c.AT, c.AT_BEGINNING_STRING)])
    if start_anchored:
        items = items[1:]
    end = items[-1] if items else None
    end_anchor = end in ((c.AT, c.AT_END), (c.AT, c.AT_END_STRING))
    if end_anchor:
        items = items[:-1]
    if writer.multiline and (start_anchored or end_anchor):
        raise LuceneRegexError("^ or $ with the multiline flag")
    body = writer.seq(items, writer.ignorecase)
    prefix = "" if start_anchored else ".*"
    if end_anchor:
        # Python's $ also matches just before a final newline; \Z only at the very end.
        suffix = "\n?" if end == (c.AT, c.AT_END) else ""
    else:
        suffix = ".*"
    return _checked(prefix + body + suffix), writer.used_ascii_classes
