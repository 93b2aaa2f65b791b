"""Run KQL text on stored documents: parse with the kuery grammar, answer as Elasticsearch would.

Parsing is the lark grammar ``kql.lark``; semantics follow what Kibana sends for each node
(kbn-es-query ``kuery/functions/is.ts``): on keyword fields a quoted or plain value is a
case-sensitive ``term`` query and a value with ``*`` a ``wildcard`` query; on other fields a quoted
value is ``match_phrase`` and a plain one ``match`` (on ``text``: the value's analysed tokens in a
row, or any of them); ``field: *`` is ``exists``; a value without a field searches every field; ``not`` also matches documents that
lack the field. The query is compiled once into closures, then run per document.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from backends.elastic.es_semantics import Field, FieldTypes, any_field, field_names, glob_regex
from backends.elastic.index_mapping import field_spec
from compiler.errors import EvaluationError
from compiler.parse_tree import subtree, token

Predicate = Callable[[Any], bool]

_TRIM = frozenset(" \t\n\x0b\x0c\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {chr(c) for c in range(0x2000, 0x200B)}
"""What JavaScript's String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator),
which kuery applies to an unquoted literal."""
_ESCAPES = {"t": "\t", "r": "\r", "n": "\n"}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("kql.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=False, cache=True)


class KqlLiteral:
    """A parsed literal: its text parts, each plain or a ``*`` wildcard, and whether it was quoted."""

    def __init__(self, token: Token) -> None:
        raw = str(token)
        self.quoted = raw.startswith('"')
        self.parts: list[tuple[str, str]] = _quoted_parts(raw[1:-1]) if self.quoted else _unquoted_parts(raw)

    @property
    def has_wildcard(self) -> bool:
        return any(kind == "*" for kind, _ in self.parts)

    @property
    def is_lone_wildcard(self) -> bool:
        return self.parts == [("*", "")]

    @property
    def text(self) -> str:
        return "".join(text for kind, text in self.parts if kind == "lit")

    @property
    def pattern_text(self) -> str:
        return "".join("*" if kind == "*" else text for kind, text in self.parts)


def _quoted_parts(body: str) -> list[tuple[str, str]]:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and i + 5 < len(body) + 0 and _is_hex(body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt in '\\"':
                out.append(nxt)
                i += 2
                continue
        out.append(ch)
        i += 1
    return [("lit", "".join(out))]


def _is_hex(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


def _unquoted_parts(raw: str) -> list[tuple[str, str]]:
    chars: list[tuple[str, str]] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                chars.append(("lit", _ESCAPES[nxt]))
                i += 2
            elif nxt == "u" and _is_hex(raw[i + 2 : i + 6]):
                chars.append(("lit", chr(int(raw[i + 2 : i + 6], 16))))
                i += 6
            elif raw[i + 1 : i + 4].lower() in ("and", "not"):
                chars.append(("lit", raw[i + 1 : i + 4]))
                i += 4
            elif raw[i + 1 : i + 3].lower() == "or":
                chars.append(("lit", raw[i + 1 : i + 3]))
                i += 3
            else:
                chars.append(("lit", nxt))
                i += 2
        elif ch == "*":
            chars.append(("*", ""))
            i += 1
        else:
            chars.append(("lit", ch))
            i += 1
    # Kuery trims the joined sequence, escaped whitespace included (JavaScript's String.trim).
    while chars and chars[0][0] == "lit" and chars[0][1] in _TRIM:
        chars.pop(0)
    while chars and chars[-1][0] == "lit" and chars[-1][1] in _TRIM:
        chars.pop()
    parts: list[tuple[str, str]] = []
    for kind, text in chars:
        if kind == "lit" and parts and parts[-1][0] == "lit":
            parts[-1] = ("lit", parts[-1][1] + text)
        else:
            parts.append((kind, text))
    return parts


def parse(query: str) -> Tree[Token]:
    """The query's syntax tree; text kuery's grammar rejects is an EvaluationError. The last
    query's tree is kept (one entry): the build's syntax check, the Kibana import's field list
    and the evaluator read one query in turn, and never change the tree."""
    return _last_parse(query)


@lru_cache(maxsize=1)
def _last_parse(query: str) -> Tree[Token]:
    try:
        return _parser().parse(query)
    except UnexpectedInput as err:
        raise EvaluationError(f"KQL does not parse at line {err.line}, column {err.column}:\n"
                              f"{err.get_context(query)}") from err
    except LarkError as err:
        raise EvaluationError(f"KQL does not parse: {err}") from err


class KqlEvaluator:
    """A compiled KQL query: call it with a document."""

    def __init__(self, query: str, types: FieldTypes = field_spec) -> None:
        self.query = query
        self.types = types
        self._predicate = self._compile(parse(query))

    def __call__(self, doc: Any) -> bool:
        return self._predicate(doc)

    # --- queries -------------------------------------------------------------------------------

    def _compile(self, node: Tree[Token] | Token) -> Predicate:
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
            raise EvaluationError(f"unexpected token {node!r}")
        kind = node.data
        if kind == "start":  # an empty query matches everything
            return lambda doc: True
        if kind == "or_query":
            subs = [self._compile(c) for c in node.children if isinstance(c, Tree)]
            return lambda doc: any(p(doc) for p in subs)
        if kind == "and_query":
            subs = [self._compile(c) for c in node.children if isinstance(c, Tree)]
            return lambda doc: all(p(doc) for p in subs)
        if kind == "not_query":
            sub = self._compile(node.children[-1])
            return lambda doc: not sub(doc)
        if kind == "field_query":
            field, values = node.children
            return self._values(_field_pattern(subtree(field)), subtree(values))
        if kind == "range_query":
            field, op, bound = node.children
            return self._range(_field_pattern(subtree(field)), str(op), KqlLiteral(token(subtree(bound).children[0])))
        if kind == "free_text_query":
            literal = KqlLiteral(token(subtree(node.children[0]).children[0]))
            return lambda doc: any_field(doc, lambda f, d: self._is(f, literal)(d), self.types)
        if kind == "nested_query":
            raise EvaluationError("nested query: no field of this data stream has the nested type")
        raise EvaluationError(f"unsupported KQL construct {kind}")  # pragma: no cover

    def _values(self, field: KqlLiteral, node: Tree[Token]) -> Predicate:
        kind = node.data
        if kind == "or_list":
            subs = self._or_values(field, [c for c in node.children if isinstance(c, Tree)])
            return lambda doc: any(p(doc) for p in subs)
        if kind == "and_list":
            subs = [self._values(field, c) for c in node.children if isinstance(c, Tree)]
            return lambda doc: all(p(doc) for p in subs)
        if kind == "not_list":
            sub = self._values(field, subtree(node.children[-1]))
            return lambda doc: not sub(doc)
        if kind == "value":
            literal = KqlLiteral(token(node.children[0]))
            return self._on_fields(field, lambda f: self._is(f, literal))
        raise EvaluationError(f"unsupported KQL value construct {kind}")  # pragma: no cover

    def _or_values(self, field: KqlLiteral, nodes: list[Tree[Token]]) -> list[Predicate]:
        """The alternatives of ``field: (a or b or …)``; the exact terms among them on a keyword-like
        field (of a name without wildcards) are answered by one set lookup, at the first one's place
        (one test per value of a long list costs far more than the list)."""
        target = None if field.has_wildcard else Field(field.text, self.types)
        exact: dict[int, str] = {}
        if target is not None and target.spec.type in ("keyword", "constant_keyword", "flattened"):
            for i, node in enumerate(nodes):
                inner = _lone_value(node)
                literal = KqlLiteral(token(inner.children[0])) if inner is not None else None
                if literal is not None and not literal.has_wildcard and (literal.quoted or literal.text != "null"):
                    exact[i] = literal.text
        if len(exact) < 2 or target is None:
            return [self._values(field, node) for node in nodes]
        first = min(exact)
        return [
            target.any_term(exact.values()) if i == first else self._values(field, node)
            for i, node in enumerate(nodes)
            if i == first or i not in exact
        ]

    def _on_fields(self, field: KqlLiteral, build: Callable[[Field], Predicate]) -> Predicate:
        if not field.has_wildcard:
            predicate = build(Field(field.text, self.types))
            return predicate

        def over_matching_fields(doc: Any) -> bool:
            return any(build(Field(name, self.types))(doc) for name in field_names(doc, field.pattern_text))

        return over_matching_fields

    @staticmethod
    def _is(field: Field, literal: KqlLiteral) -> Predicate:
        if literal.is_lone_wildcard and not literal.quoted:
            return field.exists
        if literal.has_wildcard:
            return field.pattern(glob_regex(literal.parts))
        if not literal.quoted and literal.text == "null":
            raise EvaluationError(f"field {field.name}: KQL's null literal is not a value Elasticsearch can match")
        if literal.quoted:  # Kibana sends match_phrase where the field is not a keyword
            return field.phrase(literal.text)
        return field.term(literal.text)

    def _range(self, field: KqlLiteral, op: str, literal: KqlLiteral) -> Predicate:
        names = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
        if literal.has_wildcard:
            raise EvaluationError("a range bound cannot hold a wildcard")
        return self._on_fields(field, lambda f: f.range(names[op], literal.text))


def _lone_value(node: Tree[Token]) -> Tree[Token] | None:
    """The value a list alternative is (the grammar wraps each in a one-operand ``and_list``)."""
    while node.data in ("and_list", "or_list"):
        operands = [c for c in node.children if isinstance(c, Tree)]
        if len(operands) != 1:
            return None
        node = operands[0]
    return node if node.data == "value" else None


def _field_pattern(node: Tree[Token]) -> KqlLiteral:
    return KqlLiteral(token(node.children[0]))


def evaluator(query: str, types: FieldTypes = field_spec) -> Predicate:
    """Parse KQL once; the predicate answers per document of a data stream with these field types."""
    return KqlEvaluator(query, types)
