"""TOML in the layout of Elastic's detection-rules repository, checked by re-parsing.

detection-rules writes rule files in one house style: keys sorted, ``query`` last in ``[rule]``
as a literal multi-line string, long prose in triple quotes, multi-line false positives as
indented blocks (the indentation is part of the stored value, as in Elastic's own files), arrays
of more than one item one per line. No TOML library writes that style, so this module does, and
every document it renders is parsed back with ``tomllib`` and compared with the data: a
mismatch is an error, never a silently different file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from compiler.errors import EmitError

INDENT = "    "


_PLAIN_BASIC = re.compile(r'[^\\"\x00-\x1f\x7f]*')
"""Text a basic string holds as it is (most values): no backslash, quote or control character."""


def basic(text: str) -> str:
    """A one-line TOML basic string."""
    if _PLAIN_BASIC.fullmatch(text):
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_PLAIN_MULTILINE = re.compile(r'[^\\"\r\x00-\x08\x0b-\x1f\x7f]*')
"""Text a multi-line string holds as it is: no backslash, quote, carriage return or control
character but tab and newline."""


def _multiline_body(text: str) -> str:
    if _PLAIN_MULTILINE.fullmatch(text):
        return text
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"' and (i + 1 == len(text) or text[i + 1] == '"'):
            out.append('\\"')  # never three quotes in a row, never a quote against the closing ones
        elif ch == "\r":
            out.append("\\r")
        elif ch in "\n\t":
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def multiline(text: str, *, leading_newline: bool) -> str:
    """A triple-quoted basic string; a newline right after the opening quotes is not part of it."""
    lead = "\n" if leading_newline or text.startswith("\n") else ""
    return '"""' + lead + _multiline_body(text) + '"""'


_NOT_LITERAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""A character a literal string cannot hold: a control character but tab and newline."""


def literal_block(text: str) -> str:
    """``'''`` on its own lines around the text, as detection-rules writes queries."""
    if "'''" in text or _NOT_LITERAL.search(text):
        return multiline(text, leading_newline=True)
    return "'''\n" + text + "'''"


def indented_block(text: str) -> str:
    """detection-rules' false-positive layout: each line indented, closing quotes indented too."""
    body = "\n".join(INDENT + _multiline_body(line) if line else "" for line in text.split("\n"))
    return '"""\n' + body + "\n" + INDENT + '"""'


def indented_value(text: str) -> str:
    """The value ``indented_block`` stores: the indentation and the last line's are part of it."""
    return "\n".join(INDENT + line if line else "" for line in text.split("\n")) + "\n" + INDENT


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return basic(value)
    raise EmitError(f"no TOML form for {type(value).__name__}")


def array(values: Sequence[Any], *, width: int = 120, key: str = "") -> str:
    rendered = [scalar(v) for v in values]
    inline = "[" + ", ".join(rendered) + "]"
    if len(values) <= 1 and len(key) + 3 + len(inline) <= width:
        return inline
    return "[\n" + "".join(f"{INDENT}{r},\n" for r in rendered) + "]"


def table(values: Mapping[str, Any]) -> str:
    """``key = value`` lines for scalars and arrays of scalars, keys in the given order."""
    return "".join(f"{k} = {array(v, key=k) if isinstance(v, list) else scalar(v)}\n" for k, v in values.items())


_VERBATIM = re.compile(r"[^\\\x00-\x08\x0b-\x1f\x7f]*")
"""A document with no backslash and no control character but tab and newline: every value in it
was written as it is, with no escape at all."""


def is_verbatim(text: str) -> bool:
    """Whether a document holds no escape (no backslash, no control character but tab and newline)."""
    return _VERBATIM.fullmatch(text) is not None


def is_literal(rendered: str) -> bool:
    """Whether ``literal_block`` wrote the text as a literal string: the text itself, backslashes
    included, between ``'''`` lines (it contains no ``'''`` and no control character but tab and newline)."""
    return rendered.startswith("'''\n")


def is_comment(block: str) -> bool:
    """Whether every line of a block is a TOML comment (``#`` first): a backslash in one is text."""
    return all(line.startswith("#") for line in block.split("\n") if line)


def check(
    text: str, expected: Mapping[str, Any], what: str, literals: Sequence[str] = (), comments: Sequence[str] = (),
) -> None:
    """Parse rendered TOML back and insist it holds exactly the intended data.

    Only documents that hold an escape are parsed: the escapes are where a writer can go wrong.
    In a document without one, every value stands verbatim between the quotes of the layout above
    (a quote inside a value or next to closing quotes, a control character, three quotes in a
    row: each is written with a backslash), and that layout is read back by the test suite.
    ``literals``: blocks of the document ``literal_block`` wrote as literal strings, ``comments``:
    comment lines; a backslash in either is the text's own, not an escape (a Windows query's paths,
    a caveat quoting one), so it alone does not make the document parsed (a control character
    still does: TOML allows none in either)."""
    probe = text
    for block in (*(b for b in literals if is_literal(b)), *(c for c in comments if is_comment(c))):
        probe = probe.replace(block, block.replace("\\", ""), 1)
    if is_verbatim(probe):
        return
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise EmitError(f"{what}: rendered TOML does not parse: {err}") from err
    if parsed != expected:
        raise EmitError(f"{what}: rendered TOML does not read back as the rule's data")
