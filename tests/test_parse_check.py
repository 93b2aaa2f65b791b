"""Nothing ships that its platform cannot parse: IPv6 blocks in KQL, and build's grammar check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backends.elastic.kql_backend import KqlBackend
from compiler.build import compile_one
from compiler.cli import app
from compiler.errors import EvaluationError
from compiler.profile import DEFAULT_PROFILE
from compiler.target import load_registry
from tests.support import rule_dict

REGISTRY = load_registry()
KQL = REGISTRY.get("kql")
RULE_ID = "0b7c5a52-6f55-4d7e-9d7e-2f8f3c0f6a01"


def write_rule(folder: Path, blocks: list[str]) -> Path:
    data = rule_dict({"sel": {"sourceIPAddress|cidr": blocks}, "condition": "sel"}, id=RULE_ID)
    path = folder / "v6.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return path


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (["2001:db8::/32"], 'source.ip: "2001:db8::/32"'),
        (["::1/128"], 'source.ip: "::1/128"'),
        (["10.0.0.0/8"], 'source.ip: "10.0.0.0/8"'),
    ],
    ids=["ipv6", "ipv6-loopback", "ipv4"],
)
def test_kql_cidr_blocks_are_quoted_and_parse(tmp_path: Path, blocks: list[str], expected: str) -> None:
    from compiler.rules import load_rule

    query = compile_one(KQL, load_rule(write_rule(tmp_path, blocks)), DEFAULT_PROFILE).query
    assert query == f'data_stream.dataset: "aws.cloudtrail"\n    and {expected}'
    KQL.check_syntax(query)
    matcher = KQL.evaluator(query)
    inside = "2001:db8::7" if ":" in blocks[0] and blocks[0] != "::1/128" else "::1" if blocks[0] == "::1/128" else "10.1.2.3"
    outside = "2001:db9::7" if ":" in blocks[0] else "11.1.2.3"
    base = {"eventVersion": "1.08", "eventSource": "kms.amazonaws.com", "eventName": "DescribeKey",
            "eventTime": "2026-01-01T00:00:00Z", "awsRegion": "us-east-1", "eventType": "AwsApiCall"}
    assert matcher(KQL.shape({**base, "sourceIPAddress": inside}, DEFAULT_PROFILE))
    assert not matcher(KQL.shape({**base, "sourceIPAddress": outside}, DEFAULT_PROFILE))


def test_build_refuses_a_query_its_grammar_cannot_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The form detc wrote before (unquoted, cut at the first ':'): one line, exit 2, no output."""
    monkeypatch.setattr(KqlBackend, "cidr_expression", "{field}: {value}")
    rules = tmp_path / "rules"
    rules.mkdir()
    path = write_rule(rules, ["2001:db8::/32"])
    output = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["build", "--rules", str(rules), "--output", str(output), "--no-cache", "--jobs", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 2
    assert result.output == (
        f"{path}: {RULE_ID}: kql: the compiled query does not parse with the kql grammar: KQL does not parse at "
        "line 2, column 24: and source.ip: 2001:db8::/32 ^\n"
    )
    assert not output.exists()


@pytest.mark.parametrize("name", ["kql", "lucene", "eql", "spl", "eventbridge", "sigma"], ids=str)
def test_every_target_rejects_text_outside_its_grammar(name: str) -> None:
    target = REGISTRY.get(name)
    check = getattr(target, "check_syntax", None) or target.evaluator
    with pytest.raises(EvaluationError):
        check('source.ip: 2001:db8::/32) AND ((' if name != "eventbridge" else '{"detail": [')
