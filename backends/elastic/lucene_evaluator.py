"""Run Lucene query_string text on stored documents, as Elasticsearch's query_string query would.

Parsing is luqum's; semantics are Lucene's classic query parser, which query_string uses:
clauses joined by AND/OR become MUST/SHOULD/MUST_NOT clauses of one boolean query (there is no
AND-over-OR precedence: ``a OR b AND c`` makes ``b`` and ``c`` required and ``a`` optional), the
default operator is OR, ``NOT``/``-`` prohibit, ``+`` requires, and a query of prohibitions only
matches everything else. Terms on keyword fields are exact and case-sensitive; ``*``/``?`` make a
wildcard query; ``"…"`` a phrase, which on a keyword is the exact value and on an analysed
``text`` field its tokens at consecutive positions (a term there is analysed too, and any of its
tokens matches under the default operator OR); ``/…/`` a regular
expression in Lucene's own dialect, anchored to the whole value; ``_exists_:f`` and ``f:*`` test
existence; ``[a TO b]``, ``{a TO b}`` and ``>=a`` are ranges.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import luqum.parser as luqum_parser
from luqum import tree as lt
from luqum.exceptions import ParseError
from luqum.parser import parser

from backends.elastic.es_regexp import folded_literal, lucene_regexp
from backends.elastic.es_semantics import Field, FieldTypes, any_field, field_names, glob_regex
from backends.elastic.index_mapping import field_spec
from compiler.errors import EvaluationError

Predicate = Callable[[Any], bool]
MUST, SHOULD, MUST_NOT = "must", "should", "must_not"


def _unescape_term(raw: str) -> list[tuple[str, str]]:
    """A query_string term as (kind, text) parts: backslash escapes anything; * and ? are wildcards."""
    parts: list[tuple[str, str]] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            parts.append(("lit", raw[i + 1]))
            i += 2
            continue
        if ch in "*?":
            parts.append((ch, ""))
        else:
            parts.append(("lit", ch))
        i += 1
    merged: list[tuple[str, str]] = []
    for kind, text in parts:
        if kind == "lit" and merged and merged[-1][0] == "lit":
            merged[-1] = ("lit", merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


def _unescape_phrase(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


def parse(query: str) -> Any:
    """luqum's syntax tree of the query; text it cannot parse is an EvaluationError. The last
    query's tree is kept (one entry): the build's syntax check and the evaluator read one query in
    turn, and never change the tree."""
    return _last_parse(query)


@functools.lru_cache(maxsize=1)
def _last_parse(query: str) -> Any:
    try:
        return _linear_parse(query)
    except (ParseError, Exception) as err:  # luqum raises ParseError or IllegalCharacterError
        raise EvaluationError(f"Lucene query does not parse: {err}") from err


def _linear_parse(query: str) -> Any:
    """luqum's parse, with its operand merging made linear.

    luqum 1.0's ``create_operation`` copies every operand of ``a OR b`` into a new operation at
    each ``OR`` of a chain, so a list of n values costs n²/2 copies (100,000 values: minutes).
    During this parse an operation the merge itself made is extended in place instead (nothing
    else holds it yet), which builds the same tree in linear time."""
    original = luqum_parser.create_operation

    def merge(cls: Any, a: Any, b: Any, op_tail: str = " ") -> Any:
        if isinstance(a, cls) and getattr(a, "_detc_open", False):
            right = list(b.operands) if isinstance(b, cls) else [b]
            right[0].head += op_tail
            a.operands.extend(right)
            return a
        made = original(cls, a, b, op_tail)
        made.operands = list(made.operands)
        made._detc_open = True
        return made

    luqum_parser.create_operation = merge
    try:
        return parser.parse(query)
    finally:
        luqum_parser.create_operation = original


class LuceneEvaluator:
    """A compiled query_string query: call it with a document."""

    def __init__(self, query: str, types: FieldTypes = field_spec) -> None:
        self.query = query
        self.types = types
        self._predicate = self._compile(parse(query), None)

    def __call__(self, doc: Any) -> bool:
        return self._predicate(doc)

    # --- boolean structure, as Lucene's classic QueryParser.addClause builds it ----------------

    def _flatten(self, node: lt.Item, conj: str | None) -> list[tuple[str | None, lt.Item]]:
        if isinstance(node, (lt.AndOperation, lt.OrOperation, lt.UnknownOperation)):
            op = "AND" if isinstance(node, lt.AndOperation) else "OR" if isinstance(node, lt.OrOperation) else None
            out: list[tuple[str | None, lt.Item]] = []
            for i, child in enumerate(node.children):
                out.extend(self._flatten(child, conj if i == 0 else op))
            return out
        return [(conj, node)]

    def _boolean(self, node: lt.Item, field: str | None) -> Predicate:
        occurs: list[tuple[str, lt.Item]] = []  # (occur, clause)
        for conj, item in self._flatten(node, None):
            mod = None
            while isinstance(item, (lt.Not, lt.Prohibit, lt.Plus)):
                mod = "req" if isinstance(item, lt.Plus) else "not"
                item = item.children[0]
            if conj == "AND" and occurs and occurs[-1][0] != MUST_NOT:
                occurs[-1] = (MUST, occurs[-1][1])
            prohibited = mod == "not"
            required = mod == "req" or (conj == "AND" and not prohibited)
            occur = MUST_NOT if prohibited else MUST if required else SHOULD
            occurs.append((occur, item))
        clauses = self._clauses(occurs, field)
        if len(clauses) == 1 and clauses[0][0] in (SHOULD, MUST):
            return clauses[0][1]
        must = [p for o, p in clauses if o == MUST]
        should = [p for o, p in clauses if o == SHOULD]
        must_not = [p for o, p in clauses if o == MUST_NOT]

        def boolean(doc: Any) -> bool:
            if any(p(doc) for p in must_not):
                return False
            if not all(p(doc) for p in must):
                return False
            if should and not must:
                return any(p(doc) for p in should)
            return True  # only prohibitions: Elasticsearch adds match_all

        return boolean

    def _clauses(self, occurs: list[tuple[str, lt.Item]], field: str | None) -> list[tuple[str, Predicate]]:
        """Each clause compiled, in order. Optional or prohibited clauses that test one field for
        one exact value (a term, a phrase, a regexp spelling one value in ``[Aa]`` classes) are
        answered together, by one set lookup per field and kind, at the first one's place: any of
        them matching is all such clauses ask, and building one regex per value of a long list
        costs far more than the list."""
        grouped: dict[tuple[str, str, str], list[str]] = {}
        keys: list[tuple[str, str, str] | None] = []
        for occur, item in occurs:
            member = self._exact_value(item, field) if occur != MUST else None
            key = (occur, member[0], member[1]) if member else None
            keys.append(key)
            if key and member:
                grouped.setdefault(key, []).append(member[2])
        out: list[tuple[str, Predicate]] = []
        done: set[tuple[str, str, str]] = set()
        for (occur, item), key in zip(occurs, keys, strict=True):
            if key is None or len(grouped[key]) == 1:
                out.append((occur, self._compile(item, field)))
            elif key not in done:  # the group, at its first member's place; the later members are in it
                done.add(key)
                _, name, kind = key
                target, values = Field(name, self.types), grouped[key]
                out.append((occur, target.any_term(values) if kind == "term" else target.any_folded(values)))
        return out

    def _exact_value(self, item: lt.Item, field: str | None) -> tuple[str, str, str] | None:
        """(field, kind, value) for a clause one set lookup can answer: kind ``term`` (an exact term
        on a keyword-like field) or ``folded`` (a value in ``[Aa]`` classes, ``ascii_folded``)."""
        if isinstance(item, lt.SearchField) and field is None:
            field, item = _unescape_field(item.name), item.expr
        if field is None or field == "_exists_" or "*" in field:
            return None
        if isinstance(item, lt.Regex):
            folded = folded_literal(item.value[1:-1])
            return (field, "folded", folded) if folded is not None else None
        text = _exact_text(item)
        if text is None or Field(field, self.types).spec.type not in ("keyword", "constant_keyword", "flattened"):
            return None
        return field, "term", text

    def _compile(self, node: lt.Item, field: str | None) -> Predicate:
        if isinstance(node, (lt.AndOperation, lt.OrOperation, lt.UnknownOperation, lt.Not, lt.Prohibit, lt.Plus)):
            return self._boolean(node, field)
        if isinstance(node, (lt.Group, lt.FieldGroup)):
            return self._boolean(node.children[0], field)
        if isinstance(node, lt.SearchField):
            if field is not None:
                raise EvaluationError(f"field {node.name} inside the field group of {field}")
            return self._compile(node.expr, _unescape_field(node.name))
        if isinstance(node, (lt.Word, lt.Phrase, lt.Regex, lt.Range, lt.From, lt.To)):
            return self._term(node, field)
        raise EvaluationError(f"unsupported query_string construct {type(node).__name__}: {node}")

    # --- term-level queries --------------------------------------------------------------------

    def _term(self, node: lt.Item, field: str | None) -> Predicate:
        if field == "_exists_":
            if not isinstance(node, lt.Word):
                raise EvaluationError("_exists_ takes a field name")
            name = _unescape_field(node.value)
            return self._on_fields(name, lambda f: f.exists)
        build = self._builder(node)
        if field is None:
            return lambda doc: any_field(doc, lambda f, d: build(f)(d), self.types)
        return self._on_fields(field, build)

    def _builder(self, node: lt.Item) -> Callable[[Field], Predicate]:
        if isinstance(node, lt.Phrase):
            phrase = _unescape_phrase(node.value)
            return lambda f: f.phrase(phrase)
        text = _exact_text(node)
        if text is not None:
            return lambda f: f.term(text)
        if isinstance(node, lt.Word):
            parts = _unescape_term(node.value)
            if parts == [("*", "")]:
                return lambda f: f.exists
            regex = glob_regex(parts)
            return lambda f: f.pattern(regex)
        if isinstance(node, lt.Regex):
            regex = lucene_regexp(node.value[1:-1])
            return lambda f: f.pattern(regex)
        if isinstance(node, lt.Range):
            low, high = _bound(node.low), _bound(node.high)
            lo_op = "gte" if node.include_low else "gt"
            hi_op = "lte" if node.include_high else "lt"

            def build_range(f: Field) -> Predicate:
                checks = [f.range(op, b) for op, b in ((lo_op, low), (hi_op, high)) if b is not None]
                return lambda doc: all(c(doc) for c in checks)

            return build_range
        if isinstance(node, (lt.From, lt.To)):
            bound = _bound(node.a)
            if bound is None:
                raise EvaluationError("an open comparison needs a value")
            if isinstance(node, lt.From):
                op = "gte" if node.include else "gt"
            else:
                op = "lte" if node.include else "lt"
            return lambda f: f.range(op, bound)
        raise EvaluationError(f"unsupported term {node}")  # pragma: no cover

    def _on_fields(self, name: str, build: Callable[[Field], Predicate]) -> Predicate:
        if "*" not in name:
            return build(Field(name, self.types))
        return lambda doc: any(build(Field(n, self.types))(doc) for n in field_names(doc, name))


def _exact_text(node: lt.Item) -> str | None:
    """The value of a term without wildcards or of a phrase (on a field other than text, an exact
    term query); None otherwise."""
    if isinstance(node, lt.Phrase):
        return _unescape_phrase(node.value)
    if isinstance(node, lt.Word):
        parts = _unescape_term(node.value)
        if any(kind != "lit" for kind, _ in parts):
            return None
        return parts[0][1] if parts else ""
    return None


def _bound(node: lt.Item) -> str | None:
    if isinstance(node, lt.Phrase):
        return _unescape_phrase(node.value)
    value = str(node.value if hasattr(node, "value") else node)
    if value == "*":
        return None
    return "".join(text for _, text in _unescape_term(value))


def _unescape_field(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def evaluator(query: str, types: FieldTypes = field_spec) -> Predicate:
    """Parse query_string text once; the predicate answers per document of a data stream with these
    field types."""
    return LuceneEvaluator(query, types)
