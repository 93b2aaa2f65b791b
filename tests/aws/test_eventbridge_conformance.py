"""detc's EventBridge evaluator against AWS's own verdicts (corpus: ``eventbridge-aws-conformance``).

Each case was recorded against the real TestEventPattern API (LocalStack's AWS-validated snapshot):
a template name ending in ``_EXC`` means AWS rejected the pattern, ``_NEG`` means no match, otherwise
match. ``tests/data/eventbridge/conformance_extra_cases.json`` holds ten more cases from the same
recorded tests.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import json5
import pytest

from backends.aws.eventbridge_evaluator import evaluator
from compiler.errors import EvaluationError
from tests.support import DATA, corpus_ids

FOLDER = "eventbridge-aws-conformance"
EXTRA = DATA / "eventbridge" / "conformance_extra_cases.json"

KNOWN_EXCEPTIONS = {
    # AWS: "Rule is too complex - try using fewer wildcard characters or fewer repeating character
    # sequences after a wildcard character". The threshold of event-ruler's MachineComplexityEvaluator
    # that AWS applies is not documented, so detc does not guess it; the pattern is valid syntax.
    "content_wildcard_complex_EXC": "EXC",
}


@functools.cache
def _cases(corpus: Path) -> dict[str, tuple[str, Any, Any]]:
    """name -> (pattern text, event, expected) with expected one of True, False, "EXC"."""
    folder = corpus / FOLDER
    out: dict[str, tuple[str, Any, Any]] = {}
    for path in sorted((folder / "event_pattern_templates").glob("*.json5")):
        data = json5.loads(path.read_text(encoding="utf-8"))
        name = path.stem
        expected: Any = "EXC" if name.endswith("_EXC") else not name.endswith("_NEG")
        # LocalStack's recorder sent json.dumps of the parsed template to AWS; so do we.
        out[name] = (json.dumps(data["EventPattern"]), data["Event"], expected)
    for case in json.loads(EXTRA.read_text(encoding="utf-8"))["cases"]:
        if "event_file" in case:
            event = json.loads((folder / case["event_file"]).read_text(encoding="utf-8"))
        else:
            event = json.loads(case["event_raw"])
        out[f"extra:{case['name']}"] = (case["pattern_raw"], event, case["expected"])
    return out


def _verdict(pattern: str, event: Any) -> Any:
    try:
        matcher = evaluator(pattern)
    except EvaluationError:
        return "EXC"
    return matcher(event)


def test_corpus_has_all_165_cases(corpus: Path) -> None:
    cases = _cases(corpus)
    assert len(cases) == 165
    assert sum(1 for c in cases.values() if c[2] == "EXC") > 30  # the rejections are part of the proof


def test_agrees_with_aws_on_at_least_164_of_165(corpus: Path) -> None:
    cases = _cases(corpus)
    verdicts = {name: _verdict(pattern, event) for name, (pattern, event, _) in cases.items()}
    disagreements = {name: (cases[name][2], v) for name, v in verdicts.items() if v != cases[name][2]}
    assert set(disagreements) <= set(KNOWN_EXCEPTIONS), disagreements
    assert len(cases) - len(disagreements) >= 164


@pytest.mark.parametrize("name", corpus_ids(lambda corpus: list(_cases(corpus))), ids=str)
def test_case(corpus: Path, name: str) -> None:
    if name in KNOWN_EXCEPTIONS:
        pytest.xfail(f"documented exception: AWS verdict {KNOWN_EXCEPTIONS[name]}")
    pattern, event, expected = _cases(corpus)[name]
    assert _verdict(pattern, event) == expected
