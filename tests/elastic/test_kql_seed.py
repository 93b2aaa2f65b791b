"""The compiled KQL for the seed rule finds exactly what Elastic's own seed query finds."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from backends.elastic.target import KqlTarget
from compiler.build import compile_one
from compiler.logsources import find
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from tests.support import SEED_ELASTIC_TOML, SEED_RULE, SEED_TESTS

TARGET = KqlTarget()


def seed_query() -> str:
    return tomllib.loads(SEED_ELASTIC_TOML.read_text())["rule"]["query"]


def _records(corpus: Path) -> list[tuple[str, dict]]:
    """Every fixture case plus real KMS and pipeline-test records, mutated towards the rule."""
    records = [(c["name"], c["event"]) for c in yaml.safe_load(SEED_TESTS.read_text())["cases"]]
    for path in sorted((corpus / "cloudtrail" / "aws-docs-kms").glob("ct-*.json")):
        data = json.loads(path.read_text())
        for i, rec in enumerate(data if isinstance(data, list) else [data]):
            if isinstance(rec, dict):
                records.append((f"{path.name}#{i}", rec))
    for path in sorted((corpus / "elastic-integration-cloudtrail" / "_dev" / "test" / "pipeline").glob("*.log")):
        for i, line in enumerate(path.read_text().splitlines()):
            if line.strip():
                records.append((f"{path.name}#{i}", json.loads(line)))
    # Turn every record into a DeleteImportedKeyMaterial call too, so the identity and error parts
    # of both queries are exercised on real shapes, not only on the seed fixtures.
    mutated = []
    for name, rec in records:
        clone = json.loads(json.dumps(rec))
        clone["eventSource"] = "kms.amazonaws.com"
        clone["eventName"] = "DeleteImportedKeyMaterial"
        mutated.append((f"{name} as DeleteImportedKeyMaterial", clone))
    return records + mutated


def test_kql_seed_query_is_read_from_the_seed_file() -> None:
    query = seed_query()
    assert query.startswith('data_stream.dataset: "aws.cloudtrail"')
    assert 'event.outcome: "success"' in query


def test_kql_seed_equivalence_on_every_fixture() -> None:
    compiled = compile_one(TARGET, load_rule(SEED_RULE), DEFAULT_PROFILE).query
    ours, elastic = TARGET.evaluator(compiled), TARGET.evaluator(seed_query())
    cases = yaml.safe_load(SEED_TESTS.read_text())["cases"]
    assert len(cases) >= 10
    for case in cases:
        doc = TARGET.shape(case["event"], DEFAULT_PROFILE)
        assert ours(doc) is elastic(doc), case["name"]


def test_kql_seed_equivalence_on_every_shaped_record(corpus: Path) -> None:
    seed = load_rule(SEED_RULE)
    compiled = compile_one(TARGET, seed, DEFAULT_PROFILE).query
    ours = TARGET.evaluator(compiled)
    elastic = TARGET.evaluator(seed_query())
    cloudtrail = find(seed.sigma.logsource)  # some corpus files are whole log files ({"Records": [...]})
    without_outcome = TARGET.evaluator(seed_query().replace('    and event.outcome: "success"\n', ""))
    verdicts = {True: 0, False: 0}
    message_only = 0
    for name, record in _records(corpus):
        doc = TARGET.shape(record, DEFAULT_PROFILE, cloudtrail)
        if "errorMessage" in record and "errorCode" not in record:
            # ConsoleLogin failures carry an errorMessage and no errorCode. The pipeline calls that a
            # failure; Sigma's "errorCode: null" holds. Only the outcome clause may differ.
            assert ours(doc) is without_outcome(doc) and not elastic(doc), name
            message_only += 1
            continue
        assert ours(doc) is elastic(doc), name
        verdicts[ours(doc)] += 1
    assert verdicts[True] >= 10 and verdicts[False] >= 50  # both verdicts are exercised
    assert message_only >= 1


@pytest.mark.parametrize("mutation", ["errorMessage", "errorCode"], ids=str)
def test_kql_seed_equivalence_holds_for_failures(mutation: str) -> None:
    compiled = compile_one(TARGET, load_rule(SEED_RULE), DEFAULT_PROFILE).query
    base = yaml.safe_load(SEED_TESTS.read_text())["cases"][0]["event"]
    record = dict(base, **{mutation: "AccessDenied"})
    doc = TARGET.shape(record, DEFAULT_PROFILE)
    if mutation == "errorMessage":
        # The ingest pipeline marks an error message without a code as a failure; Sigma's
        # "errorCode: null" still holds, so the compiled query (Sigma's meaning) matches and the
        # seed's event.outcome test does not. API call failures carry an errorCode.
        assert TARGET.evaluator(compiled)(doc) and not TARGET.evaluator(seed_query())(doc)
    else:
        assert not TARGET.evaluator(compiled)(doc) and not TARGET.evaluator(seed_query())(doc)


def test_seed_toml_is_complete() -> None:
    text = SEED_ELASTIC_TOML.read_text()
    assert text.startswith("[metadata]\n")
    assert text.rstrip().endswith("]")
    assert tomllib.loads(text)["rule"]["rule_id"] == load_rule(SEED_RULE).id
