"""Typed reads of a lark parse tree: a token or a subtree where the grammar puts one, else TypeError."""

from __future__ import annotations

import pytest
from lark import Lark

from compiler.parse_tree import subtree, token

GRAMMAR = Lark(
    """
    start: pair
    pair: NAME "=" value
    value: NAME
    NAME: /[a-z]+/
    %ignore " "
    """
)


def test_reads_a_token_and_a_subtree() -> None:
    pair = subtree(GRAMMAR.parse("a = b").children[0])
    assert pair.data == "pair"
    name, value = pair.children
    assert token(name) == "a"
    assert token(name).type == "NAME"
    assert token(subtree(value).children[0]) == "b"


def test_a_subtree_where_a_token_is_expected() -> None:
    pair = subtree(GRAMMAR.parse("a = b").children[0])
    with pytest.raises(TypeError, match="^the rule value where the grammar has a token$"):
        token(pair.children[1])


def test_a_token_where_a_subtree_is_expected() -> None:
    pair = subtree(GRAMMAR.parse("a = b").children[0])
    with pytest.raises(TypeError, match="^the token NAME where the grammar has a rule$"):
        subtree(pair.children[0])
