"""How Elasticsearch answers term, wildcard, regexp, range, exists and phrase queries on a stored document.

Shared by the KQL and Lucene evaluators: both languages end in the same Elasticsearch queries
(Kibana turns KQL on keyword fields into ``term``/``wildcard`` queries, Lucene's query_string into
the same term-level queries). The document is the ``_source`` the ingest pipeline wrote; field
types come from the data stream's mapping (``index_mapping``). On an analysed ``text`` field a value
is analysed with the field's analyzer: a phrase (KQL's quoted value, Kibana's ``match_phrase``;
query_string's ``"…"``) matches where a stored value holds its tokens at consecutive positions, a
plain value (KQL's ``match``; a query_string term under the default operator OR) where it holds any
of them; a value without tokens matches nothing (``zero_terms_query: none``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from backends.elastic.index_mapping import FieldSpec, PatternAnalyzer, field_spec, flattened_root
from compiler.errors import EvaluationError

FieldTypes = Callable[[str], FieldSpec]
"""A data stream's mapping: the type of each field name (``index_mapping.field_spec`` for CloudTrail)."""

_MISSING = object()
_KEYWORD_LIKE = ("keyword", "constant_keyword", "flattened")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_folded(text: str) -> str:
    """``text`` with its ASCII letters lowered and every other character kept: two texts fold alike
    exactly when they differ only in the case of ASCII letters (Lucene's ASCII case folding; the
    ``[Aa]`` classes of detc's Lucene regexes; EQL's ``:``, ``like~``, ``in~``)."""
    return text.translate(_ASCII_LOWER)


class _Path:
    """A dotted field path, with the keys it may be stored under precomputed: at each depth, every
    run of the remaining parts joined by dots, longest first (``_source`` may hold dotted keys)."""

    def __init__(self, name: str) -> None:
        parts = name.split(".")
        self.depth = len(parts)
        self.keys = [
            [(".".join(parts[i:i + cut]), i + cut) for cut in range(len(parts) - i, 0, -1)]
            for i in range(len(parts))
        ]

    def walk(self, doc: Any) -> list[Any]:
        """Values at the path; arrays match any element, at any depth, in document order."""
        # Fast path: plain nested objects with no dotted keys on the way and no arrays.
        node, i, depth, keys = doc, 0, self.depth, self.keys
        while i < depth:
            if type(node) is not dict:
                if isinstance(node, (list, dict)):
                    return self._walk_all(doc)
                return []  # a scalar where the path goes on: nothing there
            candidates = keys[i]
            for key, _ in candidates[:-1]:
                if key in node:
                    return self._walk_all(doc)  # a dotted key on the way
            last_key, last_j = candidates[-1]  # the single next part
            if last_key not in node:
                return []
            node, i = node[last_key], last_j
        return self._walk_all(doc) if isinstance(node, list) else [node]

    def _walk_all(self, doc: Any) -> list[Any]:
        out: list[Any] = []
        stack: list[tuple[Any, int]] = [(doc, 0)]
        depth, keys = self.depth, self.keys
        while stack:
            node, i = stack.pop()
            if isinstance(node, list):
                stack.extend((item, i) for item in reversed(node))
            elif i == depth:
                out.append(node)
            elif isinstance(node, dict):
                found = [(node[key], j) for key, j in keys[i] if key in node]
                stack.extend(reversed(found))
        return out


def _leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item)
    elif node is not None:
        yield node


def leaf_paths(doc: Any, prefix: str = "") -> Iterator[str]:
    """Every field path in a document, leaves and objects (for wildcard field names)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{prefix}{key}"
            yield path
            yield from leaf_paths(value, path + ".")
    elif isinstance(doc, list):
        for item in doc:
            yield from leaf_paths(item, prefix)


def keyword_text(value: Any) -> str | None:
    """The term a keyword (or flattened leaf) indexes for a JSON value; None for objects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return None


class Field:
    """One field of a document as a query sees it: its type and its indexed values."""

    def __init__(self, name: str, types: FieldTypes = field_spec) -> None:
        self.name = name
        self.types = types
        self.spec: FieldSpec = types(name)
        self.root = flattened_root(name)
        self.path = _Path(name)
        self._keyword = self.spec.type in ("keyword", "constant_keyword")

    def values(self, doc: Any) -> list[Any]:
        raw = self.path.walk(doc)
        if self._keyword and len(raw) == 1 and type(raw[0]) is str:  # the common case, fast
            limit = self.spec.ignore_above
            return raw if limit is None or len(raw[0]) <= limit else []
        if self.spec.type == "flattened":
            flat = [leaf for value in raw for leaf in _leaves(value)]
            return [t for t in (keyword_text(v) for v in flat) if t is not None]
        out: list[Any] = []
        for value in raw:
            if value is None or isinstance(value, (dict, list)):
                continue
            if self.spec.type in ("keyword", "constant_keyword"):
                text = keyword_text(value)
                if text is None or (self.spec.ignore_above is not None and len(text) > self.spec.ignore_above):
                    continue  # not indexed: Elasticsearch keeps it in _source only
                out.append(text)
            else:
                out.append(value)
        return out

    def exists(self, doc: Any) -> bool:
        if self.values(doc):
            return True
        # An object field "exists" when any field below it does (exists query on an object).
        return any(
            Field(f"{self.name}.{sub}", self.types).values(doc)
            for obj in self.path.walk(doc)
            if isinstance(obj, dict)
            for sub in obj
        )

    def _error(self, message: str) -> EvaluationError:
        return EvaluationError(f"field {self.name} ({self.spec.type}): {message}")

    def term(self, text: str) -> Callable[[Any], bool]:
        """An exact term: case-sensitive on keywords; ip accepts CIDR; booleans and numbers parse; on
        text, any of the value's tokens (a ``match`` query)."""
        kind = self.spec.type
        if kind == "text":
            terms = set(self._analyzer().tokens(text))
            return lambda doc: any(terms.intersection(tokens) for tokens in self._tokens(doc))
        if kind in ("keyword", "constant_keyword", "flattened"):
            return lambda doc: text in self.values(doc)
        if kind == "ip":
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError as err:
                raise self._error(f"{text!r} is not an IP address or CIDR block") from err
            return lambda doc: any(_ip_in(v, network) for v in self.values(doc))
        if kind == "boolean":
            if text not in ("true", "false"):
                raise self._error(f"{text!r} is not a boolean")
            wanted = text == "true"
            return lambda doc: any(_as_bool(v) is wanted for v in self.values(doc))
        if kind == "long":
            number = self._number(text)
            return lambda doc: any(_as_number(v) == number for v in self.values(doc))
        if kind == "date":
            instant = _parse_date(text)
            if instant is None:
                raise self._error(f"{text!r} is not a date")
            return lambda doc: any(_parse_date(v) == instant for v in self.values(doc))
        raise self._error("term queries are not supported on this type")

    def any_term(self, texts: Iterable[str]) -> Callable[[Any], bool]:
        """Any of several exact terms, as an OR of ``term`` would answer; on keyword-like fields one
        set lookup instead of one test per term (a long value list)."""
        if self.spec.type in _KEYWORD_LIKE:
            wanted = frozenset(texts)
            return lambda doc: not wanted.isdisjoint(self.values(doc))
        checks = [self.term(text) for text in texts]
        return lambda doc: any(check(doc) for check in checks)

    def any_folded(self, keys: Iterable[str]) -> Callable[[Any], bool]:
        """Any of several whole values, ASCII letters in either case (``keys`` are ``ascii_folded``):
        what an OR of ``pattern`` with each value's ``[Aa]``-class regex answers, by one set lookup."""
        if self.spec.type not in _KEYWORD_LIKE:
            raise self._error("wildcard and regexp queries need a keyword field")
        wanted = frozenset(keys)
        return lambda doc: any(ascii_folded(v) in wanted for v in self.values(doc))

    def phrase(self, text: str) -> Callable[[Any], bool]:
        """A quoted value: on text, its tokens at consecutive positions of one stored value (a
        ``match_phrase``); on every other type the same query as the unquoted value."""
        if self.spec.type != "text":
            return self.term(text)
        wanted = self._analyzer().tokens(text)
        if not wanted:
            return lambda doc: False
        needle = " " + " ".join(wanted) + " "  # tokens hold no space: a run of them is a substring
        return lambda doc: any(needle in " " + " ".join(tokens) + " " for tokens in self._tokens(doc))

    def _analyzer(self) -> PatternAnalyzer:
        if self.spec.analyzer is None:
            raise self._error("its analyzer (standard) is not modelled; detc compiles no query on it")
        return self.spec.analyzer

    def _tokens(self, doc: Any) -> list[tuple[str, ...]]:
        analyzer = self._analyzer()
        return [analyzer.tokens(t) for t in (keyword_text(v) for v in self.values(doc)) if t is not None]

    def pattern(self, regex: re.Pattern[str]) -> Callable[[Any], bool]:
        """A wildcard or regexp query: the whole indexed term must match (keyword-like fields only)."""
        if self.spec.type not in _KEYWORD_LIKE:
            raise self._error("wildcard and regexp queries need a keyword field")
        return lambda doc: any(regex.fullmatch(v) for v in self.values(doc))

    def range(self, op: str, text: str) -> Callable[[Any], bool]:
        """A range: text order on keywords (so '10' < '8'), numeric order on numbers, time on dates."""
        kind = self.spec.type
        compare = _COMPARE[op]
        if kind in ("keyword", "constant_keyword", "flattened"):
            bound = text.encode("utf-8")
            return lambda doc: any(compare(v.encode("utf-8"), bound) for v in self.values(doc))
        if kind == "long":
            number = self._number(text)
            return lambda doc: any(
                (n := _as_number(v)) is not None and compare(n, number) for v in self.values(doc)
            )
        if kind == "date":
            instant = _parse_date(text)
            if instant is None:
                raise self._error(f"{text!r} is not a date")
            return lambda doc: any(
                (d := _parse_date(v)) is not None and compare(d, instant) for v in self.values(doc)
            )
        if kind == "ip":
            try:
                address = ipaddress.ip_address(text)
            except ValueError as err:
                raise self._error(f"{text!r} is not an IP address") from err
            return lambda doc: any(
                (a := _as_ip(v)) is not None and a.version == address.version and compare(a, address)
                for v in self.values(doc)
            )
        raise self._error("range queries are not supported on this type")

    def _number(self, text: str) -> float:
        try:
            return float(text)
        except ValueError as err:
            raise self._error(f"{text!r} is not a number") from err


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


def _as_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _ip_in(value: Any, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    address = _as_ip(value)
    return address is not None and address.version == network.version and address in network


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def glob_regex(parts: list[tuple[str, str]]) -> re.Pattern[str]:
    """A full-match regex from (kind, text) parts: kind 'lit' literal, '*' any run, '?' one char."""
    out = []
    for kind, text in parts:
        if kind == "*":
            out.append(".*")
        elif kind == "?":
            out.append(".")
        else:
            out.append(re.escape(text))
    return re.compile("".join(out), re.DOTALL)


def field_names(doc: Any, pattern: str) -> list[str]:
    """Field names a wildcard field pattern (``aws.cloudtrail.*``) resolves to in a document."""
    regex = glob_regex([("*", "") if p == "" else ("lit", p) for p in _split_star(pattern)])
    return sorted({p for p in leaf_paths(doc) if regex.fullmatch(p)})


def _split_star(pattern: str) -> list[str]:
    pieces = pattern.split("*")
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if i:
            out.append("")
        if piece:
            out.append(piece)
    return out


def any_field(doc: Any, match: Callable[[Field, Any], bool], types: FieldTypes = field_spec) -> bool:
    """Free text: true when the query matches any field of the document (lenient on type errors)."""
    for name in sorted(set(leaf_paths(doc))):
        field = Field(name, types)
        try:
            if match(field, doc):
                return True
        except EvaluationError:
            continue  # multi_match / query_string run leniently over mixed field types
    return False
