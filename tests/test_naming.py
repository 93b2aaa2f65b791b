"""File names from rules: one safe path segment; artifact paths that cannot leave the output folder."""

from __future__ import annotations

import pytest

from compiler.errors import EmitError
from compiler.naming import check_relative, rule_stem, slug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aws_kms_key", "aws_kms_key"),
        ("a/b c", "a_b_c"),
        ("../../etc/passwd", "etc_passwd"),
        ("..", "rule"),
        ("", "rule"),
        ("é ü", "rule"),
        ("-._x._-", "x"),
    ],
    ids=["plain", "separators", "traversal", "dots-only", "empty", "non-ascii-only", "trimmed"],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_slug_is_bounded_and_takes_a_fallback() -> None:
    assert slug("x" * 500) == "x" * 120
    assert slug("///", fallback="unnamed") == "unnamed"


@pytest.mark.parametrize(
    ("path", "stem"),
    [
        ("sigma/aws/kms/aws_kms_imported_key_material_deleted.yml", "aws_kms_imported_key_material_deleted"),
        ("sigma\\aws\\rule one.yml", "rule_one"),
        ("rule.yaml", "rule"),
        ("rule.json", "rule.json"),
        ("sigma/..yml", "rule"),
    ],
    ids=["posix", "windows-separators", "yaml-suffix", "other-suffix-kept", "nothing-left"],
)
def test_rule_stem(path: str, stem: str) -> None:
    assert rule_stem(path) == stem


def test_check_relative_accepts_nested_paths() -> None:
    assert check_relative("elastic/rules.ndjson") == "elastic/rules.ndjson"
    assert check_relative("aws/patterns/x.json") == "aws/patterns/x.json"


@pytest.mark.parametrize(
    "path",
    ["", "/etc/passwd", "a/../b", "..", "./a", "a//b", "a/", "a\\b", "a\x00b"],
    ids=["empty", "absolute", "dot-dot", "parent", "dot", "empty-segment", "trailing-slash", "backslash", "nul"],
)
def test_check_relative_refuses_paths_that_could_escape(path: str) -> None:
    with pytest.raises(EmitError, match="unsafe artifact path"):
        check_relative(path)
