"""Typed reads of a lark parse tree: a child the grammar makes a token, or a rule's subtree.

lark types a child as ``Token | Tree[Token]``; where the grammar allows only one of the two, these
read it as that (the evaluators of KQL, EQL and SPL walk their trees with them). Anything else is a
disagreement between the grammar and the code walking it: TypeError.
"""

from __future__ import annotations

from lark import Token, Tree


def token(child: Token | Tree[Token]) -> Token:
    """A child the grammar makes a terminal."""
    if isinstance(child, Token):
        return child
    raise TypeError(f"the rule {child.data} where the grammar has a token")


def subtree(child: Token | Tree[Token]) -> Tree[Token]:
    """A child the grammar makes a rule."""
    if isinstance(child, Tree):
        return child
    raise TypeError(f"the token {child.type} where the grammar has a rule")
