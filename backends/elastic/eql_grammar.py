"""The EQL grammar of Elastic's ``eql`` package (``eql/etc/eql.g``), as a lark parser of detc's own.

The package builds its parser from this grammar when it is imported (a third of a second, with
no cache); a build only needs the grammar's verdict on each compiled query, so it reads the
grammar file of the installed package without importing it, and lets lark cache the parse tables.
The evaluator parses the same text with the same grammar, after the package's own full check.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from lark import Lark, Tree
from lark.exceptions import LarkError, UnexpectedInput

from compiler.errors import EvaluationError


def grammar_path() -> Path:
    """``etc/eql.g`` of the installed ``eql`` package (found without running the package)."""
    spec = importlib.util.find_spec("eql")
    if spec is None or not spec.submodule_search_locations:
        raise EvaluationError("the eql package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "etc" / "eql.g"


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """LALR, as the package builds it; lark keeps the analysed tables in its temp-file cache."""
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", start=["piped_query", "field_parts"], cache=True)


def parse(query: str, start: str = "piped_query") -> Tree:
    """The parse tree of EQL text; text the grammar rejects is an EvaluationError with its place."""
    try:
        return parser().parse(query if query.endswith("\n") else query + "\n", start=start)
    except UnexpectedInput as err:
        raise EvaluationError(f"EQL does not parse at line {err.line}, column {err.column}:\n{err.get_context(query)}") from err
    except LarkError as err:
        raise EvaluationError(f"EQL does not parse: {err}") from err
