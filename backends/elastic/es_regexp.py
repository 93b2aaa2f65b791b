"""Elasticsearch ``regexp`` queries: Lucene's RegExp syntax read into a Python pattern.

Shared by the evaluators whose languages end in a regexp query: Lucene's ``/…/`` in query_string
and EQL's ``regex``/``regex~``. The syntax is Lucene's ``org.apache.lucene.util.automaton.RegExp``
with the ALL flags Elasticsearch passes by default: anchored to the whole term, ``.`` matching
any character, ``"…"`` quoting, ``@`` any string, ``#`` the empty language, no ``\\d``-style
classes (an escaped character is that character). The case-insensitive form (EQL's ``regex~``,
``case_insensitive: true``) is Lucene's ``ASCII_CASE_INSENSITIVE`` flag: a single character or a
quoted string also matches its other ASCII case; ranges (``[a-z]``) are not folded
(``RegExp.toAutomaton``: ``REGEXP_CHAR`` and ``REGEXP_STRING`` go through
``toCaseInsensitiveChar``, which leaves code points above 128 alone; ``REGEXP_CHAR_RANGE`` does not).
"""

from __future__ import annotations

import re

from compiler.errors import EvaluationError


def _char(ch: str, fold: bool) -> str:
    """One literal character as a Python pattern, with its other ASCII case when folding."""
    if fold and ch.isascii() and ch.lower() != ch.upper():
        return "[" + ch.lower() + ch.upper() + "]"
    return re.escape(ch)


def lucene_regexp(source: str, *, fold_ascii: bool = False) -> re.Pattern[str]:
    """Lucene's RegExp syntax (ALL flags) as a Python pattern for a whole-value match."""
    out: list[str] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "\\":
            if i + 1 >= n:
                raise EvaluationError("regexp ends in a lone backslash")
            out.append(_char(source[i + 1], fold_ascii))
            i += 2
        elif ch == '"':
            end = source.find('"', i + 1)
            if end < 0:
                raise EvaluationError("regexp has an unterminated quoted string")
            out.append("(?:" + "".join(_char(c, fold_ascii) for c in source[i + 1 : end]) + ")")
            i = end + 1
        elif ch == "[":
            end, text = _regexp_class(source, i, fold_ascii)
            out.append(text)
            i = end
        elif ch == "(":
            out.append("(?:")
            i += 1
        elif ch in ").|*+?{}":
            if ch == "{":
                close = source.find("}", i)
                if close < 0 or not re.fullmatch(r"\d+(,\d*)?", source[i + 1 : close]):
                    raise EvaluationError(f"regexp has a malformed repeat at {i}")
                out.append(source[i : close + 1])
                i = close + 1
                continue
            out.append(ch)
            i += 1
        elif ch == "@":
            out.append(".*")
            i += 1
        elif ch == "#":
            out.append("(?!)")
            i += 1
        elif ch in "&~<>":
            raise EvaluationError(f"regexp operator {ch!r} (intersection, complement, interval) is not evaluated")
        else:
            out.append(_char(ch, fold_ascii))
            i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error as err:
        raise EvaluationError(f"invalid Lucene regexp {source!r}: {err}") from err


def _class_member(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch


def _regexp_class(source: str, start: int, fold: bool) -> tuple[int, str]:
    i = start + 1
    negate = i < len(source) and source[i] == "^"
    if negate:
        i += 1
    items: list[str] = []
    while i < len(source) and source[i] != "]":
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            ch = source[i + 1]
            i += 1
        i += 1
        if i + 1 < len(source) and source[i] == "-" and source[i + 1] != "]":
            hi = source[i + 1]
            if hi == "\\" and i + 2 < len(source):
                hi = source[i + 2]
                i += 1
            items.append(_class_member(ch) + "-" + _class_member(hi))  # a range: never folded
            i += 2
            continue
        items.append(_class_member(ch))
        if fold and ch.isascii() and ch.lower() != ch.upper():
            items.append(ch.swapcase())
    if i >= len(source):
        raise EvaluationError("regexp has an unterminated character class")
    return i + 1, "[" + ("^" if negate else "") + "".join(items) + "]"


_REGEXP_SPECIAL = frozenset('\\"[().|*+?{}@#&~<>')


def folded_literal(source: str) -> str | None:
    """For a regexp (ALL flags, no case folding) that spells one value with each ASCII letter as a
    class of its two cases (``[Kk][Mm][Ss]\\.amazonaws``, how detc's Lucene backend writes a
    case-insensitive string): that value ``ascii_folded``, which a text matches exactly when its
    own ``ascii_folded`` form is equal. None for any other regexp (a letter outside such a class is
    case-sensitive; operators, other classes and quoting are left to ``lucene_regexp``)."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "[":
            if i + 3 < n and source[i + 3] == "]" and _ascii_letter(source[i + 1]) and source[i + 2] == source[i + 1].swapcase():
                out.append(source[i + 1].lower())
                i += 4
                continue
            return None
        if ch == "\\":
            if i + 1 >= n:
                return None
            ch = source[i + 1]
            i += 2
        elif ch in _REGEXP_SPECIAL:
            return None
        else:
            i += 1
        if _ascii_letter(ch):
            return None
        out.append(ch)
    return "".join(out)


def _ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()
