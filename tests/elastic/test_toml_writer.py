"""The detection-rules TOML writer, proven by Hypothesis: every value reads back as itself, and a
document the build does not re-parse (no escape in it) reads back right as well.

``check`` parses only documents that hold an escape; these properties are what make skipping
the others sound: for any text, a rendered value with no backslash or control character is the
text itself between quotes.
"""

from __future__ import annotations

import tomllib

from hypothesis import example, given
from hypothesis import strategies as st

from backends.elastic.toml_writer import (
    array,
    basic,
    check,
    indented_block,
    indented_value,
    is_verbatim,
    literal_block,
    multiline,
)

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
