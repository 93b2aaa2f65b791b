"""The detection-rules TOML writer, proven by Hypothesis: every value reads back as itself, and a
document the build does not re-parse (no escape in it) reads back right as well.

``check`` parses only documents that hold an escape; these properties are what make skipping
the others sound: for any text, a rendered value with no backslash or control character is the
text itself between quotes.
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from backends.elastic.toml_writer import (
    array,
    basic,
    check,
    indented_block,
    indented_value,
    is_literal,
    is_verbatim,
    literal_block,
    multiline,
)
from compiler.errors import EmitError

# Any Unicode text a YAML rule can hold: no surrogates (not UTF-8), everything else allowed.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
TRICKY = st.text(st.sampled_from(list("ab \t\n\r\"'\\\x01\x7f\u0085\u2028é")), max_size=20)
ANY_TEXT = st.one_of(TEXT, TRICKY)


def _reads_back(doc: str, expected: dict[str, object]) -> None:
    assert tomllib.loads(doc) == expected
    check(doc, expected, "property")  # never raises for a right document, parsed or not


@given(ANY_TEXT)
@example('"""')
@example("''' \\")
@example("x\r\ny")
def test_every_value_form_reads_back(text: str) -> None:
    _reads_back(f"a = {basic(text)}\n", {"a": text})
    _reads_back(f"a = {multiline(text, leading_newline=True)}\n", {"a": text})
    _reads_back(f"a = {multiline(text, leading_newline=False)}\n", {"a": text})
    _reads_back(f"a = {literal_block(text)}\n", {"a": text})
    _reads_back(f"a = [\n    {indented_block(text)},\n]\n", {"a": [indented_value(text)]})


@given(st.lists(ANY_TEXT, max_size=4))
def test_arrays_read_back(values: list[str]) -> None:
    _reads_back(f"a = {array(values, key='a')}\n", {"a": values})


@given(ANY_TEXT)
def test_a_document_without_escapes_holds_each_value_verbatim(text: str) -> None:
    for rendered in (basic(text), multiline(text, leading_newline=True), literal_block(text)):
        doc = f"a = {rendered}\n"
        if is_verbatim(doc):
            # Unchecked by the build: it must then be the text itself between the quotes.
            assert text in rendered
            assert tomllib.loads(doc) == {"a": text}


@given(ANY_TEXT)
@example("C:\\Windows\\System32\\cmd.exe")
@example("a'")
@example("''")
def test_a_literal_block_holds_the_text_verbatim(text: str) -> None:
    """``check`` does not count a literal block's backslashes as escapes: the block must then be
    the text itself between its quote lines, and read back as the text."""
    rendered = literal_block(text)
    doc = f"a = {rendered}\n"
    if is_literal(rendered):
        assert rendered == "'''\n" + text + "'''"
        assert tomllib.loads(doc) == {"a": text}
    check(doc, {"a": text}, "property", literals=(rendered,))


def test_a_literal_block_alone_is_not_parsed_but_an_escape_beside_it_is() -> None:
    """A wrong value beside a literal block is caught (the document is parsed); a document whose
    only backslashes are in a literal block is not parsed at all (a wrong claim passes unseen, as
    for any verbatim document: the properties above are what make that sound)."""
    query = literal_block("process.executable: C\\:\\\\Windows\\\\cmd.exe")
    assert is_literal(query)
    check(f"query = {query}\n", {"query": "not what it holds"}, "unparsed", literals=(query,))
    note = basic("a\\b")
    doc = f"note = {note}\nquery = {query}\n"
    with pytest.raises(EmitError, match="does not read back"):
        check(doc, {"note": "a\\b", "query": "not what it holds"}, "parsed", literals=(query,))



def test_comment_lines_need_no_parse_for_their_backslashes_only() -> None:
    """A backslash in a comment is text (the caveats quote Windows paths): a document whose only
    backslashes are in comment lines is not parsed; a control character in a comment is not TOML,
    so that document is parsed, and fails; a block that is not all comment lines is no exemption."""
    comment = "# Caveat: C:\\Windows\\System32\\CMD.EXE\n# and cmd.exe\n"
    check(comment + 'a = "x"\n', {"a": "not what it holds"}, "unparsed", comments=(comment,))
    bad = "# a \\ and a \x01\n"
    with pytest.raises(EmitError, match="does not parse"):
        check(bad + 'a = "x"\n', {"a": "x"}, "control", comments=(bad,))
    not_comment = 'b = "C:\\\\x"\n'
    with pytest.raises(EmitError, match="does not read back"):
        check(not_comment + 'a = "x"\n', {"a": "x", "b": "other"}, "not a comment", comments=(not_comment,))
